"""Request ids, JSON access logs and Prometheus metrics, each a pure ASGI middleware.

Every response carries ``X-Request-ID`` (the caller's, when it is a sane token, else a new one), and
each request is logged as one JSON line on the ``slot_tagger.access`` logger. ``GET /metrics``
serves request counts and latency histograms per route (the metrics prometheus-fastapi-
instrumentator's default instrumentation gives, under the same names, labels and buckets) plus
model inference time, queue depth and spans per label. Each app has its own registry; with
several uvicorn workers each worker reports its own numbers.

What a request costs here was measured (`make bench-yardstick ARGS=--ablate`) and kept small: the
access log is written in batches (:class:`LineBuffer`) instead of a write and a flush per line
(44 µs a line on the shared machine), request metrics are plain numbers read out at a scrape
(:class:`RequestStats`, :class:`RequestMetrics`) instead of matching every route again and
building a Request and a Response per request as the instrumentator's middleware does (47 µs).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from bisect import bisect_left
from collections.abc import Callable
from itertools import count
from typing import IO, Any

import orjson
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.headers import header

access_log = logging.getLogger("slot_tagger.access")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# prometheus-fastapi-instrumentator's default buckets (metrics.default), kept as they were.
LATENCY_HIGHR_BUCKETS = (
    *(0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5),
    *(7.5, 10, 30, 60, float("inf")),
)
LATENCY_LOWR_BUCKETS = (0.1, 0.5, 1, float("inf"))
EXCLUDED_HANDLERS = frozenset({"/metrics"})
UNTEMPLATED = "none"  # the handler label of a path no route matches
MAX_CACHED = 4096  # handler names remembered per path (paths are the client's: beyond this,
# one is looked up each time instead of growing memory)


class Metrics:
    """The service's metrics, on a registry of the app's: per request (what the instrumentator
    gives by default) and the model's own."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry  # app/ray_serve.py adds its own to it
        # per request: named, labelled and bucketed as prometheus-fastapi-instrumentator does
        self.requests = RequestStats()
        registry.register(self.requests)
        # ----- the model -----
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

        self._span_counters: dict[str, Any] = {}

    def observe_batch(self, seconds: float, texts: int) -> None:
        self.inference_seconds.observe(seconds)
        self.batch_texts.observe(texts)

    def count_span(self, label: str) -> None:
        """One more span of ``label`` returned (its counter looked up once: labels() costs a
        lock and a few conversions per call)."""
        counter = self._span_counters.get(label)
        if counter is None:
            counter = self._span_counters.setdefault(label, self.spans.labels(label))
        counter.inc()


class RequestStats:
    """The per-request metrics of prometheus-fastapi-instrumentator's default instrumentation
    (``http_requests_total``, ``http_request_size_bytes``, ``http_response_size_bytes``,
    ``http_request_duration_highr_seconds``, ``http_request_duration_seconds``): the same names,
    help, labels, buckets and samples, kept as plain numbers that a scrape reads out. An update
    is a few dictionary operations on the event loop's thread (prometheus_client's metric
    objects take a lock per value: five metrics cost 10 µs a request)."""

    def __init__(self) -> None:
        self._total: dict[tuple[str, str, str], list[float]] = {}  # [count, created]
        self._in_size: dict[str, list[float]] = {}  # [count, sum, created]
        self._out_size: dict[str, list[float]] = {}
        self._highr = _histogram(len(LATENCY_HIGHR_BUCKETS))
        self._lowr: dict[tuple[str, str], list[Any]] = {}  # [bucket counts, sum, created]

    def observe(
        self,
        method: str,
        status: str,
        handler: str,
        request_bytes: int,
        response_bytes: int,
        seconds: float,
    ) -> None:
        """One request answered: ``status`` as its class ("2xx"), sizes from Content-Length."""
        now = 0.0
        total = self._total.get((method, status, handler))
        if total is None:
            now = time.time()
            total = self._total.setdefault((method, status, handler), [0.0, now])
        total[0] += 1
        for table, size in ((self._in_size, request_bytes), (self._out_size, response_bytes)):
            summary = table.get(handler)
            if summary is None:
                summary = table.setdefault(handler, [0.0, 0.0, now or time.time()])
            summary[0] += 1
            summary[1] += size
        _observe(self._highr, LATENCY_HIGHR_BUCKETS, seconds)
        lowr = self._lowr.get((method, handler))
        if lowr is None:
            lowr = self._lowr.setdefault(
                (method, handler), _histogram(len(LATENCY_LOWR_BUCKETS), now or time.time())
            )
        _observe(lowr, LATENCY_LOWR_BUCKETS, seconds)

    def describe(self) -> list[Metric]:
        return [
            Metric("http_requests", _HELP["requests"], "counter"),
            Metric("http_request_size_bytes", _HELP["in"], "summary"),
            Metric("http_response_size_bytes", _HELP["out"], "summary"),
            Metric("http_request_duration_highr_seconds", _HELP["highr"], "histogram"),
            Metric("http_request_duration_seconds", _HELP["lowr"], "histogram"),
        ]

    def collect(self) -> list[Metric]:
        """The samples prometheus_client's own Counter, Summary and Histogram would give."""
        total, in_size, out_size, highr, lowr = self.describe()
        for (method, status, handler), (count_, created) in list(self._total.items()):
            labels = {"method": method, "status": status, "handler": handler}
            total.add_sample("http_requests_total", labels, count_)
            total.add_sample("http_requests_created", labels, created)
        for metric, table in ((in_size, self._in_size), (out_size, self._out_size)):
            for handler, (count_, sum_, created) in list(table.items()):
                labels = {"handler": handler}
                metric.add_sample(metric.name + "_count", labels, count_)
                metric.add_sample(metric.name + "_sum", labels, sum_)
                metric.add_sample(metric.name + "_created", labels, created)
        _histogram_samples(highr, {}, LATENCY_HIGHR_BUCKETS, self._highr)
        for (method, handler), values in list(self._lowr.items()):
            labels = {"method": method, "handler": handler}
            _histogram_samples(lowr, labels, LATENCY_LOWR_BUCKETS, values)
        return [total, in_size, out_size, highr, lowr]


