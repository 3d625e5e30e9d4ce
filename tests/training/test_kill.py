"""kill -9 of a real training process, at several moments, never damages the previous model."""

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data.formats import write_jsonl
from model import artifact
from training.checkpoint import checkpoint_dir


def train_command(data: Path, out: Path, epochs: int, *extra: str) -> list[str]:
    """`slot-tagger train` on tiny data with a tiny network, as a separate process."""
    return [
        sys.executable,
        "-m",
        "training.cli",
        "train",
        "--train",
        str(data),
        "--dev",
        str(data),
        "--out",
        str(out),
        "--epochs",
        str(epochs),
        "--patience",
        "1000",
        "--word-dim",
        "8",
        "--hidden-dim",
        "8",
        "--threads",
        "1",
        *extra,
    ]


@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0, 4.5])
def test_kill_9_during_training_leaves_the_previous_model_loadable(
    tiny_model_dir, tiny_examples, tmp_path, delay
) -> None:
    out = tmp_path / "model"
    shutil.copytree(tiny_model_dir, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    data = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_examples * 5, data)
    process = subprocess.Popen(
        train_command(data, out, 30), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    loaded = artifact.load(out)  # the old model, or a complete new one: never a half-written one
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before or loaded.meta.name == "slot-tagger"


def test_training_killed_mid_run_finishes_with_resume(tiny_examples, tmp_path) -> None:
    data = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_examples * 5, data)
    out = tmp_path / "model"
    process = subprocess.Popen(
        train_command(data, out, 200), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not (checkpoint_dir(out) / "state.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert not out.exists()
    resumed = subprocess.run(
        train_command(data, out, 5, "--resume"), capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after epoch" in resumed.stderr
    assert artifact.load(out).meta.name == "slot-tagger"
