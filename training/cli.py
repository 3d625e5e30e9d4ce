"""The ``slot-tagger`` command line: train, evaluate, calibrate, tag, serve.

Each command parses its options, calls one function and prints. Results go to stdout, progress
and messages to stderr, so ``slot-tagger tag | jq`` always works. What ``--help`` says is
:data:`HELP`; each command's docstring is its own help.
"""

from __future__ import annotations

import gc
import itertools
import json
import logging
import os
import re
import signal
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from pydantic import ValidationError

from data.formats import FORMATS, PRETOKENIZED, DataFormatError, guess_format, read_examples
from model.artifact import LoadedModel
from model.config import Cell, TaggerConfig
from model.errors import ModelError
from model.predictor import Predictor
from model.tokenize import TOKENIZERS
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


def _option_errors(error: ValidationError) -> str:
    """``--hidden-dim: input should be greater than or equal to 1``, one per wrong option."""
    return "; ".join(
        f"--{_OPTION_OF.get(str(e['loc'][0]), str(e['loc'][0])).replace('_', '-')}: "
        f"{e['msg'][0].lower()}{e['msg'][1:]}"
        for e in error.errors()
    )


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg="red", err=True)
    return typer.Exit(code=2)


def _load(model: Path | None, threads: int = 1) -> Predictor:
    try:
        return Predictor.from_dir(model, threads=threads)
    except ModelError as e:
        raise _fail(str(e)) from None


def _given(ctx: typer.Context, option: str) -> bool:
    """Whether the user set ``option`` (on the command line or by environment), not its default."""
    source = ctx.get_parameter_source(option)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _load_trainable(path: Path) -> LoadedModel:
    """A saved model with its torch network, to train on from (``train --init``)."""
    from model import artifact

    try:
        return artifact.load(path, graph=False)
    except ModelError as e:
        raise _fail(str(e)) from None


FromOption = Annotated[
    str | None,
    typer.Option(
        "--from",
        help=f"format of the data files: {', '.join(FORMATS)} (default: guessed from each file)",
    ),
]


def _examples(path: Path, fmt: str | None = None) -> list:
    try:
        return read_examples(path, fmt)
    except DataFormatError as e:
        raise _fail(str(e)) from None
    except OSError as e:
        raise _fail(_os_message(e, path)) from None


def _os_message(error: OSError, path: Path) -> str:
    """``path: what is wrong`` for a file that cannot be read ("no such file or directory")."""
    return f"{error.filename or path}: {(error.strerror or str(error)).lower()}"


