"""The tagger: network, vocabularies, saved-model format and predictor. Imports nothing of ours.

``from model import Predictor, TaggerConfig, load`` works, but nothing here is imported until it
is asked for: ``import model.values`` (dates and places) loads neither torch nor the network.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model.artifact import load
    from model.config import TaggerConfig
    from model.predictor import Predictor

__all__ = ["Predictor", "TaggerConfig", "load"]
_HOMES = {"Predictor": "model.predictor", "TaggerConfig": "model.config", "load": "model.artifact"}


def __getattr__(name: str) -> Any:
    """Import a re-exported name from its module on first use (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