_HELP = {
    "requests": "Total number of requests by method, status and handler.",
    "in": "Content length of incoming requests by handler. Only value of header is respected. "
    "Otherwise ignored. No percentile calculated. ",
    "out": "Content length of outgoing responses by handler. Only value of header is respected. "
    "Otherwise ignored. No percentile calculated. ",
    "highr": "Latency with many buckets but no API specific labels. Made for more accurate "
    "percentile calculations. ",
    "lowr": "Latency with only few buckets by handler. Made to be only used if aggregation by "
    "handler is important. ",
}


def _histogram(buckets: int, created: float | None = None) -> list[Any]:
    """[count per bucket (not cumulative), sum, created]."""
    return [[0] * buckets, 0.0, time.time() if created is None else created]


def _observe(histogram: list[Any], bounds: tuple[float, ...], value: float) -> None:
    histogram[0][bisect_left(bounds, value)] += 1  # as prometheus_client's Histogram.observe
    histogram[1] += value


def _histogram_samples(
    metric: Metric, labels: dict[str, str], bounds: tuple[float, ...], histogram: list[Any]
) -> None:
    counts, sum_, created = list(histogram[0]), histogram[1], histogram[2]
    cumulative = 0.0
    for bound, n in zip(bounds, counts, strict=True):
        cumulative += n
        le = floatToGoString(bound)
        metric.add_sample(metric.name + "_bucket", {**labels, "le": le}, cumulative)
    metric.add_sample(metric.name + "_count", labels, cumulative)
    metric.add_sample(metric.name + "_sum", labels, sum_)
    metric.add_sample(metric.name + "_created", labels, created)


def instrument(app: FastAPI) -> Metrics:
    """The app's metrics, counted by :class:`RequestMetrics` (innermost, as the instrumentator's
    middleware was: requests refused by the outer middleware are not counted) and served at
    ``GET /metrics`` by the instrumentator's endpoint."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    app.add_middleware(RequestMetrics, metrics=metrics)
    Instrumentator(registry=registry).expose(app, endpoint="/metrics", include_in_schema=False)
    return metrics


def _content_length(headers: Any) -> int:
    value = header(headers, b"content-length")
    return int(value) if value is not None and value.isdigit() else 0


class RequestMetrics:
    """Pure ASGI middleware: counts each request, its sizes and its latency (:class:`Metrics`).

    The handler label is the matched route's path template, as the instrumentator names it
    (its own function, run once per distinct path and remembered), "none" for a path no route
    matches; ``/metrics`` itself is not counted."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._handlers: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: Any = 500
        response_headers: Any = ()

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = message.get("headers", ())
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            handler = self._handler(scope)
            if handler not in EXCLUDED_HANDLERS:
                self.metrics.requests.observe(
                    scope["method"],
                    f"{str(int(status))[0]}xx",
                    handler,
                    _content_length(scope["headers"]),
                    _content_length(response_headers),
                    max(time.perf_counter() - started, 0.0),
                )

    def _handler(self, scope: Scope) -> str:
        path: str = scope["path"]
        handler = self._handlers.get(path)
        if handler is None:
            # The routes do not change once the app serves: a path always names the same route.
            handler = get_route_name(HTTPConnection(scope), should_include_root_path=False)
            handler = handler or UNTEMPLATED
            if len(self._handlers) < MAX_CACHED:
                self._handlers[path] = handler
        return handler


