"""How much data a new label needs: fine-tuning the shipped model vs training from scratch.

The new label is ``airline`` ("fly Delta from Boston to Denver on Friday"): sentences of the
generator (data/generate.py, a seed of its own) with an airline put in by one of a few phrasings,
some left without one. Training sets of 50, 200 and 1,000 sentences; a dev set of 200 for early
stopping; 500 test sentences whose airlines training never saw. Each size is trained twice with
the defaults of ``slot-tagger train``: from ``--init model/default``, and from scratch; the
shipped model as it is stands beside them (it has no airline label, so that column shows what
it does to the other labels), and one more run fine-tunes on 200 new sentences mixed with 2,000
of the generator's (no airline). Scores are exact-span F1 on the test sentences, for ``airline``
and for the three labels the shipped model already knows; and on data/conv_dev.txt (no airline
spans), to show what a model trained on the new sentences alone keeps of the rest.

    python -m training.finetune_table            # about 20 minutes on 2 cores
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import typer

from data.example import Example, GoldSpan
from data.formats import read_examples
from data.generate import generate
from model import artifact
from model.predictor import Predictor
from training.config import TrainConfig
from training.evaluate import evaluate, score
from training.train import train

AIRLINES = [
    "Delta",
    "United",
    "American Airlines",
    "Southwest",
    "JetBlue",
    "Alaska Airlines",
    "Lufthansa",
    "British Airways",
    "Air France",
    "KLM",
    "Ryanair",
    "easyJet",
    "Emirates",
    "Qatar Airways",
    "Turkish Airlines",
    "Air Canada",
    "WestJet",
    "Qantas",
    "Singapore Airlines",
    "Iberia",
    "Aer Lingus",
    "Finnair",
    "Spirit",
    "Frontier",
    "Virgin Atlantic",
    "Norwegian",
]
# Only in the test sentences.
TEST_AIRLINES = ["Cathay Pacific", "Wizz Air", "Vueling", "Etihad", "Korean Air", "Aeromexico"]
SIZES = (50, 200, 1000)
REPLAY = 2000
AFTER = [" on {a}", " with {a}", ", flying {a}", " on a {a} flight", ", {a} if possible"]
BEFORE = ["{a}: ", "I'd like {a}. ", "Flying {a} - "]


def with_airline(example: Example, airline: str, rng: random.Random) -> Example:
    """``example`` with ``airline`` said in it (after the text, before it, or as "X flight")."""
    text, spans = example.text, list(example.spans)
    if rng.random() < 0.3:
        airline = airline.lower()
    flight = text.find("flight")
    body = text.rstrip("?.! ")
    # Neither insertion point may fall inside a span (a name with "flight" in it, "St." at the end).
    inside = any(s.start <= point < s.end for s in spans for point in (flight, len(body)))
    if flight >= 0 and not inside and rng.random() < 0.4:  # "a flight" -> "a Delta flight"
        start = at = flight
        shift = len(airline) + 1
        text = text[:start] + airline + " " + text[start:]
    elif not inside and rng.random() < 0.7:
        phrase = rng.choice(AFTER)
        start = len(body) + phrase.index("{a}")
        at, shift = len(body), 0
        text = body + phrase.format(a=airline) + text[len(body) :]
    else:  # before the text: never inside a span
        phrase = rng.choice(BEFORE)
        start, at = phrase.index("{a}"), 0
        shift = len(phrase.format(a=airline))
        text = phrase.format(a=airline) + text
    moved = [
        GoldSpan(start=s.start + shift, end=s.end + shift, label=s.label) if s.start >= at else s
        for s in spans
    ]
    airline_span = GoldSpan(start=start, end=start + len(airline), label="airline")
    spans = sorted([*moved, airline_span], key=lambda s: s.start)
    return example.model_copy(update={"text": text, "spans": spans})


def airline_sentences(seed: int, n: int, airlines: list[str]) -> Iterator[Example]:
    """``n`` generated sentences, four in five with one of ``airlines`` in them."""
    rng = random.Random(seed)
    for example in generate(seed, n):
        yield with_airline(example, rng.choice(airlines), rng) if rng.random() < 0.8 else example


def _scores(predictor: Predictor, examples: list[Example]) -> tuple[float, float]:
    """F1 on airline spans, and micro F1 on the other labels."""
    predictions = predictor.predict([e.text for e in examples])
    airline = score(examples, predictions).labels.get("airline")

    def others(spans: list) -> list:
        return [s for s in spans if s.label != "airline"]

    rest = score(
        [e.model_copy(update={"spans": others(e.spans)}) for e in examples],
        [dataclasses.replace(p, spans=others(p.spans)) for p in predictions],
    )
    return (airline.f1 if airline else 0.0), rest.micro.f1


def main(
    init: Path = typer.Option(Path("model/default"), help="the model to fine-tune"),
    seed: int = typer.Option(0),
    conv_dev: Path = typer.Option(
        Path("data/conv_dev.txt"), help="a set of the old labels only: what fine-tuning forgets"
    ),
) -> None:
    """Print the table README's "Fine-tuning" section shows."""
    train_pool = list(airline_sentences(1000 + seed, max(SIZES), AIRLINES))
    dev = list(airline_sentences(2000 + seed, 200, AIRLINES))
    test = list(airline_sentences(3000 + seed, 500, TEST_AIRLINES))
    start = artifact.load(init, graph=False)
    conv = read_examples(conv_dev)

    def row(how: str, n: str, model_dir: Path) -> tuple[str, str, float, float, float]:
        predictor = Predictor.from_dir(model_dir)
        return (how, n, *_scores(predictor, test), evaluate(predictor, conv).micro.f1)

    rows = [row("shipped model as is", "-", init)]
    config = TrainConfig(seed=seed, name="finetune-table", threads=1)
    with tempfile.TemporaryDirectory() as tmp:
        # From scratch, the shipped model's network as it was made: its members, each trained
        # alone, then merged (model/ensemble.py); a network of one is the same either way.
        one = start.config.model_copy(update={"members": 1})
        scratch = config.model_copy(update={"members": start.config.members})
        for n in SIZES:
            for how, from_model in (("fine-tuned", start), ("from scratch", None)):
                out = Path(tmp) / f"{how}-{n}"
                train(
                    train_pool[:n],
                    dev,
                    start.config if from_model else one,
                    config if from_model else scratch,
                    out,
                    progress=False,
                    init=from_model,
                )
                rows.append(row(how, str(n), out))
                typer.echo(f"{rows[-1]}", err=True)
        # Fine-tuned on the new sentences plus some of the shipped model's own kind of data
        # (the generator with another seed): what it keeps of the rest.
        replay = list(generate(4000 + seed, REPLAY))
        out = Path(tmp) / "replay"
        train(
            [*train_pool[:200], *replay], dev, start.config, config, out, progress=False, init=start
        )
        rows.append((f"fine-tuned, + {REPLAY:,} generated sentences", "200", *row("", "", out)[2:]))
        typer.echo(f"{rows[-1]}", err=True)
    typer.echo(
        "| model | training sentences | airline F1 | departure, destination, date F1 "
        f"| {conv_dev} F1 |"
    )
    typer.echo("|---|---:|---:|---:|---:|")
    for how, n, airline, old, general in rows:
        typer.echo(f"| {how} | {n} | {airline:.3f} | {old:.3f} | {general:.3f} |")


if __name__ == "__main__":
    typer.run(main)
