"""The plots: what each figure draws (axes, series, bars, counts), read from matplotlib's objects,
not from pixels; and the PNGs train and report write, which leave the model as it was."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from matplotlib.container import BarContainer
from typer.testing import CliRunner

from data.formats import parse_markup, write_jsonl
from model.predictor import Prediction, Predictor
from model.tokenize import Token
from training import plots
from training.cli import app
from training.evaluate import Report, Score

PNG = b"\x89PNG\r\n\x1a\n"
runner = CliRunner()


def _prediction(text: str, tags: list[str]) -> Prediction:
    tokens, at = [], 0
    for word in text.split():
        start = text.index(word, at)
        tokens.append(Token(word, start, start + len(word)))
        at = start + len(word)
    return Prediction(text=text, tokens=tokens, tags=tags, spans=[])


def test_the_confusion_matrix_counts_tokens_by_gold_and_predicted_label() -> None:
    examples = [
        parse_markup("from [dep New York] to [dst Paris] [date today]"),
        parse_markup("to [dst Rome]"),
    ]
    predictions = [
        # New York right, Paris read as a departure, today missed
        _prediction(
            "from New York to Paris today",
            ["O", "B-departure", "I-departure", "O", "B-departure", "O"],
        ),
        _prediction("to Rome", ["B-date", "B-destination"]),  # "to" wrongly a date
    ]
    matrix = plots.confusion(examples, predictions, ["date", "departure", "destination"])
    assert matrix.labels == ["O", "date", "departure", "destination"]
    assert matrix.counts == [
        # predicted: O, date, departure, destination
        [2, 1, 0, 0],  # gold O: from, to (right); to (a date)
        [1, 0, 0, 0],  # gold date: today missed
        [0, 0, 2, 0],  # gold departure: New, York
        [0, 0, 1, 1],  # gold destination: Paris as departure, Rome right
    ]
    figure = plots.confusion_figure(matrix, "two")
    [axes] = figure.axes
    assert axes.get_xlabel() == "predicted label" and axes.get_ylabel() == "gold label"
    assert [t.get_text() for t in axes.get_xticklabels()] == matrix.labels
    assert [t.get_text() for t in axes.get_yticklabels()] == matrix.labels
    cells = [int(t.get_text()) for t in axes.texts]
    assert cells == [c for row in matrix.counts for c in row]
    assert axes.get_title() == "two\n8 tokens"


def test_the_history_figure_draws_loss_and_dev_f1_per_epoch() -> None:
    history = [plots.Epoch(1, 3.0, 0.5), plots.Epoch(2, 1.5, 0.8), plots.Epoch(3, 1.0, 0.75)]
    figure = plots.history_figure([plots.Run(history, best_epoch=2)])
    loss, f1 = figure.axes
    assert loss.get_xlabel() == f1.get_xlabel() == "epoch"
    assert loss.get_ylabel().startswith("training loss")
    assert f1.get_ylabel().startswith("dev F1")
    [loss_line, kept] = loss.get_lines()
    assert list(loss_line.get_xdata()) == [1, 2, 3]
    assert list(loss_line.get_ydata()) == [3.0, 1.5, 1.0]
    assert list(f1.get_lines()[0].get_ydata()) == [0.5, 0.8, 0.75]
    assert list(kept.get_xdata()) == [2, 2]  # the kept epoch, marked on both panels
    assert list(f1.get_lines()[1].get_xdata()) == [2, 2]


def test_the_labels_figure_has_three_bars_per_label() -> None:
    report = Report(
        sentences=10,
        micro=Score(0.9, 0.8, 0.85, 30),
        labels={
            "destination": Score(0.7, 0.6, 0.65, 5),
            "date": Score(1.0, 0.5, 2 / 3, 10),
            "departure": Score(0.9, 0.9, 0.9, 15),
        },
    )
    [axes] = plots.labels_figure(report).axes
    bars = [c for c in axes.containers if isinstance(c, BarContainer)]
    assert [c.get_label() for c in bars] == ["precision", "recall", "F1"]
    assert [len(c) for c in bars] == [3, 3, 3]
    heights = [[round(p.get_height(), 4) for p in c] for c in bars]
    assert heights == [[1.0, 0.9, 0.7], [0.5, 0.9, 0.6], [0.6667, 0.9, 0.65]]  # labels sorted
    ticks = [t.get_text() for t in axes.get_xticklabels()]
    assert ticks == ["date\n(10 spans)", "departure\n(15 spans)", "destination\n(5 spans)"]
    assert "micro F1 0.8500" in axes.get_title()


def test_the_reliability_diagram_bins_spans_by_confidence() -> None:
    pairs = [(0.95, True)] * 8 + [(0.92, False)] * 2 + [(0.55, True), (0.51, False), (0.15, False)]
    [axes] = plots.reliability_figure(pairs).axes
    assert axes.get_xlabel() == "span confidence"
    assert axes.get_ylabel() == "share of spans exactly right"
    [bars] = [c for c in axes.containers if isinstance(c, BarContainer)]
    assert [round(p.get_x(), 1) for p in bars] == [0.1, 0.5, 0.9]  # the empty bins left out
    assert [round(p.get_height(), 2) for p in bars] == [0.0, 0.5, 0.8]
    assert [t.get_text() for t in axes.texts] == ["1", "2", "10"]  # spans per bin
    diagonal = axes.get_lines()[-1]
    assert list(diagonal.get_xdata()) == [0, 1] and list(diagonal.get_ydata()) == [0, 1]
    assert axes.get_title().startswith("13 spans, ECE ")


def test_draw_on_a_model_uses_its_history_and_counts_every_token(
    predictor: Predictor, tiny_examples
) -> None:
    [run] = plots.runs_of(predictor.meta)
    history = run.history
    assert [h.epoch for h in history] == list(range(1, len(history) + 1)) and history
    assert run.best_epoch == predictor.meta.dev_metrics["best_epoch"]
    drawn = plots.draw(predictor, tiny_examples, [run])
    assert list(drawn.figures) == ["training.png", "labels.png", "confusion.png", "reliability.png"]
    tokens = sum(len(p.tokens) for p in predictor.predict([e.text for e in tiny_examples]))
    assert sum(map(sum, drawn.confusion.counts)) == tokens
    assert drawn.report.micro.f1 == predictor.meta.dev_metrics["micro"]["f1"]
    assert len(drawn.pairs) == sum(len(e.spans) for e in tiny_examples)  # every span found


def _fingerprint(model_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(model_dir.iterdir())}


def test_report_writes_the_pngs_beside_the_model_and_leaves_it_alone(
    tiny_model_dir: Path, tiny_examples, tmp_path: Path
) -> None:
    data = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_examples, data)
    before = _fingerprint(tiny_model_dir)
    version = json.loads((tiny_model_dir / "meta.json").read_text())["version"]
    out = tmp_path / "plots"
    result = runner.invoke(
        app, ["report", str(tiny_model_dir), "--data", str(data), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    names = ["confusion.png", "labels.png", "reliability.png", "training.png"]
    assert sorted(p.name for p in out.iterdir()) == names
    assert all((out / name).read_bytes()[:8] == PNG for name in names)
    assert _fingerprint(tiny_model_dir) == before
    assert Predictor.from_dir(tiny_model_dir).meta.version == version  # and it loads as before


def test_a_model_without_history_gets_the_plots_it_can(tmp_path: Path, tiny_examples) -> None:
    data = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_examples[:3], data)
    model = tmp_path / "model"  # the shipped model as it was saved: before training kept history
    shutil.copytree("model/default", model)
    meta = json.loads((model / "meta.json").read_text())
    for runs in ("history", "members"):  # one network's, or an ensemble's members'
        meta["dev_metrics"].pop(runs, None)
    (model / "meta.json").write_text(json.dumps(meta))
    result = runner.invoke(
        app, ["report", str(model), "--data", str(data), "--out", str(tmp_path / "p")]
    )
    assert result.exit_code == 0, result.output
    assert "keeps no per-epoch history" in result.stderr
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == [
        "confusion.png",
        "labels.png",
        "reliability.png",
    ]


@pytest.mark.parametrize("where", ["beside", "--report"])
def test_train_draws_the_plots_of_its_run(tiny_examples, tmp_path: Path, where: str) -> None:
    data = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_examples, data)
    out = tmp_path / "model"
    args = ["train", "--train", str(data), "--dev", str(data), "--out", str(out), "--epochs", "2"]
    args += ["--word-dim", "8", "--hidden-dim", "8"]
    report = tmp_path / "elsewhere" if where == "--report" else tmp_path / "model-report"
    if where == "--report":
        args += ["--report", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (report / "training.png").read_bytes()[:8] == PNG
    assert len(list(report.glob("*.png"))) == 4
    assert not list(out.glob("*.png"))  # nothing inside the model directory
    [run] = plots.runs_of(Predictor.from_dir(out).meta)
    assert [h.epoch for h in run.history] == [1, 2]


def test_an_ensemble_trained_by_the_cli_plots_each_member(tiny_examples, tmp_path: Path) -> None:
    data = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_examples, data)
    out = tmp_path / "model"
    args = ["train", "--train", str(data), "--dev", str(data), "--out", str(out), "--epochs", "2"]
    args += ["--word-dim", "8", "--hidden-dim", "8", "--members", "2", "--seed", "3"]
    args += ["--threads", "1"]  # one after the other, in this process: its output is captured
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 members merged (kept epochs " in result.stderr
    assert "member 2 of 2 (seed 4)" in result.output
    meta = Predictor.from_dir(out).meta
    runs = plots.runs_of(meta)
    assert [r.name for r in runs] == ["member 1 (seed 3)", "member 2 (seed 4)"]
    assert [[h.epoch for h in r.history] for r in runs] == [[1, 2], [1, 2]]
    figure = plots.history_figure(runs)
    loss, f1 = figure.axes
    labels = [line.get_label() for line in f1.get_lines()]
    assert labels[0] == "member 1 (seed 3): dev F1" and "member 2 (seed 4): dev F1" in labels
    assert (tmp_path / "model-report" / "training.png").read_bytes()[:8] == PNG