def _format(path: Path, fmt: str | None) -> str:
    if fmt is not None and fmt not in FORMATS:
        raise _fail(f"--from: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    try:
        return fmt or guess_format(path)
    except DataFormatError as e:
        raise _fail(str(e)) from None
    except OSError as e:
        raise _fail(_os_message(e, path)) from None


def _tokenizer(chosen: str | None, fmt: str) -> str:
    """The tokenizer named, or the data's own: a pre-tokenized file keeps its tokens."""
    if chosen is not None and chosen not in TOKENIZERS:
        raise _fail(f"--tokenizer: expected one of {', '.join(TOKENIZERS)}, got {chosen!r}")
    return chosen or ("whitespace" if fmt in PRETOKENIZED else "spacy")


TokenizerOption = Annotated[
    str | None,
    typer.Option(
        help="spacy or whitespace (default: whitespace for pre-tokenized data, bio and atis, "
        "whose tokens the model keeps; spacy otherwise)"
    ),
]


_NETWORK_OPTIONS = (
    "word_dim",
    "char_dim",
    "shape_dim",
    "frequency_dim",
    "cluster_dim",
    "gazetteer_dim",
    "hidden_dim",
    "layers",
    "cell",
    "dropout",
    "word_dropout",
    "use_crf",
)
_OPTION_OF = {"bidirectional": "unidirectional"}  # config field -> the option that sets it


@app.command()
def train(
    ctx: typer.Context,
    train_file: Annotated[
        Path, typer.Option("--train", help="training data (any format of --from)")
    ],
    dev_files: Annotated[
        list[Path],
        typer.Option(
            "--dev", help="dev data, scored after every epoch (repeat the option to pool sets)"
        ),
    ],
    out: Annotated[Path, typer.Option(help="model directory to write (replaced atomically)")],
    seed: int = C["seed"].default,
    epochs: Annotated[
        int | None, typer.Option(help="maximum epochs (default: from the data size, 10 to 60)")
    ] = None,
    batch_size: int = C["batch_size"].default,
    lr: float = C["lr"].default,
    patience: Annotated[
        int | None,
        typer.Option(
            help="epochs without a better dev F1 before stopping (default: 3 per 10 epochs)"
        ),
    ] = None,
    threads: int = C["threads"].default,
    name: str = C["name"].default,
    word_dim: int = T["word_dim"].default,
    char_dim: int = T["char_dim"].default,
    shape_dim: int = T["shape_dim"].default,
    frequency_dim: int = T["frequency_dim"].default,
    cluster_dim: int = T["cluster_dim"].default,
    gazetteer_dim: int = T["gazetteer_dim"].default,
    place_holdout: float = C["place_holdout"].default,
    average: Annotated[float, typer.Option(help=C["average"].description)] = C["average"].default,
    members: Annotated[int, typer.Option(help=C["members"].description)] = C["members"].default,
    hidden_dim: int = T["hidden_dim"].default,
    layers: int = T["layers"].default,
    cell: Annotated[
        Cell,
        typer.Option(
            help="the recurrent cell: lstm, gru and rnn are torch's; peephole, coupled ours"
        ),
    ] = T["cell"].default,
    unidirectional: Annotated[
        bool, typer.Option("--unidirectional", help="read sentences left to right only")
    ] = not T["bidirectional"].default,
    dropout: float = T["dropout"].default,
    word_dropout: float = T["word_dropout"].default,
    use_crf: bool = T["use_crf"].default,
    resume: Annotated[
        bool, typer.Option(help="go on from the last epoch a stopped run saved")
    ] = False,
    from_format: FromOption = None,
    tokenizer: TokenizerOption = None,
    init: Annotated[
        Path | None,
        typer.Option(
            help="fine-tune: start from this trained model (e.g. model/default) instead of fresh "
            "weights; new words, characters and labels get new rows, the network stays"
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="directory for the PNG plots (loss and dev F1 per epoch, per-label scores, token "
            "confusion, reliability) [default: OUT-report, beside the model]"
        ),
    ] = None,
    plots: Annotated[bool, typer.Option(help="draw the plots at all")] = True,
) -> None:
    """Train a model; print dev F1 per epoch and a per-label report of the kept epoch, and draw
    the plots of the run beside the model (or into --report)."""
    from training.train import train as run_training

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    fmt = _format(train_file, from_format)
    options = {name: ctx.params[name] for name in _NETWORK_OPTIONS}
    options["bidirectional"] = not unidirectional
    start = None
    if init is not None:
        start = _load_trainable(init)
        given = {k: v for k, v in options.items() if _given(ctx, _OPTION_OF.get(k, k))}
        options = {**start.config.model_dump(), **given}
    if init is None or tokenizer is not None:  # a fine-tuned model keeps its tokenizer
        options["tokenizer"] = _tokenizer(tokenizer, fmt)
    try:
        tagger_config = TaggerConfig(**options)
        train_config = TrainConfig(
            seed=seed,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            patience=patience,
            threads=threads,
            name=name,
            place_holdout=place_holdout,
            average=average,
            members=members,
        )
    except ValidationError as e:  # an option out of its range: say which, in one line
        raise _fail(_option_errors(e)) from None
    dev = [e for dev_file in dev_files for e in _examples(dev_file, from_format)]
    try:
        result = run_training(
            _examples(train_file, fmt),
            dev,
            tagger_config,
            train_config,
            out,
            resume=resume,
            init=start,
        )
    except ValueError as e:
        raise _fail(str(e)) from None
    except OSError as e:  # disk full, permission: one line, and no temporary copy left behind
        raise _fail(f"cannot write to {e.filename or out}: {e.strerror or e}") from None
    kept = (
        f"kept epoch {result.best_epoch}"
        if not result.members
        else f"{len(result.members)} members merged (kept epochs "
        f"{', '.join(str(m.best_epoch) for m in result.members)})"
    )
    typer.echo(f"{kept}; model {result.meta.version} saved to {out}", err=True)
    if start is not None and start.meta.calibration:
        typer.echo(
            f"{init} was calibrated; its calibration does not carry over to new weights: "
            f"run `slot-tagger calibrate --model {out} --data DEV` (dev data of your style)",
            err=True,
        )
    typer.echo(result.dev_report.render())
    if plots:
        _draw(out, dev, report or _report_dir(out), "dev")


def _report_dir(model_dir: Path) -> Path:
    """Where a model's plots go by default: beside its directory, never inside (a model
    directory is rewritten whole by calibrate and export, and its files make its version)."""
    return model_dir.parent / f"{model_dir.name}-report"


def _draw(model_dir: Path | None, examples: list, out: Path, title: str) -> list[Path]:
    try:
        from training import plots
    except ImportError as e:  # the serving install has no matplotlib
        raise _fail(f"plots need matplotlib ({e}); pip install 'slot-tagger[train]'") from None
    predictor = _load(model_dir)
    try:
        written = plots.write_report(predictor, examples, out, title=title)
    except OSError as e:
        raise _fail(f"cannot write to {e.filename or out}: {e.strerror or e}") from None
    if not plots.runs_of(predictor.meta):
        typer.echo(
            f"{model_dir or 'the shipped model'} keeps no per-epoch history (saved before "
            "training recorded it): no training.png",
            err=True,
        )
    typer.echo(f"plots: {', '.join(str(p) for p in written)}", err=True)
    return written


@app.command("report")
def report_command(
    model_dir: Annotated[Path, typer.Argument(metavar="MODEL", help="model directory")],
    data: Annotated[
        list[Path],
        typer.Option(help="gold data (any format of --from); repeat the option to pool sets"),
    ],
    out: Annotated[
        Path | None, typer.Option(help="directory for the PNGs [default: MODEL-report]")
    ] = None,
    from_format: FromOption = None,
) -> None:
    """Draw a model's plots on DATA as PNGs: per-label precision/recall/F1, the token confusion
    matrix of labels, the reliability of span confidences, and loss and dev F1 per epoch when the
    model kept its training history."""
    examples = [e for path in data for e in _examples(path, from_format)]
    title = " + ".join(path.name for path in data)
    _draw(model_dir, examples, out or _report_dir(model_dir), title)


@app.command()
def evaluate(
    data: Annotated[Path, typer.Option(help="gold data (any format of --from)")],
    model: ModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    from_format: FromOption = None,
) -> None:
    """Exact character-span precision, recall and F1 per label (most frequent first) and
    micro-averaged, then the most frequent label mix-ups (counted in spans)."""
    from training.evaluate import evaluate as run_evaluation

    report = run_evaluation(_load(model), _examples(data, _format(data, from_format)))
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
    try:
        meta = artifact.store_calibration(model, fitted.calibration)
    except OSError as e:  # disk full, permission: one line; the model stays as it was
        raise _fail(f"cannot write to {e.filename or model}: {e.strerror or e}") from None
    c = fitted.calibration
    typer.echo(
        f"temperature {c['temperature']}; ECE {c['ece_before']} -> {c['ece_after']} on "
        f"{len(fitted.after)} spans; model version {meta.version}",
        err=True,
    )
    typer.echo(render(reliability(fitted.after)))


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(metavar="IN", help="file (or ATIS directory) to read")],
    target: Annotated[
        Path, typer.Argument(metavar="OUT", help="file to write: .jsonl, or .bio/.conll/.tsv")
    ],
    from_format: FromOption = None,
    tokenizer: TokenizerOption = None,
) -> None:
    """Convert annotated data to JSONL or BIO (chosen by OUT's suffix), written atomically.

    Reads Rasa NLU YAML, Doccano JSONL, Label Studio JSON, spaCy DocBin (.spacy), the ATIS pair
    (seq.in + seq.out, or their directory), JSONL, BIO and bracket markup (.txt).
    """
    from data.formats import convert as run_conversion

    fmt = _format(source, from_format)
    try:
        done = run_conversion(source, target, fmt, _tokenizer(tokenizer, fmt))
    except (ValueError, DataFormatError) as e:
        raise _fail(str(e)) from None
    except OSError as e:
        raise _fail(f"cannot convert: {e.filename or source}: {e.strerror or e}") from None
    typer.echo(done.summary(), err=True)


