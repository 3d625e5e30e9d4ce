"""create_app(): the FastAPI application; its lifespan loads the model once per process."""

from __future__ import annotations

import asyncio
import gc
import inspect
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.deps import load_predictor
from app.limits import BodySizeLimit
from app.observability import RequestLog, configure_access_log, flush_access_log, instrument
from app.page import PAGE_PATHS, page_router
from app.routes import admin_router, health_router, router
from app.runner import Runner
from app.security import DOCS_PATHS, OPEN_PATHS, KeyGate, require_api_key
from app.settings import Settings
from model.errors import ModelError

log = logging.getLogger(__name__)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Every 422 the same shape: type, loc and msg of each problem. The offending input is not
    echoed back (it may be huge, or not even representable in JSON, like Infinity)."""
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"type": e["type"], "loc": list(e["loc"])[:8], "msg": _excerpt(e["msg"])}
        for e in exc.errors()[:MAX_ERRORS]
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


MAX_ERRORS = 20  # problems listed per 422 (a batch of 256 wrong texts would list 256)
MAX_MESSAGE_CHARS = 300


def _excerpt(message: str) -> str:
    """A message as it is, or its start: no message echoes a long input back."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[:MAX_MESSAGE_CHARS] + f"... ({len(message):,} characters)"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. With no settings, they come from SLOT_TAGGER_* environment variables."""
    settings = settings if settings is not None else Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.backend == "torch":  # torch is imported only for the backend that needs it
            import torch

            torch.set_num_threads(settings.torch_threads)
        meta = app.state.predictor.meta
        log.info("serving model %s %s", meta.name, meta.version)
        yield
        await app.state.runner.close()
        flush_access_log()  # the lines of the last requests, before the process goes on

    app = FastAPI(
        title="slot-tagger",
        summary="Departure, destination and date spans in travel language.",
        version="0.1.0",
        lifespan=lifespan,
        **_telemetry(settings.otel),
    )
    app.openapi = lambda: openapi_with_limits(app, settings)  # type: ignore[method-assign]
    app.state.settings = settings
    app.state.predictor = None
    app.state.reload_lock = asyncio.Lock()
    app.state.runner = Runner(settings.max_queue, settings.request_timeout_s)
    app.state.metrics = instrument(app)
    app.state.metrics.queue_depth.set_function(lambda: app.state.runner.in_flight)
    app.state.runner.on_batch = lambda seconds, texts: app.state.metrics.observe_batch(
        seconds, texts
    )
    app.add_exception_handler(RequestValidationError, validation_error)
    app.include_router(health_router)
    app.include_router(page_router)
    app.include_router(admin_router)
    # The key check (and its place in the OpenAPI schema) exists only when a key is configured.
    include_first(app, router, [Depends(require_api_key)] if settings.api_key else [])
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.api_key:
        # The page is open: it holds nothing, and the calls it makes send the key typed into it.
        open_paths = OPEN_PATHS | PAGE_PATHS | (DOCS_PATHS if settings.docs_public else frozenset())
        key = settings.api_key.get_secret_value()
        app.add_middleware(KeyGate, key=key, open_paths=open_paths)
    if settings.json_logs:
        configure_access_log()
    app.add_middleware(RequestLog, json_logs=settings.json_logs)
    app.add_middleware(LoadModelAtStartup, state=app.state, settings=settings)
    return app


def _telemetry(otel: bool) -> dict[str, Any]:
    """FastAPI's own OpenTelemetry switched off unless asked for. FastAPI (from its release with
    native telemetry on) looks for configured providers on every request, 4-7 µs even when
    there are none (measured in process: the no-op route 67.6 -> 61.0 µs); older releases have
    no such option and nothing to switch off."""
    if otel or "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    off = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
    return {"telemetry": off}


def include_first(app: FastAPI, router: APIRouter, dependencies: list[Any]) -> None:
    """The router's routes as the app's own, matched before any other.

    What ``app.include_router`` gives, per request cheaper (measured in process): FastAPI wraps
    an included router in a route of its own that costs about 10 µs a request, plus 2.5 µs for
    each included router tried before it. The API's routes are few and have no prefix, so they
    are added directly, with the same paths, methods, models, dependencies and names (the same
    OpenAPI schema), and first: no paths overlap, so the order changes nothing else.
    """
    before = list(app.router.routes)
    for route in router.routes:
        assert isinstance(route, APIRoute), "the API router holds API routes only"
        app.router.add_api_route(
            route.path,
            route.endpoint,
            methods=sorted(route.methods),
            response_model=route.response_model,
            dependencies=[*dependencies, *route.dependencies],
            name=route.name,
            include_in_schema=route.include_in_schema,
        )
    app.router.routes[:] = [r for r in app.router.routes if r not in before] + before


def openapi_with_limits(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The OpenAPI schema with this server's configured limits, so clients can see them."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        components = schema["components"]["schemas"]
        components["TagRequest"]["properties"]["text"]["maxLength"] = settings.max_text_chars
        texts = components["BatchTagRequest"]["properties"]["texts"]
        texts["maxItems"] = settings.max_batch_size
        plain, _ = texts["items"]["anyOf"]
        plain["maxLength"] = settings.max_text_chars
        components["BatchItem"]["properties"]["text"]["maxLength"] = settings.max_text_chars
        for body in ("TagRequest", "BatchItem"):
            turns, one_turn, _ = components[body]["properties"]["context"]["anyOf"]
            turns["maxItems"] = settings.max_context_turns
            turns["items"]["maxLength"] = one_turn["maxLength"] = settings.max_context_chars
        app.openapi_schema = schema
    return app.openapi_schema


class LoadModelAtStartup:
    """Loads the model when the server starts, before the app's own lifespan runs.

    A model that cannot be loaded makes startup fail with one line naming the problem
    ("cannot serve: model at /models/x has format_version 2; ..."), not a traceback, and the
    server never answers with a half-loaded model.
    """

    def __init__(self, app: ASGIApp, state: State, settings: Settings) -> None:
        self.app = app
        self.state = state
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" or self.state.predictor is not None:
            await self.app(scope, receive, send)
            return
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                self.state.predictor = load_predictor(self.settings)
                # What is loaded now lives as long as the process: keep the collector from
                # scanning its ~360k objects (place table, vocabularies, dateparser) on every
                # full collection (measured: batched tagging 5-10 % faster). No collection
                # first: it would cost 0.2 s of the start for ~3k unreachable objects, which
                # stay. `serve` turns the collector off while it loads; it is back on now.
                gc.freeze()
                gc.enable()
            except ModelError as e:
                line = f"cannot serve: {e}"
                await send({"type": "lifespan.startup.failed", "message": line})
                # Like Starlette's router: fail the lifespan task too. uvicorn has already logged
                # the line above and stays quiet about this; a test client raises it.
                raise RuntimeError(line) from None
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return message
            return await receive()

        await self.app(scope, replay, send)
