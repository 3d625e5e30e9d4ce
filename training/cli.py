"""The ``slot-tagger`` command line: train, evaluate, calibrate, tag, serve.

Each command parses its options, calls one function and prints. Results go to stdout, progress
and messages to stderr, so ``slot-tagger tag | jq`` always works. What ``--help`` says is
:data:`HELP`; each command's docstring is its own help.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from datetime import date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import orjson
import typer

from data.formats import DataFormatError, read_examples
from model.config import TaggerConfig
from model.errors import ModelError
from model.predictor import Predictor
from model.values.dates import DEFAULT_TIMEZONE, Today
from training.config import TrainConfig

HELP = """Find where a traveller leaves from, where they go and when: slot-tagger tags travel
text with departure, destination and date spans, each with a confidence and a value (a calendar
date, a city and its airports). It also trains, evaluates, calibrates and serves models.

\b
Example:
  $ slot-tagger tag "leave Beijing on November 2nd"
  {"text": "leave Beijing on November 2nd", "spans": [
    {"label": "departure", "text": "Beijing", "start": 6, "end": 13, ...},
    {"label": "date", "text": "November 2nd", "start": 17, "end": 29, ...}]}

Each command's options: slot-tagger COMMAND --help.
"""

app = typer.Typer(add_completion=False, no_args_is_help=True, help=HELP)

T = TaggerConfig.model_fields
C = TrainConfig.model_fields
ModelOption = Annotated[
    Path | None, typer.Option("--model", help="model directory (default: the shipped model)")
]


def _package_version() -> str:
    try:
        return version("slot-tagger")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"slot-tagger {_package_version()}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg="red", err=True)
    return typer.Exit(code=2)


def _load(model: Path | None, threads: int = 1) -> Predictor:
    try:
        return Predictor.from_dir(model, threads=threads)
    except ModelError as e:
        raise _fail(str(e)) from None


def _examples(path: Path) -> list:
    try:
        return read_examples(path)
    except (OSError, DataFormatError) as e:
        raise _fail(str(e)) from None


@app.command()
def train(
    train_file: Annotated[
        Path, typer.Option("--train", help="training data (.jsonl, .conll, .txt)")
    ],
    dev_files: Annotated[
        list[Path],
        typer.Option(
            "--dev", help="dev data, scored after every epoch (repeat the option to pool sets)"
        ),
    ],
    out: Annotated[Path, typer.Option(help="model directory to write (replaced atomically)")],
    seed: int = C["seed"].default,
    epochs: int = C["epochs"].default,
    batch_size: int = C["batch_size"].default,
    lr: float = C["lr"].default,
    patience: int = C["patience"].default,
    threads: int = C["threads"].default,
    name: str = C["name"].default,
    word_dim: int = T["word_dim"].default,
    char_dim: int = T["char_dim"].default,
    shape_dim: int = T["shape_dim"].default,
    frequency_dim: int = T["frequency_dim"].default,
    gazetteer_dim: int = T["gazetteer_dim"].default,
    place_holdout: float = C["place_holdout"].default,
    hidden_dim: int = T["hidden_dim"].default,
    layers: int = T["layers"].default,
    dropout: float = T["dropout"].default,
    word_dropout: float = T["word_dropout"].default,
    use_crf: bool = T["use_crf"].default,
    resume: Annotated[
        bool, typer.Option(help="go on from the last epoch a stopped run saved")
    ] = False,
) -> None:
    """Train a model; print dev F1 per epoch and a per-label report of the kept epoch."""
    from training.train import train as run_training

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    tagger_config = TaggerConfig(
        word_dim=word_dim,
        char_dim=char_dim,
        shape_dim=shape_dim,
        frequency_dim=frequency_dim,
        gazetteer_dim=gazetteer_dim,
        hidden_dim=hidden_dim,
        layers=layers,
        dropout=dropout,
        word_dropout=word_dropout,
        use_crf=use_crf,
    )
    train_config = TrainConfig(
        seed=seed,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        patience=patience,
        threads=threads,
        name=name,
        place_holdout=place_holdout,
    )
    try:
        result = run_training(
            _examples(train_file),
            [example for dev_file in dev_files for example in _examples(dev_file)],
            tagger_config,
            train_config,
            out,
            resume=resume,
        )
    except ValueError as e:
        raise _fail(str(e)) from None
    typer.echo(
        f"kept epoch {result.best_epoch}; model {result.meta.version} saved to {out}", err=True
    )
    typer.echo(result.dev_report.render())


@app.command()
def evaluate(
    data: Annotated[Path, typer.Option(help="gold data (.jsonl, .conll, .txt)")],
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Exact character-span precision, recall and F1 per label and micro-averaged."""
    from training.evaluate import evaluate as run_evaluation

    report = run_evaluation(_load(model), _examples(data))
    typer.echo(json.dumps(report.to_json()) if as_json else report.render())


