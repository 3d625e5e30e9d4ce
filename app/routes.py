"""The API routes: /tag, /tag/batch, /health, /model and /admin/reload. Parse, call, format."""

from __future__ import annotations

import logging
from datetime import date

import orjson
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from app.deps import PredictorDep, SettingsDep, load_predictor, serving
from app.runner import Failed, Gone, Overloaded, Runner, TimedOut, Unavailable
from app.schemas import (
    BatchTagRequest,
    BatchTagResponse,
    HealthResponse,
    ModelInfo,
    ModelRef,
    ResolveOptions,
    TagRequest,
    TagResponse,
)
from app.security import require_admin
from app.settings import Settings
from model.errors import ModelError
from model.predictor import Prediction, Predictor
from model.values.dates import Today

log = logging.getLogger(__name__)
router = APIRouter()  # create_app adds the API-key check when a key is configured
health_router = APIRouter()
admin_router = APIRouter(
    prefix="/admin", dependencies=[Depends(require_admin)], include_in_schema=False
)
RETRY_AFTER_S = "1"
# What a client may retry: the runner's refusal -> (metric reason, status, detail).
_RETRYABLE: dict[type[Exception], tuple[str, int, str]] = {
    Overloaded: ("overloaded", 503, "the service is busy; retry shortly"),
    Unavailable: ("unavailable", 503, "the model is unavailable for a moment; retry shortly"),
    TimedOut: ("timeout", 504, "tagging took longer than the request timeout"),
}
CLIENT_GONE = 499  # nginx's "client closed request": nobody reads it, the access log shows it


def _limit_error(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("body", *loc), "msg": message}])


def _check_text(text: str, settings: Settings, loc: tuple[str | int, ...]) -> None:
    if len(text) > settings.max_text_chars:
        raise _limit_error(
            loc, f"text has {len(text):,} characters; the limit is {settings.max_text_chars:,}"
        )


def _check_context(
    context: list[str] | None, settings: Settings, loc: tuple[str | int, ...]
) -> None:
    if not context:
        return
    if len(context) > settings.max_context_turns:
        raise _limit_error(
            loc,
            f"context has {len(context):,} turns; the limit is {settings.max_context_turns:,}",
        )
    for i, turn in enumerate(context):
        if len(turn) > settings.max_context_chars:
            raise _limit_error(
                (*loc, i),
                f"context turn has {len(turn):,} characters; the limit is "
                f"{settings.max_context_chars:,}",
            )


def _check_batch(texts: list[str], contexts: list[list[str]] | None, settings: Settings) -> None:
    if len(texts) > settings.max_batch_size:
        raise _limit_error(
            ("texts",),
            f"batch has {len(texts):,} texts; the limit is {settings.max_batch_size:,}",
        )
    for i, text in enumerate(texts):
        _check_text(text, settings, ("texts", i))
    for i, context in enumerate(contexts or []):
        _check_context(context, settings, ("texts", i, "context"))
    total = sum(len(text) for text in texts)
    if total > settings.max_batch_chars:
        raise _limit_error(
            ("texts",),
            f"batch has {total:,} characters in all; the limit is {settings.max_batch_chars:,}",
        )


def _reference(options: ResolveOptions, settings: Settings) -> date | Today:
    """What the request's dates are read against: its date, or today in its (or the server's)
    time zone, which the model reads when it runs (both were checked when parsed)."""
    if options.reference_date is not None:
        return options.reference_date
    return Today(options.timezone or settings.timezone)


def _response(prediction: Prediction, predictor: Predictor, min_confidence: float) -> dict:
    """A TagResponse as plain data (tests hold it to the schema)."""
    return {
        **prediction.to_json(min_confidence),
        "model": {"name": predictor.meta.name, "version": predictor.meta.version},
    }


def _json(content: dict) -> Response:
    """Serialize with orjson: building a pydantic model per token and span cost 3x as much
    per response as the whole JSON encoding (tests/benchmarks/bench.py)."""
    return Response(orjson.dumps(content), media_type="application/json")


