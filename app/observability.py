"""Request ids, JSON access logs and Prometheus metrics.

Every response carries ``X-Request-ID`` (the caller's, when it is a sane token, else a new one), and
each request is logged as one JSON line on the ``slot_tagger.access`` logger. ``GET /metrics``
serves request counts and latency histograms per route (prometheus-fastapi-instrumentator) plus
model inference time, queue depth and spans per label. Each app has its own registry; with several
uvicorn workers each worker reports its own numbers.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("slot_tagger.access")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Metrics:
    """The model's own metrics, on a registry of the app's."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry  # app/ray_serve.py adds its own to it
        self.inference_seconds = Histogram(
            "slot_tagger_inference_seconds",
            "Time in the model per call, waiting included.",
            registry=registry,
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5),
        )
        self.batch_texts = Histogram(
            "slot_tagger_batch_texts",
            "Texts per forward pass (micro-batching at work).",
            registry=registry,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
        )
        self.queue_depth = Gauge(
            "slot_tagger_queue_depth", "Model calls running or waiting.", registry=registry
        )
        self.spans = Counter(
            "slot_tagger_spans_total", "Spans returned, by label.", ["label"], registry=registry
        )
        self.with_context = Counter(
            "slot_tagger_requests_with_context_total",
            "Tagging requests that carried dialogue context.",
            registry=registry,
        )
        self.rejected = Counter(
            "slot_tagger_rejected_total",
            "Requests refused by admission control.",
            ["reason"],
            registry=registry,
        )

    def observe_batch(self, seconds: float, texts: int) -> None:
        self.inference_seconds.observe(seconds)
        self.batch_texts.observe(texts)


def instrument(app: FastAPI) -> Metrics:
    registry = CollectorRegistry()
    Instrumentator(registry=registry, excluded_handlers=["/metrics"]).instrument(app).expose(
        app, endpoint="/metrics", include_in_schema=False
    )
    return Metrics(registry)


def configure_access_log() -> None:
    """Send the JSON access log to stdout, one bare line per request (once per process)."""
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False


class RequestLog:
    """Pure ASGI middleware: request id header and one JSON access-log line per request."""

    def __init__(self, app: ASGIApp, json_logs: bool = True) -> None:
        self.app = app
        self.json_logs = json_logs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.json_logs and access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    json.dumps(
                        {
                            "request_id": request_id,
                            "method": scope.get("method"),
                            "path": scope.get("path"),
                            "status": status,
                            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                        }
                    )
                )
