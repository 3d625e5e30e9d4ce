"""create_app(): the FastAPI application; its lifespan loads the model once per process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import torch
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.routes import router
from app.settings import Settings
from model.dates import DatePolicy
from model.errors import ModelError
from model.predictor import Predictor

log = logging.getLogger(__name__)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Every 422 the same shape: type, loc and msg of each problem. The offending input is not
    echoed back (it may be huge, or not even representable in JSON, like Infinity)."""
    assert isinstance(exc, RequestValidationError)
    detail = [{"type": e["type"], "loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return JSONResponse(status_code=422, content={"detail": detail})


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. With no settings, they come from SLOT_TAGGER_* environment variables."""
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        torch.set_num_threads(settings.torch_threads)
        try:
            policy = DatePolicy(prefer=settings.date_prefer, date_order=settings.date_order)
            app.state.predictor = Predictor.from_dir(settings.model_dir, policy)
        except ModelError as e:
            log.error("cannot serve: %s", e)
            raise
        log.info(
            "serving model %s %s", app.state.predictor.meta.name, app.state.predictor.meta.version
        )
        yield
        app.state.predictor = None

    app = FastAPI(
        title="slot-tagger",
        summary="Departure, destination and date spans in travel language.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.predictor = None
    app.add_exception_handler(RequestValidationError, validation_error)
    app.include_router(router)
    return app
