"""kill -9 of a real training process, at several moments, never damages the previous model."""

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from data.formats import write_jsonl
from model import artifact
from tests.conftest import wait_until
from training.checkpoint import checkpoint_dir

EPOCHS = 30


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


def checkpoint_epoch(out: Path) -> int:
    """The last epoch the run's checkpoint holds (0: none yet)."""
    try:
        return json.loads((checkpoint_dir(out) / "state.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):  # not written yet, or being replaced
        return 0


# When to kill: while it starts, after its first epoch, mid-run, and once the last epoch is
# done (saving the model, or just after).
MOMENTS = {
    "starting": 0,
    "after the first epoch": 1,
    "mid-run": EPOCHS // 2,
    "at the end": EPOCHS,
}


@pytest.mark.parametrize("epoch", MOMENTS.values(), ids=MOMENTS.keys())
def test_kill_9_during_training_leaves_the_previous_model_loadable(
    tiny_model_dir, tiny_examples, tmp_path, epoch
) -> None:
    out = tmp_path / "model"
    shutil.copytree(tiny_model_dir, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    data = tmp_path / "tiny.jsonl"
    write_jsonl(tiny_examples * 5, data)
    process = subprocess.Popen(
        train_command(data, out, EPOCHS), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_until(
        lambda: checkpoint_epoch(out) >= epoch or process.poll() is not None,
        f"the checkpoint of epoch {epoch}",
    )
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
    wait_until(lambda: checkpoint_epoch(out) >= 2, "the checkpoint of epoch 2")
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert not out.exists()
    resumed = subprocess.run(
        train_command(data, out, 5, "--resume"), capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming after epoch" in resumed.stderr
    assert artifact.load(out).meta.name == "slot-tagger"
