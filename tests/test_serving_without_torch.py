"""`slot-tagger tag`, `slot-tagger serve` and the app work where torch, onnx, seqeval, scikit-learn
and scipy cannot be imported (the serving install, the image), and nothing of ours tries to
import them. A fresh interpreter, in which those imports fail and each attempt made by a module
of ours is recorded, runs the shipped model through the CLI and through the app `serve` builds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from model.predictor import Predictor

ROOT = Path(__file__).resolve().parents[1]
TEXT = "leave Beijing on November 2nd"

SERVING = r"""
import contextlib, importlib.abc, io, json, os, sys

root = sys.argv[1]
ours = tuple(os.path.join(root, p) + os.sep for p in ("app", "model", "data", "training"))
blocked = {"torch", "onnx", "seqeval", "sklearn", "scipy"}
attempts = []


class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in blocked:
            return None
        frame = sys._getframe(1)
        while frame is not None and "importlib" in frame.f_code.co_filename:
            frame = frame.f_back  # up to the module whose `import` this is
        if frame is not None and frame.f_code.co_filename.startswith(ours):
            attempts.append(f"{frame.f_code.co_filename}:{frame.f_lineno} imports {name}")
        raise ModuleNotFoundError(f"No module named {name!r}")


sys.meta_path.insert(0, Block())
import uvicorn
from fastapi.testclient import TestClient

from training.cli import app

out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # tag writes bytes to stdout.buffer
with contextlib.redirect_stdout(out):
    app(["tag", sys.argv[2], "--reference-date", "2026-11-23"], standalone_mode=False)
out.flush()
served = []
uvicorn.run = lambda target, factory, **options: served.append(target)  # serve checks, then runs
app(["serve"], standalone_mode=False)
module, _, factory = served[0].partition(":")
with TestClient(getattr(__import__(module, fromlist=[factory]), factory)()) as client:
    health = client.get("/health").status_code
    answer = client.post("/tag", json={"text": sys.argv[2], "reference_date": "2026-11-23"}).json()
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in blocked and sys.modules[m])
print(json.dumps({"attempts": attempts, "loaded": loaded, "tag": out.buffer.getvalue().decode(),
                  "health": health, "answer": answer}))
"""


def test_tag_and_serve_run_without_torch_and_answer_as_torch_does() -> None:
    run = subprocess.run(
        [sys.executable, "-c", SERVING, str(ROOT), TEXT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["attempts"] == [] and result["loaded"] == []
    [expected] = Predictor.from_dir(backend="torch").predict([TEXT])
    [line] = [json.loads(line) for line in result["tag"].splitlines()]
    assert result["health"] == 200
    for spans in (line["spans"], result["answer"]["spans"]):
        assert [(s["label"], s["start"], s["end"]) for s in spans] == [
            (s.label, s.start, s.end) for s in expected.spans
        ]
        assert [s["label"] for s in spans] == ["departure", "date"]
        for got, want in zip(spans, expected.spans, strict=True):
            assert abs(got["confidence"] - want.confidence) < 1e-4
