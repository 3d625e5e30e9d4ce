"""Span evaluation: exact character-span precision, recall and F1 per label and micro-averaged.

Gold and predicted spans are written as character-level BIO sequences and scored by seqeval, so a
span counts only when its label, start and end all match exactly (the hidden evaluation's rule),
even
where gold spans do not fall on token boundaries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Report:
    """Scores of one evaluation run."""

    sentences: int
    micro: Score
    labels: dict[str, Score]

    def to_json(self) -> dict[str, Any]:
        return {
            "sentences": self.sentences,
            "micro": self.micro.to_json(),
            "labels": {label: s.to_json() for label, s in sorted(self.labels.items())},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Report:
        def score(values: dict[str, Any]) -> Score:
            return Score(values["precision"], values["recall"], values["f1"], values["support"])

        return cls(
            raw["sentences"],
            score(raw["micro"]),
            {label: score(v) for label, v in raw["labels"].items()},
        )

    def render(self) -> str:
        """A fixed-width table for people."""
        lines = [f"{'label':<14}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
        rows = [*sorted(self.labels.items()), ("micro avg", self.micro)]
        for label, s in rows:
            lines.append(
                f"{label:<14}{s.precision:>10.4f}{s.recall:>10.4f}{s.f1:>10.4f}{s.support:>10d}"
            )
        lines.append(f"{self.sentences} sentences")
        return "\n".join(lines)


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
    return Report(sentences=len(examples), micro=micro, labels=labels)


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