DEFAULT_MAX_LINE_BYTES = 65_536
_SURROGATE = re.compile("[\ud800-\udfff]")
# line number, its text or None, what is wrong or None, the text's dialogue context
Line = tuple[int, str | None, str | None, list[str]]


def _checked(number: int, text: str, context: Sequence[str] = ()) -> Line:
    for part in (text, *context):
        if m := _SURROGATE.search(part):
            return number, None, f"text has an unpaired surrogate at character {m.start()}", []
    return number, text, None, list(context)


def _context_of(obj: dict[str, Any]) -> list[str] | None:
    """A JSON line's "context": its earlier turns (a list of strings, or one string; None if it
    is neither)."""
    context = obj.get("context")
    if context is None:
        return []
    if isinstance(context, str):
        return [context]
    if isinstance(context, list) and all(isinstance(turn, str) for turn in context):
        return context
    return None


def _stdin_lines(max_bytes: int) -> Iterator[Line]:
    """Standard input line by line: a JSON object's "text" (and "context"), or the line itself.
    A line that
    cannot be tagged (over ``max_bytes``, not UTF-8, broken JSON) comes with what is wrong, and
    is never held whole in memory."""
    stdin, number = sys.stdin.buffer, 0
    while raw := stdin.readline(max_bytes + 1):
        number += 1
        content = raw[:-1] if raw.endswith(b"\n") else raw
        if len(content) > max_bytes:
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line, a piece at a time
                raw = stdin.readline(65_536)
            yield number, None, f"line is longer than {max_bytes:,} bytes (--max-line-bytes)", []
            continue
        try:
            line = content.decode("utf-8")
        except UnicodeDecodeError as e:
            yield number, None, f"line is not valid UTF-8 (byte {e.start + 1})", []
            continue
        if not line.lstrip().startswith("{"):
            yield _checked(number, line)
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            error = f"line starts with '{{' but is not JSON ({e.msg}, column {e.colno})"
            yield number, None, error, []
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            yield number, None, 'a JSON line needs a string "text" field', []
            continue
        if (context := _context_of(obj)) is None:
            yield number, None, 'a JSON line\'s "context" must be a list of strings or a string', []
            continue
        yield _checked(number, obj["text"], context)


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
    max_line_bytes: Annotated[
        int, typer.Option(min=1, help="longest stdin line; a longer one is an error line")
    ] = DEFAULT_MAX_LINE_BYTES,
    ray: Annotated[
        bool,
        typer.Option(
            "--ray", help="tag the file INPUT (JSONL or Parquet) on Ray Data into --out DIR"
        ),
    ] = False,
    out: Annotated[Path | None, typer.Option(help="with --ray: the output directory")] = None,
    workers: Annotated[int, typer.Option(min=1, help="with --ray: predictor actors")] = 1,
) -> None:
    """Tag texts, one JSON object per input on stdout, streaming in input order.

    A line that cannot be tagged gets {"line": N, "error": "..."} in its place; the others go
    on, and the exit code is 1 if any line failed. With --ray, `tag --ray INPUT --out DIR` writes
    DIR/tagged.jsonl in input order (rows need a "text"; an "id" is copied)."""
    reference = _reference(reference_date, timezone)
    if ray:
        _tag_on_ray(texts, out, workers, batch_size, model, reference, threads)
        return
    if out is not None or workers != 1:
        raise _fail("--out and --workers are for --ray (without it, results go to stdout)")
    predictor = _load(model, threads)
    gc.collect()
    gc.freeze()  # the model, place table and vocabularies stay: spare the collector their scan
    out = sys.stdout.buffer  # orjson writes UTF-8 bytes, 5x sooner than json.dumps
    lines = (
        (_checked(i, t) for i, t in enumerate(texts, 1)) if texts else _stdin_lines(max_line_bytes)
    )
    failed = _write_tagged(predictor, lines, batch_size, reference, out)
    out.flush()
    if failed:
        typer.echo(f"{failed:,} line(s) could not be tagged; see their error objects", err=True)
        raise typer.Exit(code=1)


