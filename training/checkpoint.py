"""Training checkpoints: after every epoch, everything needed to go on exactly where it stopped.

A checkpoint is a directory beside the model's, ``.<model>.checkpoint``, written atomically with
:func:`model.artifact.write_directory`: the network, the best epoch's network, the moving average
of the weights (if training keeps one), Adam's state and both random generators (safetensors),
and the bookkeeping (JSON). It remembers the training data's hash and both configs; resuming
with other data or settings is refused.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import safetensors.torch
import torch

from model.artifact import write_directory


def checkpoint_dir(out_dir: str | Path) -> Path:
    out = Path(out_dir).resolve()
    return out.parent / f".{out.name}.checkpoint"


@dataclass
class Checkpoint:
    """The state of a training run at the end of an epoch."""

    epoch: int
    model: dict[str, torch.Tensor]
    best: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    torch_rng: torch.Tensor
    python_rng: Any
    info: dict[str, Any]  # best epoch, best F1 and report, history, data hash, configs
    average: dict[str, torch.Tensor] | None = None  # the moving average of the weights, if any

    def save(self, out_dir: str | Path) -> None:
        tensors = {f"model.{k}": v.contiguous() for k, v in self.model.items()}
        tensors |= {f"best.{k}": v.contiguous() for k, v in self.best.items()}
        tensors |= {f"average.{k}": v.contiguous() for k, v in (self.average or {}).items()}
        tensors["rng.torch"] = self.torch_rng
        for index, state in self.optimizer["state"].items():
            for key, value in state.items():
                tensors[f"optim.{index}.{key}"] = value.detach().clone().contiguous()
        groups = self.optimizer["param_groups"]
        info = {
            **self.info,
            "epoch": self.epoch,
            "optimizer_groups": groups,
            "python_rng": [self.python_rng[0], list(self.python_rng[1]), self.python_rng[2]],
        }
        write_directory(
            checkpoint_dir(out_dir),
            {
                "state.safetensors": safetensors.torch.save(tensors),
                "state.json": json.dumps(info).encode(),
            },
        )

    @classmethod
    def load(cls, out_dir: str | Path) -> Checkpoint | None:
        path = checkpoint_dir(out_dir)
        if not (path / "state.json").is_file():
            return None
        info = json.loads((path / "state.json").read_text())
        tensors = safetensors.torch.load_file(str(path / "state.safetensors"))
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, index, name = key.split(".", 2)
                state.setdefault(int(index), {})[name] = value
        version, internal, gauss = info.pop("python_rng")
        return cls(
            epoch=info.pop("epoch"),
            model={k[6:]: v for k, v in tensors.items() if k.startswith("model.")},
            best={k[5:]: v for k, v in tensors.items() if k.startswith("best.")},
            optimizer={"state": state, "param_groups": info.pop("optimizer_groups")},
            torch_rng=tensors["rng.torch"],
            python_rng=(version, tuple(internal), gauss),
            info=info,
            average={k[8:]: v for k, v in tensors.items() if k.startswith("average.")} or None,
        )


def remove(out_dir: str | Path) -> None:
    shutil.rmtree(checkpoint_dir(out_dir), ignore_errors=True)
