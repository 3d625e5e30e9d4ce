"""Every CLI command end to end on tiny data (typer's runner, same process)."""

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.main import create_app
from app.settings import Settings
from data.formats import write_jsonl
from model.predictor import Predictor
from training.cli import app

runner = CliRunner()


def test_train_writes_a_model_and_prints_a_report(tiny_examples, tmp_path) -> None:
    data = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_examples, data)
    out = tmp_path / "model"
    result = runner.invoke(
        app,
        [
            "train",
            "--train",
            str(data),
            "--dev",
            str(data),
            "--out",
            str(out),
            "--epochs",
            "2",
            "--word-dim",
            "8",
            "--hidden-dim",
            "8",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "micro avg" in result.stdout
    assert (out / "weights.safetensors").is_file()


def test_evaluate_json_has_the_documented_keys(tiny_model_dir, tiny_examples, tmp_path) -> None:
    data = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_examples, data)
    result = runner.invoke(
        app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["sentences"] == 20
    assert set(report["micro"]) == {"precision", "recall", "f1", "support"}
    assert set(report["labels"]) == {"departure", "destination", "date"}


def test_tag_arguments_give_one_json_line_each_in_order(tiny_model_dir) -> None:
    result = runner.invoke(
        app,
        [
            "tag",
            "--model",
            str(tiny_model_dir),
            "leave Beijing on November 2nd",
            "thank you",
            "--reference-date",
            "2026-11-23",
        ],
    )
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["text"] == "leave Beijing on November 2nd"
    assert [(s["label"], s["text"], s["start"], s["end"]) for s in first["spans"]] == [
        ("departure", "Beijing", 6, 13),
        ("date", "November 2nd", 17, 29),
    ]
    assert first["spans"][0]["value"]["iata"] == ["PEK", "PKX", "NAY"]
    assert first["spans"][1]["value"] == {"type": "date", "date": "2027-11-02", "grain": "day"}
    assert second == {"text": "thank you", "spans": []}


def test_tag_with_an_unknown_timezone_is_a_clear_error(tiny_model_dir) -> None:
    result = runner.invoke(
        app, ["tag", "--model", str(tiny_model_dir), "--timezone", "Nowhere", "hi"]
    )
    assert result.exit_code == 2
    assert "error: unknown timezone 'Nowhere'" in result.output


def test_tag_reads_stdin_lines_and_json_objects(tiny_model_dir) -> None:
    stdin = 'arrive Boston on Monday\n{"text": "from Miami to Atlanta", "id": 3}\n{not json\n\n'
    result = runner.invoke(
        app, ["tag", "--model", str(tiny_model_dir), "--batch-size", "2"], input=stdin
    )
    assert result.exit_code == 1, result.output  # the broken JSON line failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("text") for line in lines] == [
        "arrive Boston on Monday",
        "from Miami to Atlanta",
        None,
        "",
    ]
    assert lines[1]["spans"][0]["label"] == "departure"
    assert lines[2] == {
        "line": 3,
        "error": "line starts with '{' but is not JSON (Expecting property name enclosed in "
        "double quotes, column 2)",
    }


def test_a_bad_line_gets_an_error_object_and_the_rest_goes_on(tiny_model_dir) -> None:
    stdin = b"".join(
        [
            b"leave Boston on Monday\n",
            b'{"text": "bad \\ud800 half"}\n',  # a lone surrogate, escaped in JSON
            b"caf\xe9 in latin-1\n",  # not UTF-8
            b'{"id": 3}\n',
            b"a" * 200 + b"\n",  # over --max-line-bytes
            b"[1, 2]\n",  # JSON, but not an object: a text like any other
            b"from Miami to Atlanta",  # no final newline
        ]
    )
    result = runner.invoke(
        app,
        ["tag", "--model", str(tiny_model_dir), "--batch-size", "2", "--max-line-bytes", "100"],
        input=stdin,
    )
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("text") for line in lines] == [
        "leave Boston on Monday",
        None,
        None,
        None,
        None,
        "[1, 2]",
        "from Miami to Atlanta",
    ]
    assert lines[1:5] == [
        {"line": 2, "error": "text has an unpaired surrogate at character 4"},
        {"line": 3, "error": "line is not valid UTF-8 (byte 4)"},
        {"line": 4, "error": 'a JSON line needs a string "text" field'},
        {"line": 5, "error": "line is longer than 100 bytes (--max-line-bytes)"},
    ]
    assert set(lines[0]) == {"text", "spans"}  # good lines keep their shape
    assert "4 line(s) could not be tagged" in result.stderr


def test_a_bad_model_directory_is_one_clear_error(tmp_path) -> None:
    result = runner.invoke(app, ["tag", "--model", str(tmp_path / "none"), "hi"])
    assert result.exit_code == 2
    assert f"error: no model directory at {tmp_path / 'none'}" in result.output


def test_a_bad_data_file_names_its_line(tiny_model_dir, tmp_path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": 5}\n')
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(data)])
    assert result.exit_code == 2
    assert f"{data}:1: text: Input should be a valid string" in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--hidden-dim", "0"], "error: --hidden-dim: input should be greater than or equal to 1"),
        (["--average", "2"], "error: --average: input should be less than or equal to 1"),
        (
            ["--lr", "0", "--place-holdout", "1"],
            "error: --lr: input should be greater than 0; "
            "--place-holdout: input should be less than 1",
        ),
    ],
)
def test_a_training_option_out_of_range_is_one_clear_error(
    options, message, tiny_examples, tmp_path
) -> None:
    data = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_examples, data)
    args = ["train", "--train", str(data), "--dev", str(data), "--out", str(tmp_path / "m")]
    result = runner.invoke(app, [*args, *options])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "m").exists()


