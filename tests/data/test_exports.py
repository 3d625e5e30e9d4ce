"""The annotation tools' exports, read from files in each tool's own shape (tests/data/exports),
the format guessed from each file, and malformed files stopping at their line."""

import json
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from data.example import Example, GoldSpan
from data.formats import (
    DataFormatError,
    convert,
    guess_format,
    parse_markup,
    read_examples,
    write_bio,
    write_jsonl,
)
from model.tokenize import split_whitespace, tokenize
from training.cli import app

EXPORTS = Path(__file__).parent / "exports"
runner = CliRunner()


def spans(path: Path | str, fmt: str | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    return [(e.text, e.span_texts()) for e in read_examples(path, fmt)]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("rasa_nlu.yml", "rasa"),
        ("doccano.jsonl", "doccano"),
        ("doccano_entities.jsonl", "doccano"),
        ("label_studio.json", "label-studio"),
        ("label_studio_min.json", "label-studio"),
        ("atis", "atis"),
        ("atis/seq.in", "atis"),
        ("atis.train.w-intent.iob", "atis"),
        ("atis_train.bio", "bio"),
    ],
)
def test_format_is_guessed_from_the_file(name, fmt) -> None:
    assert guess_format(EXPORTS / name) == fmt


def test_rasa_reads_both_entity_syntaxes_and_a_role_is_the_label() -> None:
    assert spans(EXPORTS / "rasa_nlu.yml") == [
        (
            "book a flight from Boston to Denver",
            [("departure", "Boston"), ("destination", "Denver")],
        ),
        ("I want to fly to Paris tomorrow", [("city", "Paris"), ("date", "tomorrow")]),
        ("from Berlin please", [("departure", "Berlin")]),
        ("hey there", []),
        # the synonym's value (New York) does not change the text; synonyms, regexes, lookups
        # are not examples
        ("move my flight out of NYC to monday", [("city", "NYC"), ("date", "monday")]),
        ("change it to business", [("seat_class", "business")]),
    ]


def test_rasa_bad_entity_names_its_line(tmp_path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: fly\n  examples: |\n    - to [Oslo](city)\n'
        '    - to [Rome]{"entity": city}\n'
    )
    with pytest.raises(DataFormatError, match=rf"^{path}:6: entity annotation .* is not JSON"):
        read_examples(path)


def test_rasa_file_without_nlu_is_refused(tmp_path) -> None:
    path = tmp_path / "domain.yml"
    path.write_text("intents:\n- greet\n")
    with pytest.raises(DataFormatError, match=rf"^{path}:1: expected Rasa NLU data"):
        read_examples(path)


