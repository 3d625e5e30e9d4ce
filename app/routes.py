"""The API routes: POST /tag, POST /tag/batch, GET /health, GET /model. Each parses, calls, formats."""

from __future__ import annotations

from datetime import date
from functools import partial

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from app.deps import PredictorDep, SettingsDep
from app.schemas import (
    BatchTagRequest,
    BatchTagResponse,
    HealthResponse,
    ModelInfo,
    ModelRef,
    ResolveOptions,
    SpanOut,
    TagRequest,
    TagResponse,
    TokenOut,
)
from app.settings import Settings
from model.dates import today_in
from model.predictor import Prediction, Predictor

router = APIRouter()


def _limit_error(loc: tuple[str | int, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("body", *loc), "msg": message}])


def _check_text(text: str, settings: Settings, loc: tuple[str | int, ...]) -> None:
    if len(text) > settings.max_text_chars:
        raise _limit_error(
            loc, f"text has {len(text):,} characters; the limit is {settings.max_text_chars:,}"
        )


def _reference_date(options: ResolveOptions, settings: Settings) -> date:
    if options.reference_date is not None:
        return options.reference_date
    try:
        return today_in(options.timezone or settings.timezone)
    except ValueError as e:
        raise _limit_error(("timezone",), str(e)) from None


def _response(prediction: Prediction, predictor: Predictor, min_confidence: float) -> TagResponse:
    return TagResponse(
        text=prediction.text,
        tokens=[
            TokenOut(text=t.text, start=t.start, end=t.end, tag=tag)
            for t, tag in zip(prediction.tokens, prediction.tags, strict=True)
        ],
        spans=[
            SpanOut(
                label=s.label,
                text=s.text,
                start=s.start,
                end=s.end,
                confidence=round(s.confidence, 4),
                value=s.value,
            )
            for s in prediction.spans
            if s.confidence >= min_confidence
        ],
        model=ModelRef(name=predictor.meta.name, version=predictor.meta.version),
    )


@router.post("/tag", response_model=TagResponse)
async def tag(body: TagRequest, predictor: PredictorDep, settings: SettingsDep) -> TagResponse:
    """Tag one text: its tokens with BIO tags, and its labelled spans."""
    _check_text(body.text, settings, ("text",))
    reference = _reference_date(body, settings)
    [prediction] = await run_in_threadpool(
        partial(predictor.predict, [body.text], reference_date=reference)
    )
    return _response(prediction, predictor, body.min_confidence)


@router.post("/tag/batch", response_model=BatchTagResponse)
async def tag_batch(
    body: BatchTagRequest, predictor: PredictorDep, settings: SettingsDep
) -> BatchTagResponse:
    """Tag many texts in one forward pass; results come back in request order."""
    if len(body.texts) > settings.max_batch_size:
        raise _limit_error(
            ("texts",),
            f"batch has {len(body.texts):,} texts; the limit is {settings.max_batch_size:,}",
        )
    for i, text in enumerate(body.texts):
        _check_text(text, settings, ("texts", i))
    reference = _reference_date(body, settings)
    predictions = await run_in_threadpool(
        partial(predictor.predict, body.texts, reference_date=reference)
    )
    return BatchTagResponse(
        results=[_response(p, predictor, body.min_confidence) for p in predictions]
    )


@router.get("/health", response_model=HealthResponse)
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
