"""Shared fixtures: a tiny hand-written corpus, a tiny model trained on it once, a client; and
waiting for a state (a server up, a checkpoint written) with a deadline instead of for a time."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings

from app.main import create_app
from app.settings import Settings
from data.example import Example
from data.formats import parse_markup
from model.config import TaggerConfig
from model.predictor import Predictor
from training.config import TrainConfig
from training.train import train

settings.register_profile("ci", deadline=None, derandomize=True, max_examples=50)
settings.load_profile("ci")

T = TypeVar("T")
POLL_S = 0.01  # how often a state is looked at while waiting for it


def wait_until(state: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    """Look at ``state()`` until it is truthy, and return it.

    Raises:
        AssertionError: naming ``what`` was awaited, after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while not (value := state()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(POLL_S)
    return value


async def eventually(state: Callable[[], T], what: str, timeout: float = 5.0) -> T:
    """:func:`wait_until` for a coroutine: the event loop runs while it waits."""
    deadline = time.monotonic() + timeout
    while not (value := state()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        await asyncio.sleep(POLL_S)
    return value


TINY = """\
leave [dep Beijing] on [date November 2nd]
arrive [dst Beijing] on [date November 2nd]
leave [dep Boston] on [date Monday]
arrive [dst Boston] on [date Monday]
i want to fly from [dep denver] to [dst chicago] [date tomorrow]
i want to fly from [dep chicago] to [dst denver] [date tomorrow]
flights from [dep Paris] to [dst London] on [date the 5th of May]
flights to [dst Paris] from [dep London] on [date May 5th]
leave [dep Tokyo] [date next friday]
arrive [dst Tokyo] [date next friday]
[dep boston] to [dst seattle] [date friday]
[dep seattle] to [dst boston] [date monday]
i need a bus to [dst Fresno] on [date the 3rd]
i need a bus from [dep Fresno] on [date the 3rd]
what is the cheapest fare
show me the meals
thank you
from [dep Miami] to [dst Atlanta]
from [dep Atlanta] to [dst Miami]
going to [dst Denver] on [date March 4th]
"""

TINY_TAGGER = TaggerConfig(
    word_dim=16,
    char_dim=8,
    char_filters=16,
    shape_dim=4,
    hidden_dim=16,
    dropout=0.0,
    word_dropout=0.0,
)
TINY_TRAINING = TrainConfig(
    epochs=40, patience=40, batch_size=4, lr=0.02, seed=0, threads=1, name="tiny"
)


@pytest.fixture(scope="session")
def tiny_examples() -> list[Example]:
    return [parse_markup(line) for line in TINY.splitlines() if line.strip()]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, tiny_examples: list[Example]) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny"
    train(tiny_examples, tiny_examples, TINY_TAGGER, TINY_TRAINING, out, progress=False)
    return out


@pytest.fixture(scope="session")
def predictor(tiny_model_dir: Path) -> Predictor:
    return Predictor.from_dir(tiny_model_dir)


FROM = ["where are you flying from?", "which city are you leaving from?"]
TO = ["where are you flying to?", "and where to?"]
CITIES = ["Boston", "Denver", "Paris", "Tokyo", "Lima", "Oslo"]


def _dialogues() -> list[Example]:
    examples = []
    for i, city in enumerate(CITIES):
        for j, question in enumerate(FROM):
            text = f"[dep {city}]." if (i + j) % 2 else f"it's [dep {city}]"
            examples.append(parse_markup(text).model_copy(update={"context": [question]}))
        for j, question in enumerate(TO):
            text = f"[dst {city}]." if (i + j) % 2 else f"it's [dst {city}]"
            examples.append(parse_markup(text).model_copy(update={"context": [question]}))
        examples.append(parse_markup(f"from [dep {city}] to [dst Rome]"))
        examples.append(
            parse_markup(f"from [dep {city}] to [dst Rome]").model_copy(update={"context": TO[:1]})
        )
    return examples


@pytest.fixture(scope="session")
def context_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model that learnt to read the question before a bare answer."""
    out = tmp_path_factory.mktemp("models") / "context"
    examples = _dialogues()
    train(examples, examples, TINY_TAGGER, TINY_TRAINING, out, progress=False)
    return out


# The environment the Ray cluster's workers get (Serve replicas read their settings from it, as
# in a pod); the test process's own environment is left as it was.
RAY_ENV = {
    "SLOT_TAGGER_API_KEY": "ray-test-key",
    "SLOT_TAGGER_MAX_TEXT_CHARS": "50",
    "SLOT_TAGGER_MAX_BATCH_SIZE": "4",
    "RAY_USAGE_STATS_ENABLED": "0",
}


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """One local Ray cluster for the tests that need it (started only for them, on 127.0.0.1, and
    stopped at the end of the session)."""
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]'")
    saved = dict(os.environ)
    os.environ.update(RAY_ENV)  # the cluster's processes copy it when they start
    try:
        ray.init(
            num_cpus=3, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture()
def client(tiny_model_dir: Path) -> Iterator[TestClient]:
    app = create_app(Settings(model_dir=tiny_model_dir, max_text_chars=50, max_batch_size=4))
    with TestClient(app) as client:
        yield client