def test_broken_yaml_names_its_line(tmp_path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text("nlu:\n- intent: a\n  examples: |\n    - hi\n  - : [\n")
    with pytest.raises(DataFormatError, match=rf"^{path}:5: not YAML"):
        read_examples(path)


def test_doccano_reads_the_label_and_the_entities_shapes() -> None:
    assert spans(EXPORTS / "doccano.jsonl") == [
        (
            "Fly from Boston to Denver on Friday",
            [("departure", "Boston"), ("destination", "Denver"), ("date", "Friday")],
        ),
        ("I need a window seat", [("seat", "window")]),
        ("thanks", []),
    ]
    assert spans(EXPORTS / "doccano_entities.jsonl") == [
        (
            "Two adults from Lyon to Oslo",
            [("passengers", "Two adults"), ("departure", "Lyon"), ("destination", "Oslo")],
        )
    ]


def test_doccano_span_past_the_text_names_its_line(tmp_path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(
        '{"id": 1, "text": "to Oslo", "label": [[3, 7, "destination"]]}\n'
        '{"id": 2, "text": "to Rome", "label": [[3, 12, "destination"]]}\n'
    )
    with pytest.raises(DataFormatError, match=rf"^{path}:2: expected 0 <= start < end <= 7"):
        read_examples(path)


def test_doccano_classification_export_is_refused_with_a_reason(tmp_path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text('{"id": 1, "text": "great flight", "label": ["positive"]}\n')
    with pytest.raises(DataFormatError, match=rf'^{path}:1: .*"positive".*classification'):
        read_examples(path)


def test_label_studio_reads_labels_regions_and_skips_unannotated_tasks(caplog) -> None:
    assert spans(EXPORTS / "label_studio.json") == [
        # "seat class" has a space, which a BIO tag cannot hold; the choice is no span
        ("Fly from Boston, seat: business", [("departure", "Boston"), ("seat_class", "business")])
    ]
    assert "1 task(s) without an annotation were skipped" in caplog.text
    assert spans(EXPORTS / "label_studio_min.json") == [
        ("to Oslo on May 3", [("destination", "Oslo"), ("date", "May 3")])
    ]


def test_label_studio_reads_the_first_annotation_not_cancelled(tmp_path) -> None:
    def annotation(label: str, cancelled: bool) -> dict:
        value = {"start": 3, "end": 7, "text": "Oslo", "labels": [label]}
        result = [{"value": value, "from_name": "label", "to_name": "text", "type": "labels"}]
        return {"id": 1, "result": result, "was_cancelled": cancelled}

    tasks = [
        {
            "id": 1,
            "data": {"text": "to Oslo"},
            "annotations": [annotation("city", True), annotation("destination", False)],
        }
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    assert spans(path) == [("to Oslo", [("destination", "Oslo")])]


def test_label_studio_overlapping_regions_name_the_task_line(tmp_path) -> None:
    task = {
        "id": 2,
        "data": {"text": "to New York"},
        "annotations": [
            {
                "result": [
                    {"type": "labels", "value": {"start": 3, "end": 11, "labels": ["city"]}},
                    {"type": "labels", "value": {"start": 7, "end": 11, "labels": ["state"]}},
                ]
            }
        ],
    }
    path = tmp_path / "export.json"
    path.write_text(
        "[\n" + json.dumps({"id": 1, "data": {"text": "hi"}}) + ",\n" + json.dumps(task) + "\n]"
    )
    with pytest.raises(DataFormatError, match=rf"^{path}:3: span \(7, 11, 'state'\) overlaps"):
        read_examples(path)


def test_spacy_docbin_reads_texts_and_entities(tmp_path) -> None:
    nlp = spacy.blank("en")
    doc = nlp("Fly from Boston to San Francisco tomorrow")
    doc.ents = [doc.char_span(9, 15, "departure"), doc.char_span(19, 32, "destination")]
    path = tmp_path / "train.spacy"
    DocBin(docs=[doc, nlp("thanks")]).to_disk(path)
    assert guess_format(path) == "spacy"
    assert spans(path) == [
        (
            "Fly from Boston to San Francisco tomorrow",
            [("departure", "Boston"), ("destination", "San Francisco")],
        ),
        ("thanks", []),
    ]


def test_a_file_that_is_no_docbin_is_one_clear_error(tmp_path) -> None:
    path = tmp_path / "train.spacy"
    path.write_bytes(b"not msgpack at all")
    with pytest.raises(DataFormatError, match=rf"^{path}:0: not a spaCy DocBin file"):
        read_examples(path)


def test_atis_pair_reads_tokens_and_dotted_labels_dropping_intents_and_markers() -> None:
    expected = spans(EXPORTS / "atis")
    assert expected[2] == (
        "show me the flights from washington d.c. to st. louis on american at 6pm",
        [
            ("fromloc.city_name", "washington d.c."),
            ("toloc.city_name", "st. louis"),
            ("airline_name", "american"),
            ("depart_time.time", "6pm"),
        ],
    )
    assert spans(EXPORTS / "atis" / "seq.out") == expected
    assert spans(EXPORTS / "atis.train.w-intent.iob") == [
        (
            "i want a round trip ticket from dallas to san francisco",
            [
                ("round_trip", "round trip"),
                ("fromloc.city_name", "dallas"),
                ("toloc.city_name", "san francisco"),
            ],
        ),
        ("what does fare code qo mean", [("fare_basis_code", "qo")]),
    ]


def test_atis_pair_with_a_tag_missing_names_the_line(tmp_path) -> None:
    (tmp_path / "seq.in").write_text("flights to boston\nfrom denver to boston\n")
    (tmp_path / "seq.out").write_text("O O B-toloc.city_name\nO B-fromloc.city_name O\n")
    with pytest.raises(DataFormatError, match=rf"^{tmp_path / 'seq.out'}:2: 3 tags for 4 tokens$"):
        read_examples(tmp_path)


def test_atis_pair_of_unequal_length_names_the_longer_file(tmp_path) -> None:
    (tmp_path / "seq.in").write_text("to boston\nto denver\n")
    (tmp_path / "seq.out").write_text("O B-toloc.city_name\n")
    with pytest.raises(DataFormatError, match=r"seq.in:2: seq.in has more lines than seq.out"):
        read_examples(tmp_path / "seq.in")


def test_bio_reads_spaces_docstart_and_atis_markers() -> None:
    first, *_, last = read_examples(EXPORTS / "atis_train.bio")
    assert first.text.startswith("i want to fly from boston")  # BOS, EOS and the intent dropped
    assert last.span_texts() == [
        ("fromloc.city_name", "milwaukee"),
        ("toloc.city_name", "orlando"),
        ("round_trip", "one way"),
    ]


def test_bio_i_tag_after_o_starts_a_span_and_bioes_reads(tmp_path) -> None:
    path = tmp_path / "a.bio"
    path.write_text("to O\nnew I-city\nyork I-city\nand O\nrome S-city\n")
    assert spans(path) == [("to new york and rome", [("city", "new york"), ("city", "rome")])]


def test_bio_keeps_edge_punctuation_the_file_tags(tmp_path) -> None:
    path = tmp_path / "a.bio"
    path.write_text("code\tO\nd/fw\tB-airport_code\n-\tI-airport_code\n")
    assert spans(path) == [("code d/fw -", [("airport_code", "d/fw -")])]


def test_bio_written_and_read_back_keeps_tokens_and_spans(tmp_path) -> None:
    examples = read_examples(EXPORTS / "atis_train.bio")
    path = tmp_path / "out.bio"
    assert write_bio(examples, path, split_whitespace) == (8, 0)
    assert read_examples(path) == examples


def test_bio_writer_widens_and_counts_spans_off_token_edges(tmp_path) -> None:
    example = Example(text="to Bostonia", spans=[GoldSpan(start=3, end=9, label="city")])
    path = tmp_path / "out.bio"
    assert write_bio([example, parse_markup("thanks")], path, tokenize) == (2, 1)
    assert path.read_text() == "to\tO\nBostonia\tB-city\n\nthanks\tO\n\n"


def test_convert_to_jsonl_and_back_to_bio_keeps_the_atis_tokens(tmp_path) -> None:
    jsonl, bio = tmp_path / "train.jsonl", tmp_path / "train.bio"
    done = convert(EXPORTS / "atis", jsonl)
    assert (done.fmt, done.examples, done.spans, done.labels) == ("atis", 3, 13, 8)
    convert(jsonl, bio, tokenizer="whitespace")
    assert read_examples(bio) == read_examples(EXPORTS / "atis")
    assert "6pm\tB-depart_time.time" in bio.read_text()


def test_convert_cli_reports_counts_and_spans_off_token_boundaries(tmp_path) -> None:
    source = tmp_path / "export.jsonl"
    source.write_text('{"id": 1, "text": "to Bostonia", "label": [[3, 9, "city"]]}\n')
    result = runner.invoke(app, ["convert", str(source), str(tmp_path / "out.bio")])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == (
        f"{source} (doccano) -> {tmp_path / 'out.bio'}: 1 examples, 1 spans, 1 labels; 1 spans "
        "do not fall on token boundaries and are widened to the tokens covering them"
    )
    assert (tmp_path / "out.bio").read_text() == "to\tO\nBostonia\tB-city\n\n"


def test_convert_cli_named_format_overrides_the_guess(tmp_path) -> None:
    source = tmp_path / "data.txt"  # a .txt would be read as bracket markup
    source.write_text('{"text": "to Oslo", "label": [[3, 7, "destination"]]}\n')
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["convert", str(source), str(out), "--from", "doccano"])
    assert result.exit_code == 0, result.output
    assert read_examples(out) == [parse_markup("to [destination Oslo]")]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("a\tO\nb\tX-y\n", [], "in.bio:2: expected 'token<TAB>tag'"),
        ("a\tO\n", ["--from", "excel"], "--from: expected one of jsonl, bio, txt, rasa"),
        ("a\tO\n", ["--tokenizer", "bert"], "--tokenizer: expected one of spacy, whitespace"),
    ],
)
def test_convert_cli_errors_are_one_line_without_traceback(tmp_path, content, args, message):
    source = tmp_path / "in.bio"
    source.write_text(content)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["convert", str(source), str(out), *args])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert "Traceback" not in result.output and not out.exists()


