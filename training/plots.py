"""Pictures of training and of a model on a data set: PNGs drawn with matplotlib (Agg, no pyplot,
no display), written by ``slot-tagger train`` beside the model and by ``slot-tagger report``.

* ``training.png``: training loss and dev F1 per epoch, the kept epoch marked (from the history
  ``meta.json`` keeps in ``dev_metrics.history``, or per member of an ensemble in
  ``dev_metrics.members``; models saved before it have none).
* ``labels.png``: exact-span precision, recall and F1 per label (``slot-tagger evaluate``'s).
* ``confusion.png``: gold label against predicted label over tokens (B-/I- folded, O included).
* ``reliability.png``: span confidence against the share of spans exactly right, per bin, with
  the spans in each bin (``training/calibrate.py``'s table, every span of the best path).

Each figure function returns the matplotlib Figure, so tests read what it draws (axes, series,
counts) instead of pixels. The PNGs sit outside the model directory: they change neither its
version nor its loading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from data.example import Example
from model.artifact import Calibration, ModelMeta
from model.predictor import Prediction, Predictor
from training.calibrate import Bin, expected_calibration_error, reliability
from training.evaluate import Report, score

COLORS = {"precision": "#1d4ed8", "recall": "#15803d", "f1": "#a16207"}
NAMES = {"precision": "precision", "recall": "recall", "f1": "F1"}
DPI = 100


@dataclass(frozen=True, slots=True)
class Epoch:
    epoch: int
    loss: float
    dev_f1: float


@dataclass(frozen=True, slots=True)
class Confusion:
    """Token counts: ``counts[i][j]`` tokens of gold label ``labels[i]`` predicted ``labels[j]``."""

    labels: list[str]
    counts: list[list[int]]


@dataclass(frozen=True, slots=True)
class Run:
    """One network's training: its epochs and the one kept. ``name`` tells an ensemble's members
    apart ("" for a model of one network)."""

    history: Sequence[Epoch]
    best_epoch: int | None = None
    name: str = ""


def _epochs(raw: Sequence[Mapping[str, Any]]) -> list[Epoch]:
    return [Epoch(h["epoch"], h["loss"], h["dev_f1"]) for h in raw]


def runs_of(meta: ModelMeta) -> list[Run]:
    """The training runs a model's ``meta.json`` keeps: one per member of an ensemble
    (model.ensemble), one for a single network, none for a model saved before training recorded
    them."""
    metrics = meta.dev_metrics
    if "members" in metrics:
        return [
            Run(_epochs(m["history"]), m["best_epoch"], f"member {k} (seed {m['seed']})")
            for k, m in enumerate(metrics["members"], start=1)
            if m.get("history")
        ]
    history = _epochs(metrics.get("history", []))
    return [Run(history, metrics.get("best_epoch"))] if history else []


def _label(tag: str) -> str:
    return tag.partition("-")[2] or "O"


def confusion(
    examples: Sequence[Example], predictions: Sequence[Prediction], labels: Sequence[str]
) -> Confusion:
    """Gold against predicted label for every token of the predictions: a token's gold label is
    that of the gold span its first character falls in, else O."""
    names = ["O", *labels]
    index = {name: i for i, name in enumerate(names)}
    counts = [[0] * len(names) for _ in names]
    for example, prediction in zip(examples, predictions, strict=True):
        for token, tag in zip(prediction.tokens, prediction.tags, strict=True):
            gold = next((s.label for s in example.spans if s.start <= token.start < s.end), "O")
            predicted = _label(tag)
            for name in (gold, predicted):
                if name not in index:  # a label the model or the data has and the other not
                    index[name] = len(names)
                    names.append(name)
                    for row in counts:
                        row.append(0)
                    counts.append([0] * len(names))
            counts[index[gold]][index[predicted]] += 1
    return Confusion(names, counts)


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _title(data: str, figures: str) -> str:
    """The data set's name over the figures that sum it up."""
    return f"{data}\n{figures}" if data else figures


def history_figure(runs: Sequence[Run]) -> Figure:
    """Two panels: training loss per epoch, and dev micro F1 per epoch, one line per run (an
    ensemble's members); each run's kept epoch marked."""
    figure = _figure(9, 3.6)
    loss, f1 = figure.subplots(1, 2)
    palette = [
        "#1d4ed8",
        "#15803d",
        "#a16207",
        "#7c3aed",
        "#be123c",
        "#0e7490",
        "#4d7c0f",
        "#475569",
    ]
    for k, run in enumerate(runs):
        epochs = [h.epoch for h in run.history]
        color = palette[k % len(palette)]
        named = f"{run.name}: " if run.name else ""
        loss.plot(
            epochs, [h.loss for h in run.history], marker="o", color=color, label=f"{named}loss"
        )
        f1.plot(
            epochs,
            [h.dev_f1 for h in run.history],
            marker="o",
            color=color,
            label=f"{named}dev F1",
        )
        if run.best_epoch is not None:
            for axes in (loss, f1):
                axes.axvline(
                    run.best_epoch,
                    color=color if run.name else "#a16207",
                    linestyle="--",
                    label=f"{named}kept {run.best_epoch}" if named else f"kept: {run.best_epoch}",
                )
    loss.set(xlabel="epoch", ylabel="training loss (mean per batch)", title="Training loss")
    f1.set(xlabel="epoch", ylabel="dev F1 (exact spans, micro)", title="Dev F1")
    for axes in (loss, f1):
        axes.grid(alpha=0.3)
        axes.legend(loc="best", fontsize="small" if len(runs) > 1 else None)
    return figure