@app.command()
def calibrate(
    data: Annotated[Path, typer.Option(help="held-out gold data to fit on (the dev set)")],
    model: Annotated[Path, typer.Option(help="model directory, rewritten atomically")],
) -> None:
    """Fit the model's confidence temperature on DATA and store it; print reliability.

    Spans under confidence 0.5 (more likely wrong than right) are dropped; the version changes.
    """
    from model import artifact
    from training.calibrate import fit, reliability, render

    fitted = fit(_load(model), _examples(data))
    meta = artifact.store_calibration(model, fitted.calibration)
    c = fitted.calibration
    typer.echo(
        f"temperature {c['temperature']}; ECE {c['ece_before']} -> {c['ece_after']} on "
        f"{len(fitted.after)} spans; model version {meta.version}",
        err=True,
    )
    typer.echo(render(reliability(fitted.after)))


def _stdin_texts() -> Iterator[str]:
    for line in sys.stdin:
        line = line.rstrip("\n")
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                obj = None
            if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                yield obj["text"]
                continue
        yield line


def _reference(reference_date: datetime | None, timezone: str) -> date | Today:
    if reference_date is not None:
        return reference_date.date()
    try:
        return Today(timezone)
    except ValueError as e:
        raise _fail(str(e)) from None


@app.command()
def tag(
    texts: Annotated[
        list[str] | None, typer.Argument(help="texts to tag (default: stdin lines)")
    ] = None,
    model: ModelOption = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 256,
    reference_date: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="the day dates are read against (default: today)"),
    ] = None,
    timezone: Annotated[
        str, typer.Option(help="IANA zone whose today is the default")
    ] = DEFAULT_TIMEZONE,
    threads: Annotated[
        int,
        typer.Option(
            min=1,
            help="network threads; 1 is fastest on 2 cores, where the network already runs "
            "beside the Python work",
        ),
    ] = 1,
) -> None:
    """Tag texts, one JSON object per input on stdout, streaming in input order."""
    reference = _reference(reference_date, timezone)
    predictor = _load(model, threads)
    gc.collect()
    gc.freeze()  # the model, place table and vocabularies stay: spare the collector their scan
    out = sys.stdout.buffer  # orjson writes UTF-8 bytes, 5x sooner than json.dumps
    stream = texts if texts else _stdin_texts()
    for prediction in predictor.predict_iter(stream, batch_size, reference_date=reference):
        out.write(orjson.dumps(prediction.to_json(compact=True)) + b"\n")
    out.flush()


@app.command()
def export(
    model_dir: Annotated[Path, typer.Argument(help="model directory, rewritten atomically")],
) -> None:
    """Save the model's network as ONNX graphs in its directory, so serving needs no torch.

    Training saves them; this is for models saved before, or whose graph was refused. The weights
    and every other file stay as they are, and so does the model's version. Needs torch
    (pip install 'slot-tagger[train]').
    """
    from model import artifact, graph

    try:
        artifact.export_graph(model_dir)
    except ModelError as e:
        raise _fail(str(e)) from None
    names = (graph.TOKEN_GRAPH, graph.CONTEXTUAL_GRAPH, graph.GRAPH_FILE)
    sizes = ", ".join(f"{n} {(model_dir / n).stat().st_size:,} bytes" for n in names)
    typer.echo(f"exported the graph of {model_dir}: {sizes}", err=True)


@app.command()
def serve(
    model: ModelOption = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """Serve the HTTP API (uvicorn) for a model."""
    import uvicorn

    from model.predictor import load_model

    try:  # refuse to start, in one line, before any worker does (as serving loads it: no torch)
        load_model(model)
    except ModelError as e:
        raise _fail(f"cannot serve: {e}") from None
    if model is not None:
        os.environ["SLOT_TAGGER_MODEL_DIR"] = str(model.resolve())
    # uvicorn re-raises SIGTERM/SIGINT once it has shut down gracefully, to die of the signal;
    # a service manager should see a clean stop (exit 0) instead.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda *_: sys.exit(0))
    # Keep-alive longer than clients and proxies keep idle connections (75 s, as nginx), so the
    # server never closes a connection a client is just reusing.
    # The app writes its own JSON access log (request id, status, duration); uvicorn's plain one
    # would say the same twice.
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_keep_alive=75,
        access_log=False,
    )


if __name__ == "__main__":
    app()