class LineBuffer(logging.Handler):
    """A logging handler that writes each record's message as one line, in batches: when
    ``max_lines`` are waiting, else within ``interval_s`` of the first (a background thread
    flushes), and when logging shuts down at exit. One write and one flush per batch instead of
    per line; a hard kill loses at most the last ``interval_s`` of lines."""

    def __init__(self, stream: IO[str], interval_s: float = 0.5, max_lines: int = 256) -> None:
        super().__init__()
        self.stream = stream
        self.interval_s = interval_s
        self.max_lines = max_lines
        self.setFormatter(logging.Formatter("%(message)s"))
        self._lines: list[str] = []
        self._flusher: threading.Thread | None = None
        self._closed = threading.Event()
        self.dropped = 0  # lines a failed write lost

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write(self.format(record))
        except Exception:  # noqa: BLE001 - logging's own contract: report, never raise
            self.handleError(record)

    def write(self, line: str) -> None:
        """Queue one line (without its newline)."""
        with self.lock:  # type: ignore[union-attr]
            self._lines.append(line)
            full = len(self._lines) >= self.max_lines
        if full:
            self.flush()
        elif self._flusher is None:
            self._start_flusher()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            lines, self._lines = self._lines, []
            if not lines:
                return
            try:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
            except ValueError:  # the stream was closed (a test's capture): nobody reads it
                pass
            except OSError as e:  # a full or broken pipe: this batch is lost, later ones are not
                self.dropped += len(lines)
                sys.stderr.write(
                    f"slot-tagger: {len(lines)} access log lines lost ({e}); "
                    f"{self.dropped} in all\n"
                )

    def _start_flusher(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._flusher is not None:
                return
            self._flusher = threading.Thread(
                target=self._flush_every_interval, name="slot-tagger-access-log", daemon=True
            )
            self._flusher.start()

    def _flush_every_interval(self) -> None:
        while not self._closed.wait(self.interval_s):
            self.flush()

    def close(self) -> None:
        """Write out what waits and stop the flusher (logging calls this at exit)."""
        self._closed.set()
        self.flush()
        super().close()


def configure_access_log() -> None:
    """Send the JSON access log to stdout, one bare line per request, in batches (once per
    process)."""
    if not access_log.handlers:
        access_log.addHandler(LineBuffer(sys.stdout))
        access_log.setLevel(logging.INFO)
        access_log.propagate = False


def flush_access_log() -> None:
    """Write out the access log's waiting lines (when the app shuts down)."""
    for handler in access_log.handlers:
        if isinstance(handler, LineBuffer):
            handler.flush()


def _direct_sink() -> LineBuffer | None:
    """The access log's one handler, when nothing else would see its records (no filter, no
    other handler, no propagation): then a line goes straight to it, without a LogRecord (the
    same output, a fifth of the cost). Otherwise (a test capturing records, another handler
    added) lines go through the logger."""
    handlers = access_log.handlers
    if (
        len(handlers) == 1
        and isinstance(handlers[0], LineBuffer)
        and not access_log.propagate
        and not access_log.filters
        and not handlers[0].filters
        and handlers[0].level <= logging.INFO
    ):
        return handlers[0]
    return None


class _RequestIds:
    """New request ids: 32 hex characters, a random per-process prefix and a counter (unique
    within the process, and across processes but for a 1 in 2^64 chance; a uuid4 cost 4 µs)."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter: Callable[[], int] = count().__next__

    def new(self) -> str:
        return f"{self._prefix}{self._counter():016x}"


_request_ids = _RequestIds()


class RequestLog:
    """Pure ASGI middleware: request id header and one JSON access-log line per request."""

    def __init__(self, app: ASGIApp, json_logs: bool = True) -> None:
        self.app = app
        self.json_logs = json_logs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = (header(scope["headers"], b"x-request-id") or b"").decode("latin-1")
        request_id = incoming if incoming and _SANE_ID.match(incoming) else _request_ids.new()
        id_header = (b"x-request-id", request_id.encode())
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.json_logs and access_log.isEnabledFor(logging.INFO):
                line = orjson.dumps(
                    {
                        "request_id": request_id,
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    }
                ).decode()
                sink = _direct_sink()
                if sink is not None:
                    sink.write(line)
                else:
                    access_log.info(line)