def test_help_says_what_the_tool_does_and_shows_an_example() -> None:
    result = runner.invoke(app, ["--help"], prog_name="slot-tagger")
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines() if line.strip()]
    assert lines[0] == "Usage: slot-tagger [OPTIONS] COMMAND [ARGS]..."
    assert lines[1].startswith("Find where a traveller leaves from, where they go and when")
    example = lines.index("Example:")
    assert lines[example + 1] == '$ slot-tagger tag "leave Beijing on November 2nd"'
    assert "``" not in result.output and "Each parses" not in result.output
    for command in ("train", "evaluate", "calibrate", "tag", "serve", "--version"):
        assert command in result.output


def test_version_prints_the_installed_package_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"slot-tagger {version('slot-tagger')}\n"


def test_tag_reads_the_context_of_json_lines(context_model_dir) -> None:
    stdin = "\n".join(
        json.dumps(line)
        for line in (
            {"text": "Denver.", "context": ["where are you flying from?"]},
            {"text": "Denver.", "context": "and where to?"},
            {"text": "Denver.", "context": [3]},  # not turns of text: an error object
        )
    )
    result = runner.invoke(app, ["tag", "--model", str(context_model_dir)], input=stdin)
    assert result.exit_code == 1, result.output  # one line failed
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [[s["label"] for s in line["spans"]] for line in lines[:2]] == [
        ["departure"],
        ["destination"],
    ]
    assert lines[2] == {
        "line": 3,
        "error": 'a JSON line\'s "context" must be a list of strings or a string',
    }


def test_evaluate_scores_with_the_context_of_jsonl_data(context_model_dir, tmp_path) -> None:
    from data.formats import parse_markup

    data = tmp_path / "dialogues.jsonl"
    examples = [
        parse_markup("[dep Denver].").model_copy(
            update={"context": ["where are you flying from?"]}
        ),
        parse_markup("[dst Denver].").model_copy(update={"context": ["and where to?"]}),
    ]
    write_jsonl(examples, data)
    result = runner.invoke(
        app, ["evaluate", "--model", str(context_model_dir), "--data", str(data), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["micro"]["f1"] == 1.0


def test_training_on_a_full_disk_ends_with_one_line_and_no_copy(
    tiny_examples, tmp_path, monkeypatch
) -> None:
    import errno

    from model import artifact

    data = tmp_path / "train.jsonl"
    write_jsonl(tiny_examples, data)
    real_fsync = artifact.os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(artifact.os, "fsync", full)
    out = tmp_path / "models" / "m"
    args = ["train", "--train", str(data), "--dev", str(data), "--out", str(out)]
    result = runner.invoke(app, [*args, "--epochs", "1", "--hidden-dim", "8", "--word-dim", "8"])
    monkeypatch.setattr(artifact.os, "fsync", real_fsync)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot write to {out}: No space left on device"
    )
    assert [p.name for p in out.parent.iterdir() if ".tmp-" in p.name] == []


EXPORTS = Path(__file__).parent.parent / "data" / "exports"
TINY_OPTIONS = [
    *("--epochs", "60", "--patience", "60", "--batch-size", "4", "--lr", "0.02"),
    *("--word-dim", "16", "--char-dim", "8", "--hidden-dim", "16", "--threads", "1"),
    *("--dropout", "0", "--word-dropout", "0", "--frequency-dim", "0", "--gazetteer-dim", "0"),
]


@pytest.fixture(scope="module")
def atis_model(tmp_path_factory) -> Path:
    """A tiny model overfit on an ATIS-shaped BIO file (BOS/EOS, -DOCSTART-, dotted labels)."""
    out = tmp_path_factory.mktemp("atis") / "model"
    data = str(EXPORTS / "atis_train.bio")
    result = runner.invoke(
        app, ["train", "--train", data, "--dev", data, "--out", str(out), *TINY_OPTIONS]
    )
    assert result.exit_code == 0, result.output
    return out


def test_a_model_trained_on_bio_keeps_the_file_tokens(atis_model) -> None:
    assert json.loads((atis_model / "config.json").read_text())["tokenizer"] == "whitespace"
    text = "show me the flights from washington d.c. to st. louis on american at 6pm"
    (prediction,) = Predictor.from_dir(atis_model).predict([text])
    assert [t.text for t in prediction.tokens] == text.split()  # spaCy would cut "6", "pm"
    assert [(s.label, s.text) for s in prediction.spans] == [
        ("fromloc.city_name", "washington d.c."),
        ("toloc.city_name", "st. louis"),
        ("airline_name", "american"),
        ("depart_time.time", "6pm"),
    ]


def test_atis_bio_evaluates_every_chunk_of_the_file(atis_model) -> None:
    data = str(EXPORTS / "atis_train.bio")
    result = runner.invoke(app, ["evaluate", "--model", str(atis_model), "--data", data, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["sentences"] == 8
    assert report["micro"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 25}
    labels = list(report["labels"])
    assert labels[:3] == ["fromloc.city_name", "toloc.city_name", "depart_time.time"]
    assert report["labels"]["depart_time.time"]["support"] == 3
    assert report["confusions"] == []


def test_atis_labels_come_back_from_the_service(atis_model) -> None:
    settings = Settings(model_dir=atis_model, max_text_chars=200, max_batch_size=4)
    with TestClient(create_app(settings)) as client:
        response = client.post("/tag", json={"text": "i need a round trip ticket from dallas"})
    assert response.status_code == 200
    assert [(s["label"], s["text"]) for s in response.json()["spans"]] == [
        ("round_trip", "round trip"),
        ("fromloc.city_name", "dallas"),
    ]
    assert [t["tag"] for t in response.json()["tokens"]][3:5] == ["B-round_trip", "I-round_trip"]
