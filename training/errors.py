"""What kind of mistake each wrong span is: the error classes of real conversation, counted.

``python -m training.errors --model model/default --data data/conv_dev.txt`` prints one row per
class and (``--show N``) up to N examples of each. A predicted span that is not exactly a gold
span, and a gold span that was not predicted exactly, each fall in one class, tried in order:

- ``crosses a sentence or line``: a predicted span containing a line break or a token that is
  sentence punctuation, a symbol or an emoji, or starting or ending with a comma or a hyphen
  (the rules of model.spans.token_limits; a name's own period, "St." or "Sept.", is its own);
- ``word made into a place`` / ``non-travel date``: a predicted place (date) overlapping no gold
  span at all;
- ``swallows a neighbour``: a predicted span strictly containing a gold span ("[Lima deal]",
  "[tampa and reno]");
- ``cut short``: a predicted span strictly inside a gold span;
- ``wrong role``: the right characters with the wrong label (a follow-up's "Lyon?" as a departure);
- ``range half missed``: a gold date of a range ("june 3-9", "oct 2 to 5") not predicted;
- ``missed place`` / ``missed date``: any other gold span not predicted;
- ``other overlap``: predicted and gold overlap some other way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import typer

from data.example import Example
from data.formats import read_examples
from model.labels import DATE_LABELS
from model.predictor import Prediction, Predictor
from model.spans import JOINERS, decodable, token_limits
from model.tokenize import Token, tokenize

CLASSES = (
    "crosses a sentence or line",
    "word made into a place",
    "non-travel date",
    "swallows a neighbour",
    "cut short",
    "wrong role",
    "range half missed",
    "missed place",
    "missed date",
    "other overlap",
)
_RANGE_GAP = re.compile(r"^\s*(-|–|to|till|until|through|thru)\s*$", re.I)


@dataclass(frozen=True, slots=True)
class Mistake:
    kind: str
    text: str
    span: str  # the span's text, with its label: "destination: Lima deal"


def classify(example: Example, prediction: Prediction) -> list[Mistake]:
    """Every mistake in one prediction, each with its class."""
    gold = {(s.start, s.end, s.label) for s in example.spans}
    predicted = {(s.start, s.end, s.label) for s in prediction.spans}
    text = example.text
    tokens = tokenize(text)
    limits = token_limits(text, tokens)
    mistakes = []

    def overlaps(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
        return a[0] < b[1] and b[0] < a[1]

    for span in sorted(predicted - gold):
        start, end, label = span
        shown = f"{label}: {text[start:end]}"
        touching = [g for g in gold if overlaps(span, g)]
        if _crosses(text, tokens, limits, start, end):
            kind = "crosses a sentence or line"
        elif not touching:
            kind = "non-travel date" if label in DATE_LABELS else "word made into a place"
        elif any(g[:2] == span[:2] for g in touching):
            kind = "wrong role"
        elif any(start <= g[0] and g[1] <= end for g in touching):
            kind = "swallows a neighbour"
        elif any(g[0] <= start and end <= g[1] for g in touching):
            kind = "cut short"
        else:
            kind = "other overlap"
        mistakes.append(Mistake(kind, text, shown))
    gold_dates = sorted(g for g in gold if g[2] in DATE_LABELS)
    in_range = set()
    for a, b in zip(gold_dates, gold_dates[1:], strict=False):
        if _RANGE_GAP.match(text[a[1] : b[0]]):
            in_range.update((a, b))
    for span in sorted(gold - predicted):
        if any(overlaps(span, p) for p in predicted):
            continue  # counted above, from the predicted side
        start, end, label = span
        if span in in_range:
            kind = "range half missed"
        else:
            kind = "missed date" if label in DATE_LABELS else "missed place"
        mistakes.append(Mistake(kind, text, f"{label}: {text[start:end]}"))
    return mistakes


def _crosses(
    text: str, tokens: Sequence[Token], limits: Sequence[int], start: int, end: int
) -> bool:
    inside = [i for i, t in enumerate(tokens) if start <= t.start and t.end <= end]
    if not inside:
        return False
    tags = ["B-x", *["I-x"] * (len(inside) - 1)]
    edges = {tokens[inside[0]].text, tokens[inside[-1]].text}
    return not decodable(tags, [limits[i] for i in inside]) or not edges.isdisjoint(JOINERS)


def count(
    examples: Sequence[Example], predictions: Sequence[Prediction]
) -> tuple[Counter[str], list[Mistake]]:
    """Mistakes per class over a set, and the mistakes themselves."""
    mistakes = [m for e, p in zip(examples, predictions, strict=True) for m in classify(e, p)]
    return Counter(m.kind for m in mistakes), mistakes


def markdown(counts: Counter[str]) -> str:
    lines = ["| error class | spans |", "|---|---:|"]
    lines += [f"| {kind} | {counts.get(kind, 0)} |" for kind in CLASSES]
    return "\n".join(lines)


def main(
    data: Path = typer.Option(Path("data/conv_dev.txt"), help="gold data"),
    model: Path | None = typer.Option(None, help="model directory (default: the shipped model)"),
    show: int = typer.Option(0, help="examples to print per class"),
) -> None:
    """Count a model's mistakes on a set by error class."""
    examples = read_examples(data)
    predictions = Predictor.from_dir(model).predict(
        [e.text for e in examples], contexts=[e.context for e in examples]
    )
    counts, mistakes = count(examples, predictions)
    typer.echo(markdown(counts))
    for kind in CLASSES if show else ():
        shown = [m for m in mistakes if m.kind == kind][:show]
        if shown:
            typer.echo(f"\n{kind}:")
        for m in shown:
            typer.echo(f"  [{m.span}]  in  {m.text!r}")


if __name__ == "__main__":
    typer.run(main)
