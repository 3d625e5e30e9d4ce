"""The benchmark's app: the service plus POST /bench/noop and /bench/noop/batch, which parse,
check and answer like /tag and /tag/batch without the model, so tests/benchmarks/bench.py can
measure what the web stack costs alone ("tag / noop").

``uvicorn --factory tests.benchmarks.noop:create_app`` from the repository root. With
``BENCH_WITHOUT`` set to a middleware's class name (``metrics`` for the one that counts requests,
``all`` for every one), the app lacks it: tests/benchmarks/yardstick.py ``--ablate`` measures what
each costs.
"""

from __future__ import annotations

import gc
import os

from fastapi import APIRouter, FastAPI, Request, Response

from app.deps import load_predictor, serving
from app.main import LoadModelAtStartup, include_first
from app.main import create_app as create_service
from app.routes import _check_batch, _check_text, _json, _reference, _response
from app.routes import router as service_router
from app.schemas import BatchTagRequest, BatchTagResponse, TagRequest, TagResponse
from app.settings import Settings
from model.predictor import Prediction

router = APIRouter(include_in_schema=False)


@router.post("/bench/noop", response_model=TagResponse)
async def noop(body: TagRequest, request: Request) -> Response:
    """What the web stack costs alone: /tag's parsing, checks and response, without the model."""
    predictor, settings = serving(request)
    _check_text(body.text, settings, ("text",))
    _reference(body, settings)
    nothing = Prediction(body.text, [], [], [])
    return _json(_response(nothing, predictor, body.min_confidence))


@router.post("/bench/noop/batch", response_model=BatchTagResponse)
async def noop_batch(body: BatchTagRequest, request: Request) -> Response:
    """/tag/batch's parsing, checks and response, without the model."""
    predictor, settings = serving(request)
    texts, contexts = body.split()
    _check_batch(texts, contexts, settings)
    _reference(body, settings)
    nothing = [Prediction(text, [], [], []) for text in texts]
    return _json({"results": [_response(p, predictor, body.min_confidence) for p in nothing]})


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service's app (``app.main.create_app``) with the no-op routes added."""
    settings = settings if settings is not None else Settings()
    app = create_service(settings)
    # Added as the service's API routes are, and matched right after them, so a no-op request
    # pays for routing at least what /tag does.
    before = list(app.router.routes)
    include_first(app, router, [])
    added = [route for route in app.router.routes if route not in before]
    api = len(service_router.routes)
    app.router.routes[:] = [*before[:api], *added, *before[api:]]
    if without := os.environ.get("BENCH_WITHOUT"):
        app.user_middleware = [m for m in app.user_middleware if not _named(m.cls, without)]
        if _named(LoadModelAtStartup, without):  # then the model is loaded here
            app.state.predictor = load_predictor(settings)
            gc.enable()
    return app


def _named(cls: type, name: str) -> bool:
    if name == "all":
        return True
    if name == "metrics":
        return "Metrics" in cls.__name__ or "Prometheus" in cls.__name__
    return cls.__name__ == name
