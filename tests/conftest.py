"""Shared fixtures: a tiny hand-written corpus, a tiny model trained on it once, a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture()
def client(tiny_model_dir: Path) -> Iterator[TestClient]:
    app = create_app(Settings(model_dir=tiny_model_dir, max_text_chars=50, max_batch_size=4))
    with TestClient(app) as client:
        yield client