def _tag_on_ray(
    texts: list[str] | None,
    out: Path | None,
    workers: int,
    batch_size: int,
    model: Path | None,
    reference: date | Today,
    threads: int,
) -> None:
    if not texts or len(texts) != 1 or out is None:
        raise _fail("tag --ray needs one INPUT file or directory and --out DIR")
    try:
        from training.bulk import BulkInputError, tag_dataset
    except ImportError:
        raise _fail("tag --ray: Ray is not installed; pip install 'slot-tagger[ray]'") from None
    if model is not None:
        _load(model)  # a bad model is one line here, not an error in every actor
    try:
        result = tag_dataset(
            Path(texts[0]),
            out,
            workers=workers,
            batch_size=batch_size,
            model_dir=model,
            reference=reference,
            threads=threads,
        )
    except BulkInputError as e:
        raise _fail(str(e)) from None
    typer.echo(f"{result.rows:,} rows in {result.seconds:.1f} s", err=True)


def _write_tagged(
    predictor: Predictor, lines: Iterator[Line], batch_size: int, reference: date | Today, out: Any
) -> int:
    """Write each line's prediction, or its error object, in input order; returns the errors."""
    waiting: deque[tuple[int, str | None]] = deque()  # lines read ahead: number, error or None
    failed = 0

    def tagged() -> Iterator[tuple[str, list[str]]]:
        for number, text, error, context in lines:
            waiting.append((number, error))
            if text is not None:
                yield text, context

    def write_errors() -> None:
        nonlocal failed
        while waiting and waiting[0][1] is not None:
            number, error = waiting.popleft()
            out.write(orjson.dumps({"line": number, "error": error}) + b"\n")
            failed += 1

    texts, contexts = itertools.tee(tagged())  # the predictor reads a chunk's texts, then theirs
    stream = predictor.predict_iter(
        (text for text, _ in texts),
        batch_size,
        reference_date=reference,
        contexts=(context for _, context in contexts),
    )
    for prediction in stream:
        write_errors()
        waiting.popleft()
        out.write(orjson.dumps(prediction.to_json(compact=True)) + b"\n")
    write_errors()
    return failed


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
    ray: Annotated[
        bool, typer.Option("--ray", help="serve on Ray Serve (a local cluster; the [ray] extra)")
    ] = False,
    replicas: Annotated[
        int, typer.Option(min=1, help="with --ray: model replicas (behind two HTTP ingress ones)")
    ] = 1,
) -> None:
    """Serve the HTTP API (uvicorn, or Ray Serve with --ray) for a model."""
    # Loading allocates ~360k objects that live as long as the process; collections while they
    # pile up are wasted work (0.3 s of the start). The app turns the collector back on once the
    # model is loaded (app.main.LoadModelAtStartup).
    gc.disable()
    import uvicorn

    from model.predictor import load_model

    for secret in ("SLOT_TAGGER_API_KEY", "SLOT_TAGGER_ADMIN_TOKEN"):
        if secret in os.environ and not os.environ[secret].strip():
            raise _fail(f"cannot serve: {secret} is set but empty; unset it, or give it a value")
    if ray and workers > 1:
        raise _fail("cannot serve: --workers is for uvicorn; with --ray, use --replicas")
    if not ray and replicas > 1:
        raise _fail("cannot serve: --replicas needs --ray (uvicorn has --workers)")
    if ray and os.environ.get("SLOT_TAGGER_ADMIN_TOKEN"):
        # The HTTP app and the model run in different replicas (app/ray_serve.py): a reload
        # would reach one ingress replica and no model replica.
        raise _fail(
            "cannot serve --ray with SLOT_TAGGER_ADMIN_TOKEN set; a reload would reach one "
            "replica only. Unset the token, and restart (or redeploy) to change models"
        )
    workers = max(workers, replicas)
    if workers > 1 and os.environ.get("SLOT_TAGGER_ADMIN_TOKEN"):
        # A reload reaches the one worker that takes the request: the others would serve the old
        # model. Reload by restarting the workers instead (or serve with one).
        raise _fail(
            "cannot serve: --workers > 1 with SLOT_TAGGER_ADMIN_TOKEN set; a reload would "
            "reach one worker only. Use one worker, or unset the token and restart to reload"
        )
    try:  # refuse to start, in one line, before any worker does (as serving loads it: no torch)
        load_model(model)
    except ModelError as e:
        raise _fail(f"cannot serve: {e}") from None
    except Exception as e:  # noqa: BLE001 - any failure to load is one line, not a traceback
        raise _fail(f"cannot serve: model cannot be loaded ({type(e).__name__}: {e})") from None
    if model is not None:
        os.environ["SLOT_TAGGER_MODEL_DIR"] = str(model.resolve())
    if ray:  # the replicas load the model, each in its own process
        gc.enable()
        _serve_on_ray(host, port, replicas)
        return
    # uvicorn re-raises SIGTERM/SIGINT once it has shut down gracefully, to die of the signal;
    # a service manager should see a clean stop (exit 0) instead.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda *_: sys.exit(0))
    if workers > 1:  # this process only supervises; each worker is a fresh interpreter
        gc.enable()
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
        # uvicorn's httptools protocol plus a read timeout, a header size limit and a cap on open
        # connections (SLOT_TAGGER_REQUEST_READ_TIMEOUT_S, _MAX_HEADER_BYTES, _MAX_CONNECTIONS)
        http="app.connections:BoundedHttpTools",
    )


def _serve_on_ray(host: str, port: int, replicas: int) -> None:
    """Start a local Ray cluster and run app.ray_serve's application on it until stopped."""
    try:
        from ray._common.utils import import_attr
    except ImportError:
        raise _fail(
            "cannot serve --ray: Ray is not installed; pip install 'slot-tagger[ray]'"
        ) from None
    run = import_attr("app.ray_serve:run")  # by name, as uvicorn is given the app: no app import
    run(host, port, {"num_replicas": replicas})


if __name__ == "__main__":
    app()
