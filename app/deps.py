"""Request dependencies (the predictor and settings on app.state) and the model loader.

The dependencies are ``async def`` although they never wait: FastAPI runs a plain ``def``
dependency in its thread pool, two thread hops per request for reading an attribute. The tagging
routes read both with :func:`serving` instead: two dependencies cost FastAPI 17-20 µs per
request to resolve (measured in process), a fifth of what the web stack needs per request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from app.settings import Settings
from model.errors import CorruptModelError, ModelError
from model.predictor import Predictor
from model.values.dates import DatePolicy


async def get_predictor(request: Request) -> Predictor:
    predictor: Predictor | None = getattr(request.app.state, "predictor", None)
    if predictor is None:
        raise HTTPException(status_code=503, detail="the model is not loaded yet")
    return predictor


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def serving(request: Request) -> tuple[Predictor, Settings]:
    """The predictor (503 while none is loaded) and the settings, read off the app's state."""
    state = request.app.state
    predictor: Predictor | None = getattr(state, "predictor", None)
    if predictor is None:
        raise HTTPException(status_code=503, detail="the model is not loaded yet")
    return predictor, state.settings


PredictorDep = Annotated[Predictor, Depends(get_predictor)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def load_predictor(settings: Settings) -> Predictor:
    """The predictor the settings name. Raises ModelError, with one clear message, if it cannot:
    any failure while loading, exporting or warming up the model (an absurd size in its config,
    a number JSON cannot hold, memory) is one, so a model that cannot serve is never served."""
    policy = DatePolicy(prefer=settings.date_prefer, date_order=settings.date_order)
    try:
        predictor = Predictor.from_dir(
            settings.model_dir,
            policy,
            backend=settings.backend,
            threads=settings.torch_threads,
            english_only=settings.english_only,
        )
        predictor.warm_up()
    except ModelError:
        raise
    except Exception as e:  # noqa: BLE001 - turned into the one error a load can raise
        where = settings.model_dir or "the default model directory"
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        raise CorruptModelError(
            f"model at {where} cannot be loaded ({type(e).__name__}: {first})"
        ) from e
    return predictor