async def _predict(
    request: Request,
    predictor: Predictor,
    texts: list[str],
    reference: date | Today,
    contexts: list[list[str]] | None = None,
) -> list[Prediction]:
    """Run the model through the app's runner; overload is 503, a model that cannot be reached
    (app/ray_serve.py) 503 too, a timeout 504; a client that disconnects has its texts dropped
    from the model's work."""
    runner: Runner = request.app.state.runner
    metrics = request.app.state.metrics

    async def gone() -> None:
        # The body has been read: the next message is the disconnect (or the end of the response).
        while (await request.receive())["type"] != "http.disconnect":
            pass

    if contexts is not None and any(contexts):
        metrics.with_context.inc()
    try:
        predictions = await runner.tag(predictor, texts, reference, gone, contexts)
    except Gone:
        metrics.rejected.labels("gone").inc()
        raise HTTPException(status_code=CLIENT_GONE, detail="the client went away") from None
    except Failed as e:
        metrics.rejected.labels("failed").inc()
        raise HTTPException(
            status_code=500, detail=f"tagging this request failed ({e}); it was logged"
        ) from None
    except (Overloaded, Unavailable, TimedOut) as e:
        reason, status, detail = _RETRYABLE[type(e)]
        metrics.rejected.labels(reason).inc()
        raise HTTPException(status, detail, headers={"Retry-After": RETRY_AFTER_S}) from None
    for prediction in predictions:
        for span in prediction.spans:
            metrics.count_span(span.label)
    return predictions


@router.post("/tag", response_model=TagResponse)
async def tag(body: TagRequest, request: Request) -> Response:
    """Tag one text: its tokens with BIO tags, and its labelled spans."""
    predictor, settings = serving(request)
    _check_text(body.text, settings, ("text",))
    _check_context(body.context, settings, ("context",))
    contexts = [body.context] if body.context else None
    [prediction] = await _predict(
        request, predictor, [body.text], _reference(body, settings), contexts
    )
    return _json(_response(prediction, predictor, body.min_confidence))


@router.post("/tag/batch", response_model=BatchTagResponse)
async def tag_batch(body: BatchTagRequest, request: Request) -> Response:
    """Tag many texts in one forward pass; results come back in request order."""
    predictor, settings = serving(request)
    texts, contexts = body.split()
    _check_batch(texts, contexts, settings)
    predictions = await _predict(request, predictor, texts, _reference(body, settings), contexts)
    return _json({"results": [_response(p, predictor, body.min_confidence) for p in predictions]})


@health_router.get("/health", response_model=HealthResponse)
async def health(predictor: PredictorDep) -> HealthResponse:
    """200 once the model is loaded and serving; 503 before."""
    return HealthResponse(
        status="ok", model=ModelRef(name=predictor.meta.name, version=predictor.meta.version)
    )


@router.get("/model", response_model=ModelInfo)
async def model_info(predictor: PredictorDep) -> ModelInfo:
    """What the served model is: labels, network config, dev metrics, library versions."""
    meta = predictor.meta
    return ModelInfo(
        name=meta.name,
        version=meta.version,
        created_at=meta.created_at,
        labels=meta.labels,
        format_version=meta.format_version,
        config=predictor.loaded.config.model_dump(),
        dev_metrics=meta.dev_metrics,
        versions=meta.versions,
    )


@admin_router.post("/reload", response_model=ModelRef)
async def reload(request: Request, settings: SettingsDep) -> ModelRef:
    """Load the model again from SLOT_TAGGER_MODEL_DIR and swap it in; a bad model is refused.
    Reloads run one at a time (each loads and exports a whole model)."""
    try:
        async with request.app.state.reload_lock:
            fresh = await run_in_threadpool(load_predictor, settings)
    except ModelError as e:
        log.error("reload refused: %s", e)
        raise HTTPException(
            status_code=409,
            detail=f"new model refused ({type(e).__name__}); the previous model is still serving",
        ) from None
    request.app.state.predictor = fresh  # one assignment: a request sees the old model or the new
    log.info("reloaded model %s %s", fresh.meta.name, fresh.meta.version)
    return ModelRef(name=fresh.meta.name, version=fresh.meta.version)
