"""The README's ablation: each part of the network against the default, on both dev sets.

``python -m training.ablation --train data/train.jsonl`` trains every variant on the same data
and seed (early stopping on the pooled dev sets, as the default model) and prints a Markdown table
of micro F1 (and precision on the conversation set, which matters most) on the hand-written dev
set and the conversation dev set. Choices are made on dev only; the test sets are never read.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from data.formats import read_examples
from model.config import TaggerConfig
from model.predictor import Predictor
from training.config import TrainConfig
from training.evaluate import evaluate
from training.train import train

# Each variant's settings that differ from the default: the network's (model.config.TaggerConfig)
# or training's (training.config.TrainConfig), told apart by name.
VARIANTS: dict[str, dict[str, Any]] = {
    "default (word + char CNN + shape + frequency + gazetteer, word dropout, CRF, weights "
    "averaged)": {},
    "two networks merged (an ensemble: --members 2, seeds 0 and 1)": {"members": 2},
    "no weight average (the weights as trained)": {"average": 0.0},
    "no gazetteer input": {"gazetteer_dim": 0},
    "no word frequency input": {"frequency_dim": 0},
    "neither (the first release's network)": {"gazetteer_dim": 0, "frequency_dim": 0},
    "with word clusters (Brown clusters from spacy-lookups-data, --cluster-dim 6)": {
        "cluster_dim": 6
    },
    "no character CNN": {"char_dim": 0},
    "no CRF (constrained per-token decoding)": {"use_crf": False},
    "hidden size 256": {"hidden_dim": 256},
}


def main(
    train_file: Path = typer.Option(Path("data/train.jsonl"), "--train"),
    dev_file: Path = typer.Option(Path("data/dev.txt"), "--dev"),
    conv_dev_file: Path = typer.Option(Path("data/conv_dev.txt"), "--conv-dev"),
    epochs: int = typer.Option(6),
    only: list[str] = typer.Option([], help="run only variants whose name contains this"),
) -> None:
    """Train each variant and print its F1 on both dev sets."""
    train_examples = read_examples(train_file)
    dev, conv_dev = read_examples(dev_file), read_examples(conv_dev_file)
    base = TrainConfig(epochs=epochs, patience=2, seed=0, average=0.4)  # the default model's
    typer.echo(
        "| variant | dev micro F1 | conversation dev micro F1 | conversation dev precision "
        "| size (MB) | train s |"
    )
    typer.echo("|---|---:|---:|---:|---:|---:|")
    for name, overrides in VARIANTS.items():
        if only and not any(o in name for o in only):
            continue
        # "members" is both: training's (train K networks, then merge them) is the one meant.
        network = {
            k: v
            for k, v in overrides.items()
            if k in TaggerConfig.model_fields and k not in TrainConfig.model_fields
        }
        config = TrainConfig(
            **{**base.model_dump(), **{k: v for k, v in overrides.items() if k not in network}}
        )
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            train(
                train_examples,
                [*dev, *conv_dev],
                TaggerConfig(**network),
                config,
                Path(tmp) / "m",
                progress=False,
            )
            seconds = time.perf_counter() - started
            size = sum(f.stat().st_size for f in (Path(tmp) / "m").iterdir()) / 1e6
            predictor = Predictor.from_dir(Path(tmp) / "m")
            on_dev, on_conv = evaluate(predictor, dev), evaluate(predictor, conv_dev)
        typer.echo(
            f"| {name} | {on_dev.micro.f1:.3f} | {on_conv.micro.f1:.3f} | "
            f"{on_conv.micro.precision:.3f} | {size:.1f} | {seconds:.0f} |",
        )


if __name__ == "__main__":
    typer.run(main)
