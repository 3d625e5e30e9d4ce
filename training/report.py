"""The README's results tables: precision, recall and F1 per label on each evaluation set.

``python -m training.report --model model/default`` prints Markdown tables (and ``--json FILE``
writes the numbers). Sets: the hand-written dev and test sets, the conversation dev and test sets
(written blind), the held-out-places test (test sentences with every place swapped for a city the
generator's training split never uses), and the test set lowercased without punctuation, and
upper-cased; the dialogue dev and test sets (user turns with their earlier turns as context,
written blind) with their context, without it, and their bare answers alone; then the error
classes (training/errors.py) on the conversation dev set.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer

from data.example import Example
from data.formats import read_examples
from data.variants import shouted, spoken, with_heldout_places
from model.labels import LABELS, PLACE_LABELS
from model.predictor import Predictor
from training import errors
from training.evaluate import Report, evaluate

# Words that give a place its role inside the text itself ("from Leeds", "to York"): an answer
# with none of them gets its role from the question alone.
_ROLE_CUES = re.compile(
    r"\b(from|to|into|out of|leav\w*|depart\w*|arriv\w*|fly\w*|going|via|in|at|back)\b|->|→",
    re.IGNORECASE,
)


def bare_answers(examples: list[Example]) -> list[Example]:
    """The examples with context whose places have no role cue in the text: "Boston.", "It's
    Tucson.", "No, Providence is fine."."""
    return [
        e
        for e in examples
        if e.context
        and any(s.label in PLACE_LABELS for s in e.spans)
        and not _ROLE_CUES.search(e.text)
    ]


def without_context(examples: list[Example]) -> list[Example]:
    return [e.model_copy(update={"context": []}) for e in examples]


def reports(
    predictor: Predictor,
    dev: Path,
    test: Path,
    conv_dev: Path,
    conv_test: Path,
    seed: int = 0,
    dialog_dev: Path = Path("data/dialog_dev.jsonl"),
    dialog_test: Path = Path("data/dialog_test.jsonl"),
) -> dict[str, Report]:
    """Evaluate ``predictor`` on every set of the table."""
    dev_examples, test_examples = read_examples(dev), read_examples(test)
    with_places = [e for e in test_examples if any(s.label in PLACE_LABELS for s in e.spans)]
    dialogues = {"dev": read_examples(dialog_dev), "test": read_examples(dialog_test)}
    return {
        "dev (hand-written)": evaluate(predictor, dev_examples),
        "test (hand-written)": evaluate(predictor, test_examples),
        "conversation dev": evaluate(predictor, read_examples(conv_dev)),
        "conversation test": evaluate(predictor, read_examples(conv_test)),
        "held-out places": evaluate(predictor, with_heldout_places(with_places, seed)),
        "test, lowercase no punctuation": evaluate(predictor, [spoken(e) for e in test_examples]),
        "test, UPPERCASE": evaluate(predictor, [shouted(e) for e in test_examples]),
        **{
            f"dialogue {name}{variant}": evaluate(predictor, pick(examples))
            for name, examples in dialogues.items()
            for variant, pick in (
                (", with context", list),
                (", without context", without_context),
                (", bare answers with context", bare_answers),
                (", bare answers without context", lambda x: without_context(bare_answers(x))),
            )
        },
    }


def markdown(results: dict[str, Report]) -> str:
    lines = [
        "| set | sentences | " + " | ".join(f"{label} F1" for label in LABELS) + " | micro F1 |",
        "|---|---:|" + "---:|" * (len(LABELS) + 1),
    ]
    for name, report in results.items():
        cells = [
            f"{report.labels[label].f1:.3f}" if label in report.labels else "–" for label in LABELS
        ]
        lines.append(
            f"| {name} | {report.sentences} | {' | '.join(cells)} | {report.micro.f1:.3f} |"
        )
    return "\n".join(lines)


def per_label(results: dict[str, Report]) -> str:
    """Precision, recall and F1 per label and micro-averaged, one row per set."""
    columns = [*LABELS, "micro"]
    lines = [
        "| set | " + " | ".join(f"{c} P / R / F1" for c in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name, report in results.items():
        cells = []
        for column in columns:
            score = report.micro if column == "micro" else report.labels.get(column)
            cells.append(
                "–"
                if score is None
                else f"{score.precision:.3f} / {score.recall:.3f} / {score.f1:.3f}"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(
    model: Path | None = typer.Option(None, help="model directory (default: the shipped model)"),
    dev: Path = typer.Option(Path("data/dev.txt")),
    test: Path = typer.Option(Path("data/test.txt")),
    conv_dev: Path = typer.Option(Path("data/conv_dev.txt")),
    conv_test: Path = typer.Option(Path("data/conv_test.txt")),
    seed: int = typer.Option(0, help="seed of the held-out place choice"),
    json_out: Path | None = typer.Option(None, "--json", help="also write the numbers here"),
) -> None:
    """Print the results table for a model."""
    predictor = Predictor.from_dir(model)
    results = reports(predictor, dev, test, conv_dev, conv_test, seed)
    typer.echo(markdown(results))
    typer.echo("\n" + per_label(results))
    examples = read_examples(conv_dev)
    predictions = predictor.predict(
        [e.text for e in examples], contexts=[e.context for e in examples]
    )
    counts, _ = errors.count(examples, predictions)
    typer.echo(f"\nerror classes on {conv_dev}:\n\n" + errors.markdown(counts))
    if json_out is not None:
        json_out.write_text(json.dumps({k: r.to_json() for k, r in results.items()}, indent=2))


if __name__ == "__main__":
    typer.run(main)
