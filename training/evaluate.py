"""Span evaluation: exact character-span precision, recall and F1 per label and micro-averaged,
and the most frequent label mix-ups.

Gold and predicted spans are written as character-level BIO sequences and scored by seqeval, so a
span counts only when its label, start and end all match exactly (the hidden evaluation's rule),
even where gold spans do not fall on token boundaries. Mix-ups are counted per span (see
:func:`confusions`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from seqeval.metrics import classification_report

from data.example import Example
from model.predictor import Prediction, Predictor


def char_tags(text: str, spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """One BIO tag per character of ``text``."""
    tags = ["O"] * len(text)
    for start, end, label in spans:
        tags[start] = f"B-{label}"
        for i in range(start + 1, end):
            tags[i] = f"I-{label}"
    return tags


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float
    support: int

    def to_json(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "support": self.support,
        }


# The label of "no span here" in a mix-up: a gold span the model missed, or a span it made up.
NONE = "O"
# Mix-ups a report keeps (the most frequent).
MAX_CONFUSIONS = 15


@dataclass(frozen=True, slots=True)
class Confusion:
    """How often a gold span of label ``gold`` was predicted as ``predicted`` (:data:`NONE`: no
    span there), counted in spans."""

    gold: str
    predicted: str
    count: int

    def to_json(self) -> dict[str, str | int]:
        return {"gold": self.gold, "predicted": self.predicted, "spans": self.count}


@dataclass(frozen=True, slots=True)
class Report:
    """Scores of one evaluation run: per label (most frequent first), micro-averaged, and the
    most frequent label mix-ups."""

    sentences: int
    micro: Score
    labels: dict[str, Score]
    confusions: tuple[Confusion, ...] = field(default=())

    def by_support(self) -> list[tuple[str, Score]]:
        """The labels, most gold spans first (then by name)."""
        return sorted(self.labels.items(), key=lambda item: (-item[1].support, item[0]))

    def to_json(self) -> dict[str, Any]:
        return {
            "sentences": self.sentences,
            "micro": self.micro.to_json(),
            "labels": {label: s.to_json() for label, s in self.by_support()},
            "confusions": [c.to_json() for c in self.confusions],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Report:
        def score(values: dict[str, Any]) -> Score:
            return Score(values["precision"], values["recall"], values["f1"], values["support"])

        return cls(
            raw["sentences"],
            score(raw["micro"]),
            {label: score(v) for label, v in raw["labels"].items()},
            tuple(
                Confusion(c["gold"], c["predicted"], c["spans"]) for c in raw.get("confusions", [])
            ),
        )

    def render(self) -> str:
        """Fixed-width tables for people: the scores, then the mix-ups."""
        width = max([14, *(len(label) + 2 for label in self.labels)])
        lines = [f"{'label':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
        for label, s in [*self.by_support(), ("micro avg", self.micro)]:
            lines.append(
                f"{label:<{width}}{s.precision:>10.4f}{s.recall:>10.4f}{s.f1:>10.4f}"
                f"{s.support:>10d}"
            )
        lines.append(f"{self.sentences} sentences")
        if self.confusions:
            lines += ["", f"most frequent mix-ups (spans; {NONE}: no span there)"]
            lines.append(f"{'gold':<{width}}{'predicted':<{width}}{'spans':>8}")
            for c in self.confusions:
                lines.append(f"{c.gold:<{width}}{c.predicted:<{width}}{c.count:>8d}")
        return "\n".join(lines)


def confusions(
    examples: Sequence[Example], predictions: Sequence[Prediction], limit: int = MAX_CONFUSIONS
) -> tuple[Confusion, ...]:
    """The most frequent label mix-ups, counted in spans: a gold span is matched with the
    predicted span that overlaps it most; a different label is a mix-up (gold, predicted), no
    overlapping span is (gold, :data:`NONE`), and a predicted span that overlaps no gold span
    is (:data:`NONE`, predicted). A span found with the right label but wrong edges is no
    mix-up (the scores count it wrong).

    Returns:
        At most ``limit`` mix-ups, most frequent first (then by labels).
    """
    counts: Counter[tuple[str, str]] = Counter()
    for example, prediction in zip(examples, predictions, strict=True):
        predicted = [(s.start, s.end, s.label) for s in prediction.spans]
        for gold in example.spans:
            overlaps = [
                (min(end, gold.end) - max(start, gold.start), label)
                for start, end, label in predicted
                if start < gold.end and gold.start < end
            ]
            found = max(overlaps)[1] if overlaps else NONE
            if found != gold.label:
                counts[gold.label, found] += 1
        for start, end, label in predicted:
            if not any(g.start < end and start < g.end for g in example.spans):
                counts[NONE, label] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Confusion(gold, predicted, n) for (gold, predicted), n in ranked[:limit])


def score(examples: Sequence[Example], predictions: Sequence[Prediction]) -> Report:
    """Compare predictions with the gold spans of the same examples."""
    if len(examples) != len(predictions):
        raise ValueError(
            f"expected one prediction per example ({len(examples)}), got {len(predictions)}"
        )
    gold, predicted = [], []
    for example, prediction in zip(examples, predictions, strict=True):
        gold.append(char_tags(example.text, ((s.start, s.end, s.label) for s in example.spans)))
        predicted.append(
            char_tags(example.text, ((s.start, s.end, s.label) for s in prediction.spans))
        )
    # seqeval needs at least one sentence with a character; an all-empty set scores zero.
    raw = (
        classification_report(gold, predicted, output_dict=True, zero_division=0)
        if any(gold)
        else {}
    )
    labels = {
        label: _score(values)
        for label, values in raw.items()
        if label not in ("micro avg", "macro avg", "weighted avg")
    }
    micro = _score(raw.get("micro avg", {}))
    return Report(
        sentences=len(examples),
        micro=micro,
        labels=labels,
        confusions=confusions(examples, predictions),
    )


def _score(values: dict[str, Any]) -> Score:
    return Score(
        precision=float(values.get("precision", 0.0)),
        recall=float(values.get("recall", 0.0)),
        f1=float(values.get("f1-score", 0.0)),
        support=int(values.get("support", 0)),
    )


def evaluate(predictor: Predictor, examples: Sequence[Example]) -> Report:
    """Tag the examples' texts with ``predictor`` and score them against their gold spans."""
    return score(
        examples,
        predictor.predict([e.text for e in examples], contexts=[e.context for e in examples]),
    )