def labels_figure(report: Report, title: str = "") -> Figure:
    """Grouped bars: precision, recall and F1 for each label (its gold spans under its name)."""
    figure = _figure(7, 3.8)
    axes = figure.subplots()
    labels = sorted(report.labels)
    width = 0.26
    for k, metric in enumerate(("precision", "recall", "f1")):
        values = [getattr(report.labels[label], metric) for label in labels]
        bars = axes.bar(
            [i + (k - 1) * width for i in range(len(labels))],
            values,
            width,
            label=NAMES[metric],
            color=COLORS[metric],
        )
        axes.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
    axes.set_xticks(
        range(len(labels)),
        [f"{label}\n({report.labels[label].support:,} spans)" for label in labels],
    )
    axes.set(ylim=(0, 1.25), ylabel="score (exact spans)")
    micro = report.micro
    axes.set_title(_title(title, f"{report.sentences:,} sentences, micro F1 {micro.f1:.4f}"))
    axes.legend(loc="upper center", ncols=3)
    return figure


def confusion_figure(matrix: Confusion, title: str = "") -> Figure:
    """The token confusion matrix, each cell's count written in it; shaded by row share (so the
    many O tokens do not wash out the rest)."""
    figure = _figure(6, 5)
    axes = figure.subplots()
    shares = [[c / max(sum(row), 1) for c in row] for row in matrix.counts]
    axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    n = len(matrix.labels)
    for i in range(n):
        for j in range(n):
            axes.text(
                j,
                i,
                f"{matrix.counts[i][j]:,}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if shares[i][j] > 0.5 else "black",
            )
    axes.set_xticks(range(n), matrix.labels)
    axes.set_yticks(range(n), matrix.labels)
    axes.set(xlabel="predicted label", ylabel="gold label")
    total = sum(map(sum, matrix.counts))
    axes.set_title(_title(title, f"{total:,} tokens"))
    return figure


def reliability_figure(pairs: Sequence[tuple[float, bool]], title: str = "") -> Figure:
    """Span confidence (10 bins) against the share of those spans exactly right, each bar with
    its number of spans; the diagonal is perfect calibration."""
    figure = _figure(6, 4.6)
    axes = figure.subplots()
    table: list[Bin] = reliability(pairs)
    bars = axes.bar(
        [b.low for b in table],
        [b.accuracy for b in table],
        width=0.1,
        align="edge",
        color="#1d4ed8",
        edgecolor="white",
        label="share exactly right (on top: spans in the bin)",
    )
    axes.bar_label(bars, labels=[f"{b.spans:,}" for b in table], fontsize=7, padding=2)
    axes.plot(
        [b.confidence for b in table],
        [b.accuracy for b in table],
        marker="o",
        linestyle="",
        color="#a16207",
        label="mean confidence of the bin",
    )
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    axes.set(
        xlim=(0, 1), ylim=(0, 1.1), xlabel="span confidence", ylabel="share of spans exactly right"
    )
    ece = expected_calibration_error(pairs)
    axes.set_title(_title(title, f"{len(pairs):,} spans, ECE {ece:.4f}"))
    axes.legend(loc="upper left")
    return figure


@dataclass(frozen=True, slots=True)
class Drawn:
    """What :func:`draw` measured and drew: the figures by file name."""

    figures: dict[str, Figure]
    report: Report
    confusion: Confusion
    pairs: list[tuple[float, bool]]


def draw(
    predictor: Predictor,
    examples: Sequence[Example],
    runs: Sequence[Run] = (),
    title: str = "",
) -> Drawn:
    """Every figure for ``predictor`` on ``examples``; the training runs' when there are any.

    The scores and the confusion matrix are of the model as it serves (its confidence floor
    applied); the reliability diagram has every span of the best path at its temperature, as
    calibration measures it.
    """
    texts, contexts = [e.text for e in examples], [e.context for e in examples]
    served = predictor.predict(texts, contexts=contexts)
    report = score(examples, served)
    matrix = confusion(examples, served, predictor.meta.labels)
    every_span = predictor.with_calibration(Calibration(predictor.temperature))
    pairs = []
    for example, prediction in zip(
        examples, every_span.predict(texts, contexts=contexts), strict=True
    ):
        gold = {(s.start, s.end, s.label) for s in example.spans}
        pairs += [(s.confidence, (s.start, s.end, s.label) in gold) for s in prediction.spans]
    figures = {}
    if runs:
        figures["training.png"] = history_figure(runs)
    figures["labels.png"] = labels_figure(report, title)
    figures["confusion.png"] = confusion_figure(matrix, title)
    figures["reliability.png"] = reliability_figure(pairs, title)
    return Drawn(figures, report, matrix, pairs)


def save(figures: Mapping[str, Figure], out_dir: str | Path) -> list[Path]:
    """Write each figure as a PNG into ``out_dir`` (made if missing); the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, figure in figures.items():
        path = out / name
        figure.savefig(path, dpi=DPI, metadata={"Software": None})
        written.append(path)
    return written


def write_report(
    predictor: Predictor,
    examples: Sequence[Example],
    out_dir: str | Path,
    title: str = "",
    runs: Sequence[Run] | None = None,
) -> list[Path]:
    """Draw :func:`draw`'s figures for ``predictor`` on ``examples`` into ``out_dir``; the training
    runs are the model's own (``meta.json``) unless given."""
    if runs is None:
        runs = runs_of(predictor.meta)
    return save(draw(predictor, examples, runs, title).figures, out_dir)
