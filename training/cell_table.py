"""The README's table of recurrent cells: every cell, both ways and left to right only, trained
on the same data with the same budget and three seeds, then scored and timed as served.

``python -m training.cell_table`` (``make cells``) generates its own training set with the
project's generator (``--n`` examples, seed ``--data-seed``; a reduced budget so the whole table
trains in about half an hour on two cores), trains each cell x direction x seed (the epoch kept
chosen on the hand-written dev set), and prints a Markdown table: micro F1 on the hand-written dev
set and the conversation dev set (mean and spread over the seeds), parameters, training time, and
batch-1 latency on ONNX Runtime (a whole ``predict`` of one dev sentence, and the network alone).
The raw numbers go to ``--out`` as JSON. Choices are made on dev only; the test sets are never
read.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import typer

from data.example import Example
from data.formats import read_examples
from data.generate import generate
from model import artifact
from model.config import CELLS, TaggerConfig
from model.predictor import Predictor
from model.tokenize import tokenize
from training.config import TrainConfig
from training.evaluate import evaluate
from training.train import train

SEEDS = (0, 1, 2)
LATENCY_SENTENCES = 200  # dev sentences tagged one at a time, for the median latency
WARMUP = 20
STEP_BATCH = 32  # sentences per timed training step (TrainConfig's batch size)
STEP_REPEATS = 30


def measure(
    train_examples: list[Example],
    dev: list[Example],
    conv_dev: list[Example],
    tagger_config: TaggerConfig,
    train_config: TrainConfig,
) -> dict[str, Any]:
    """Train one model and measure it: F1 on both dev sets, size, training and serving time."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "m"
        started = time.perf_counter()
        # The epoch is chosen on the hand-written dev set alone: scoring both every epoch would
        # cost more than training on this budget.
        result = train(train_examples, dev, tagger_config, train_config, out, False)
        train_s = time.perf_counter() - started
        predictor = Predictor.from_dir(out)  # ONNX Runtime, as served
        tagger = artifact.load(out).tagger
        assert tagger is not None
        parameters = sum(p.numel() for p in tagger.parameters() if p.requires_grad)
        on_dev, on_conv = evaluate(predictor, dev), evaluate(predictor, conv_dev)
        predict_ms, network_us = _latency(predictor, [e.text for e in dev[:LATENCY_SENTENCES]])
    return {
        "dev_f1": on_dev.micro.f1,
        "conv_dev_f1": on_conv.micro.f1,
        "parameters": parameters,
        "recurrent_parameters": sum(p.numel() for p in tagger.rnn.parameters()),
        "train_s": train_s,
        "best_epoch": result.best_epoch,
        "predict_ms": predict_ms,
        "network_us": network_us,
    }


def step_ms(
    train_examples: list[Example], configs: dict[str, TaggerConfig], repeats: int = STEP_REPEATS
) -> dict[str, float]:
    """Median milliseconds of one training step (forward, backward, Adam) on the same batch of
    ``STEP_BATCH`` sentences, the configs taking turns step by step, so that a machine shared
    with other work slows each alike (whole training times, one run after another, do not)."""
    import random

    import torch

    from model.encode import Encoder
    from model.tagger import BiLSTMTagger
    from training.dataset import align, batches, build_lexicon, build_vocabs

    aligned = align(train_examples[:STEP_BATCH])
    vocabs = build_vocabs(aligned.sentences, 1, build_lexicon())
    encoder = Encoder(vocabs, TaggerConfig().max_word_chars)
    batch, tag_ids = next(batches(aligned.sentences, encoder, STEP_BATCH, random.Random(0)))
    torch.manual_seed(0)
    taggers = {name: BiLSTMTagger(config, vocabs).train() for name, config in configs.items()}
    optimizers = {n: torch.optim.Adam(t.parameters(), lr=1e-3) for n, t in taggers.items()}
    times: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(repeats):
        for name, tagger in taggers.items():
            started = time.perf_counter()
            optimizers[name].zero_grad()
            tagger.loss(batch, tag_ids).backward()
            optimizers[name].step()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) * 1e3 for name, t in times.items()}


def _latency(predictor: Predictor, texts: list[str]) -> tuple[float, float]:
    """Median milliseconds of ``predict([text])`` and median microseconds of the network alone
    (token inputs and tag scores of one encoded sentence), one sentence at a time."""
    token_lists = [[t.text for t in tokenize(text)] or ["."] for text in texts]
    for text in texts[:WARMUP]:
        predictor.predict([text])
    whole, network = [], []
    for text, tokens in zip(texts, token_lists, strict=True):
        started = time.perf_counter()
        predictor.predict([text])
        whole.append(time.perf_counter() - started)
        batch = predictor.encoder([tokens])
        started = time.perf_counter()
        predictor.network.emissions(batch)
        network.append(time.perf_counter() - started)
    return statistics.median(whole) * 1e3, statistics.median(network) * 1e6


