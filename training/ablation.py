"""The README's ablation: dev F1 of the default network against variants that drop one part each.

``python -m training.ablation --train data/train.jsonl --dev data/dev.txt`` trains every variant on
the same data and seed and prints a Markdown table. Choices are made on dev only.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from data.formats import read_examples
from model.config import TaggerConfig
from training.config import TrainConfig
from training.train import train

VARIANTS: dict[str, dict[str, Any]] = {
    "default (word + char CNN + shape, word dropout, CRF)": {},
    "no character CNN": {"char_dim": 0},
    "no word shape feature": {"shape_dim": 0},
    "no word dropout": {"word_dropout": 0.0},
    "no CRF (constrained per-token decoding)": {"use_crf": False},
    "hidden size 64": {"hidden_dim": 64},
    "hidden size 256": {"hidden_dim": 256},
}


def main(
    train_file: Path = typer.Option(Path("data/train.jsonl"), "--train"),
    dev_file: Path = typer.Option(Path("data/dev.txt"), "--dev"),
    epochs: int = typer.Option(6),
    only: list[str] = typer.Option([], help="run only variants whose name contains this"),
) -> None:
    """Train each variant and print dev F1 per label."""
    train_examples, dev_examples = read_examples(train_file), read_examples(dev_file)
    config = TrainConfig(epochs=epochs, patience=2, seed=0)
    typer.echo(
        "| variant | departure F1 | destination F1 | date F1 | micro F1 | size (MB) | train s |"
    )
    typer.echo("|---|---:|---:|---:|---:|---:|---:|")
    for name, overrides in VARIANTS.items():
        if only and not any(o in name for o in only):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            result = train(
                train_examples,
                dev_examples,
                TaggerConfig(**overrides),
                config,
                Path(tmp) / "m",
                progress=False,
            )
            seconds = time.perf_counter() - started
            size = (Path(tmp) / "m" / "weights.safetensors").stat().st_size / 1e6
        report = result.dev_report
        cells = " | ".join(
            f"{report.labels[label].f1:.3f}" for label in ("departure", "destination", "date")
        )
        typer.echo(f"| {name} | {cells} | {report.micro.f1:.3f} | {size:.1f} | {seconds:.0f} |")


if __name__ == "__main__":
    typer.run(main)