def test_convert_to_an_unknown_suffix_writes_nothing(tmp_path) -> None:
    result = runner.invoke(
        app, ["convert", str(EXPORTS / "doccano.jsonl"), str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    assert "o.csv:0: expected an output file ending in .jsonl, .bio" in result.stderr
    assert not (tmp_path / "o.csv").exists()


def test_train_and_evaluate_read_a_tool_export_directly(tiny_model_dir) -> None:
    result = runner.invoke(
        app, ["evaluate", "--model", str(tiny_model_dir), "--data", str(EXPORTS / "doccano.jsonl")]
    )
    assert result.exit_code == 0, result.output
    assert "3 sentences" in result.stdout


def test_jsonl_of_ours_is_not_taken_for_doccano(tmp_path) -> None:
    path = tmp_path / "ours.jsonl"
    write_jsonl([parse_markup("to [destination Oslo]")], path)
    assert guess_format(path) == "jsonl"


def test_rasa_example_with_metadata_names_the_line_of_its_text(tmp_path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(
        "nlu:\n- intent: fly\n  examples:\n  - text: |\n      to [Oslo](city)\n"
        '  - text: |\n      to [Rome]{"role": "x"}\n    metadata:\n      a: b\n'
    )
    with pytest.raises(DataFormatError, match=rf'^{path}:7: entity annotation .* no "entity"'):
        read_examples(path)