def table(rows: list[dict[str, Any]], steps: dict[str, float]) -> str:
    """The Markdown table: one line per cell x direction, seeds pooled; ``steps`` the
    milliseconds per training step by "cell direction"."""
    lines = [
        "| cell | direction | dev F1 | conversation dev F1 | parameters (recurrent) "
        "| train s | ms per training step | predict ms | network µs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in CELLS:
        for direction in ("both ways", "left to right"):
            runs = [r for r in rows if r["cell"] == cell and r["direction"] == direction]
            if not runs:
                continue

            def spread(key: str, runs: list[dict[str, Any]] = runs) -> str:
                values = [r[key] for r in runs]
                low, high = min(values), max(values)
                return f"{statistics.mean(values):.3f} ({low:.3f}–{high:.3f})"

            def mean(key: str, runs: list[dict[str, Any]] = runs) -> float:
                return statistics.mean(r[key] for r in runs)

            lines.append(
                f"| {cell} | {direction} | {spread('dev_f1')} | {spread('conv_dev_f1')} "
                f"| {runs[0]['parameters']:,} ({runs[0]['recurrent_parameters']:,}) "
                f"| {mean('train_s'):.0f} | {steps.get(f'{cell} {direction}', float('nan')):.0f} "
                f"| {mean('predict_ms'):.2f} | {mean('network_us'):.0f} |"
            )
    return "\n".join(lines)


def main(
    n: int = typer.Option(2000, help="generated training examples"),
    data_seed: int = typer.Option(13, help="the generator's seed"),
    dev_file: Path = typer.Option(Path("data/dev.txt"), "--dev"),
    conv_dev_file: Path = typer.Option(Path("data/conv_dev.txt"), "--conv-dev"),
    epochs: int = typer.Option(3),
    hidden_dim: int = typer.Option(64),
    lr: float = typer.Option(2e-2),
    cell: list[str] = typer.Option([], help="only these cells (default: all)"),
    seeds: int = typer.Option(len(SEEDS), help="seeds per cell and direction"),
    out: Path = typer.Option(Path("docs/cells.json"), help="the raw numbers, as JSON"),
    steps_only: bool = typer.Option(
        False, help="time the training steps again and reprint the table from --out's runs"
    ),
) -> None:
    """Train every cell x direction x seed on the same budget and print the Markdown table."""
    train_examples = list(generate(data_seed, n))
    if steps_only:
        saved = json.loads(out.read_text())
        steps = step_ms(train_examples, _configs(saved["runs"], hidden_dim))
        _write(out, {**saved, "step_ms": steps})
        typer.echo(table(saved["runs"], steps))
        return
    dev, conv_dev = read_examples(dev_file), read_examples(conv_dev_file)
    budget = {"n": n, "data_seed": data_seed, "epochs": epochs, "hidden_dim": hidden_dim, "lr": lr}
    rows: list[dict[str, Any]] = []
    for name in [c for c in CELLS if not cell or c in cell]:
        for bidirectional in (True, False):
            for seed in range(seeds):
                tagger_config = TaggerConfig(
                    cell=name, bidirectional=bidirectional, hidden_dim=hidden_dim
                )
                train_config = TrainConfig(epochs=epochs, patience=epochs, lr=lr, seed=seed)
                row = {
                    "cell": name,
                    "direction": "both ways" if bidirectional else "left to right",
                    "seed": seed,
                    **measure(train_examples, dev, conv_dev, tagger_config, train_config),
                }
                rows.append(row)
                typer.echo(json.dumps(row), err=True)
                _write(out, {"budget": budget, "runs": rows})  # after each run: a long job
    steps = step_ms(train_examples, _configs(rows, hidden_dim))
    _write(out, {"budget": budget, "runs": rows, "step_ms": steps})
    typer.echo(table(rows, steps))


def _configs(rows: list[dict[str, Any]], hidden_dim: int) -> dict[str, TaggerConfig]:
    """One network per cell x direction of the runs, by "cell direction"."""
    return {
        f"{r['cell']} {r['direction']}": TaggerConfig(
            cell=r["cell"], bidirectional=r["direction"] == "both ways", hidden_dim=hidden_dim
        )
        for r in rows
    }


def _write(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=1) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    typer.run(main)
