"""Bulk tagging on Ray Data (training/bulk.py, `slot-tagger tag --ray`) on the session's local Ray
cluster: the same rows as the plain `slot-tagger tag`, in input order, ids carried, JSONL and
Parquet; bad input is one line. Skipped, saying so, without the [ray] extra."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from training.cli import app

pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]'")

runner = CliRunner()
TEXTS = [
    "leave Beijing on November 2nd",
    "thank you",
    "i want to fly from denver to chicago tomorrow",
    "",
    "arrive Boston on Monday",
    "from Miami to Atlanta",
]
ROWS = 300  # several batches of 64, so order is something the run has to keep
REFERENCE = ["--reference-date", "2026-11-23"]


def _rows() -> list[dict]:
    return [{"id": 1000 - i, "text": TEXTS[i % len(TEXTS)]} for i in range(ROWS)]


def _plain_tag(model: Path, texts: list[str]) -> list[dict]:
    result = runner.invoke(app, ["tag", "--model", str(model), *REFERENCE], input="\n".join(texts))
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def _ray_tag(model: Path, source: Path, out: Path, *extra: str) -> list[dict]:
    result = runner.invoke(
        app,
        ["tag", "--ray", str(source), "--out", str(out), "--model", str(model), *REFERENCE, *extra],
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in (out / "tagged.jsonl").read_text().splitlines()]


def test_jsonl_rows_come_back_in_input_order_as_plain_tag_gives_them(
    ray_cluster: None, tiny_model_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in _rows()))
    got = _ray_tag(tiny_model_dir, source, tmp_path / "out", "--workers", "2", "--batch-size", "64")
    assert [row.pop("id") for row in got] == [row["id"] for row in _rows()]
    assert got == _plain_tag(tiny_model_dir, [row["text"] for row in _rows()])
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["tagged.jsonl"]  # no temp left


def test_parquet_with_context_reads_like_jsonl(
    ray_cluster: None, tiny_model_dir: Path, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"text": "Boston.", "context": ["where are you flying from?"]}, {"text": "to Paris"}]
    pq.write_table(
        pa.table({"text": [r["text"] for r in rows], "context": [r.get("context") for r in rows]}),
        tmp_path / "in.parquet",
    )
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    from_parquet = _ray_tag(tiny_model_dir, tmp_path / "in.parquet", tmp_path / "a")
    plain = runner.invoke(
        app,
        ["tag", "--model", str(tiny_model_dir), *REFERENCE],
        input=(tmp_path / "in.jsonl").read_text(),
    )
    assert from_parquet == [json.loads(line) for line in plain.stdout.splitlines()]


def test_input_without_text_is_one_clear_line(
    ray_cluster: None, tiny_model_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"body": "leave Beijing"}\n')
    result = runner.invoke(
        app, ["tag", "--ray", str(source), "--out", str(tmp_path / "out")], catch_exceptions=False
    )
    assert result.exit_code == 2
    # The last line (Ray Data logs its plan to stderr before it): the problem, and no traceback of
    # ours (Ray's loggers may report writing to an earlier CliRunner's closed stream: not ours).
    assert "BulkInputError" not in result.output
    assert result.output.strip().splitlines()[-1] == (
        f"error: {source}: expected a \"text\" column, got ['body']"
    )
    assert not (tmp_path / "out" / "tagged.jsonl").exists()


def test_ray_flags_without_ray_or_an_input_are_refused(tmp_path: Path) -> None:
    # No cluster needed: these fail before one would start.
    result = runner.invoke(app, ["tag", "--out", str(tmp_path), "thank you"])
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: --out and --workers are for --ray (without it, results go to stdout)",
    )
    result = runner.invoke(app, ["tag", "--ray", "--out", str(tmp_path)])
    assert (result.exit_code, result.output.strip()) == (
        2,
        "error: tag --ray needs one INPUT file or directory and --out DIR",
    )
    result = runner.invoke(app, ["tag", "--ray", str(tmp_path / "nope.jsonl"), "--out", "o"])
    assert (result.exit_code, result.output.strip()) == (
        2,
        f"error: {tmp_path / 'nope.jsonl'}: no such file or directory",
    )
