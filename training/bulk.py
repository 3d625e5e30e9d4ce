"""Bulk tagging on Ray Data: a JSONL or Parquet file (or directory of them) read by Ray Data,
tagged by ``map_batches`` over a pool of predictor actors, and written in input order to
``OUT/tagged.jsonl`` (``slot-tagger tag --ray INPUT --out OUT``). Needs the ``[ray]`` extra.

Each input row needs a string ``text``; an optional ``context`` (earlier turns: a list of strings)
and an optional ``id`` (any JSON value, copied to the output row) are read too. Without an address
in ``RAY_ADDRESS`` a local cluster is started for the run and stopped after it.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from model.predictor import Predictor
from model.values.dates import Today

OUTPUT = "tagged.jsonl"
SUFFIXES = {".jsonl": "json", ".json": "json", ".parquet": "parquet"}


class BulkInputError(ValueError):
    """The input cannot be read as rows with a string "text" (a one-line CLI error)."""


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What a run did: rows written, where, and its seconds (the cluster's start included)."""

    rows: int
    path: Path
    seconds: float


class TagBatch:
    """One Ray Data actor: a predictor loaded once, tagging one batch of rows per call."""

    def __init__(self, model_dir: str | None, reference: date | Today, threads: int) -> None:
        self.predictor = Predictor.from_dir(model_dir, threads=threads)
        self.reference = reference

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(text) for text in batch["text"]]
        contexts = [_turns(c) for c in batch["context"]] if "context" in batch else None
        predictions = self.predictor.predict(
            texts, reference_date=self.reference, contexts=contexts
        )
        ids = batch.get("id")
        rows = []
        for i, prediction in enumerate(predictions):
            row = prediction.to_json(compact=True)
            if ids is not None:
                row = {"id": _plain(ids[i]), **row}
            rows.append(orjson.dumps(row))
        return {"json": np.array(rows, dtype=object)}


def _turns(context: Any) -> list[str]:
    if context is None:
        return []
    if isinstance(context, str):
        return [context]
    return [str(turn) for turn in context]


def _plain(value: Any) -> Any:
    """A NumPy scalar as the JSON value it stands for."""
    return value.item() if isinstance(value, np.generic) else value


def tag_dataset(
    source: Path,
    out: Path,
    *,
    workers: int = 1,
    batch_size: int = 256,
    model_dir: Path | None = None,
    reference: date | Today,
    threads: int = 1,
) -> BulkResult:
    """Tag every row of ``source`` into ``out/tagged.jsonl``, in input order.

    Args:
        source: a .jsonl/.json or .parquet file, or a directory of such files.
        out: the output directory (made if missing); the file appears whole (temp file, rename).
        workers: predictor actors (each loads the model and takes one CPU).
        batch_size: rows per ``map_batches`` call.
        model_dir: the model; None is the shipped one.
        reference: the day dates are read against (``Today(zone)``: the day each batch runs).
        threads: network threads per actor.

    Raises:
        BulkInputError: the input is missing, of an unknown kind, or has no "text" column.
    """
    import ray

    started = time.perf_counter()
    reader = _reader(source)
    if workers < 1 or batch_size < 1:
        raise ValueError(f"expected workers >= 1 and batch_size >= 1, got {workers}, {batch_size}")
    own_cluster = not ray.is_initialized()
    if own_cluster:
        address = os.environ.get("RAY_ADDRESS")
        # A local cluster gets a CPU beside the actors', for the reading tasks (with every CPU
        # taken by an actor, nothing would read: the run would wait forever).
        cpus = None if address else max(os.cpu_count() or 1, workers + 1)
        ray.init(address=address, num_cpus=cpus, include_dashboard=False)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # rows come back in input order
        try:
            dataset = reader(str(source))
            columns = dataset.columns()
        except Exception as e:  # noqa: BLE001 - pyarrow's parse errors, as one line
            raise BulkInputError(f"{source}: cannot be read ({type(e).__name__}: {e})") from None
        if "text" not in columns:
            raise BulkInputError(f'{source}: expected a "text" column, got {columns}')
        kept = [c for c in ("id", "text", "context") if c in columns]
        tagged = dataset.select_columns(kept).map_batches(
            TagBatch,
            fn_constructor_kwargs={
                "model_dir": str(model_dir) if model_dir else None,
                "reference": reference,
                "threads": threads,
            },
            batch_size=batch_size,
            batch_format="numpy",
            concurrency=workers,
            num_cpus=1,
        )
        rows = _write(tagged, out)
    finally:
        if own_cluster:
            ray.shutdown()
    return BulkResult(rows, out / OUTPUT, time.perf_counter() - started)


def _reader(source: Path) -> Any:
    import ray

    if not source.exists():
        raise BulkInputError(f"{source}: no such file or directory")
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else [source]
    kinds = {SUFFIXES.get(p.suffix) for p in files}
    if len(kinds) != 1 or None in kinds:
        raise BulkInputError(
            f"{source}: expected .jsonl, .json or .parquet files (of one kind), got "
            f"{sorted({p.suffix or p.name for p in files})}"
        )
    [kind] = kinds
    return ray.data.read_parquet if kind == "parquet" else ray.data.read_json


def _write(tagged: Any, out: Path) -> int:
    """Stream the tagged rows into out/tagged.jsonl through a temporary file; returns the count."""
    out.mkdir(parents=True, exist_ok=True)
    temporary = out / f".{OUTPUT}.tmp-{os.getpid()}"
    rows = 0
    try:
        with temporary.open("wb") as f:
            for batch in tagged.iter_batches(batch_size=None, batch_format="numpy"):
                f.write(b"\n".join(batch["json"]) + b"\n")
                rows += len(batch["json"])
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, out / OUTPUT)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    print(f"tagged {rows:,} rows into {out / OUTPUT}", file=sys.stderr)  # noqa: T201
    return rows
