"""Request metrics and the buffered access log, against what they replace."""

import io

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator import Instrumentator

from app.observability import LineBuffer, instrument
from tests.conftest import wait_until


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/tag")
    async def tag(body: dict) -> dict:
        return {"text": body.get("text")}

    @app.get("/items/{item}")
    async def item(item: int) -> dict:
        if item == 0:
            raise HTTPException(status_code=503, detail="no")
        return {"item": item}

    return app


def _samples(registry: CollectorRegistry) -> dict[tuple, float]:
    """The http_* samples but their creation times and latencies (which differ run to run); of
    the latency histograms, the counts."""
    samples = {}
    for metric in registry.collect():
        for s in metric.samples:
            if not s.name.startswith("http_") or s.name.endswith("_created"):
                continue
            if "duration" in s.name and not s.name.endswith("_count"):
                continue
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_request_metrics_are_those_the_instrumentator_gives() -> None:
    """Same names, labels and values as prometheus-fastapi-instrumentator's own middleware, on
    the same requests: templated routes, an unknown path, a wrong method, 4xx and 5xx, and
    /metrics left out."""
    theirs, ours = _app(), _app()
    registry = CollectorRegistry()
    Instrumentator(registry=registry, excluded_handlers=["/metrics"]).instrument(theirs).expose(
        theirs, endpoint="/metrics", include_in_schema=False
    )
    metrics = instrument(ours)
    for app in (theirs, ours):
        with TestClient(app) as client:
            for _ in range(3):
                client.post("/tag", json={"text": "leave Boston"})
            client.post("/tag", content=b"{", headers={"content-type": "application/json"})
            client.get("/items/7")
            client.get("/items/8")
            client.get("/items/0")
            client.get("/items/x")
            client.get("/nope")
            client.put("/tag")
            client.get("/metrics")
    expected = _samples(registry)
    assert expected  # the instrumentator counted something
    assert _samples(metrics.registry) == expected
    text = TestClient(ours).get("/metrics").text
    assert 'http_requests_total{handler="/items/{item}",method="GET",status="2xx"} 2.0' in text


def test_a_failed_access_log_write_loses_its_batch_only(capsys) -> None:
    """A full or broken pipe (EAGAIN, EPIPE) costs the lines of that write, said on stderr; the
    lines after it still go out, on the interval."""

    class Flaky(io.StringIO):
        failures = 1

        def write(self, text: str) -> int:
            if self.failures:
                self.failures -= 1
                raise BlockingIOError(11, "Resource temporarily unavailable")
            return super().write(text)

    stream = Flaky()
    handler = LineBuffer(stream, interval_s=0.05, max_lines=2)
    handler.write("a")
    handler.write("b")  # max_lines: this write fails
    assert handler.dropped == 2 and "2 access log lines lost" in capsys.readouterr().err
    handler.write("c")
    wait_until(lambda: stream.getvalue(), "the interval's flush after the failure")
    assert stream.getvalue() == "c\n"
    handler.close()


def test_access_log_lines_are_written_together_and_all_arrive() -> None:
    """Lines wait in memory until max_lines are there or the interval has passed: one write for
    many requests, and none lost or reordered."""
    stream = io.StringIO()
    handler = LineBuffer(stream, interval_s=0.5, max_lines=4)
    for i in range(3):
        handler.write(f"line {i}")
    assert stream.getvalue() == ""  # not one write per line
    wait_until(lambda: stream.getvalue(), "the interval's flush")
    assert stream.getvalue() == "line 0\nline 1\nline 2\n"
    for i in range(3, 7):
        handler.write(f"line {i}")
    assert stream.getvalue().endswith("line 6\n")  # max_lines: written at once
    handler.write("line 7")
    handler.close()  # at exit: what waits is written, the flusher stops
    assert stream.getvalue().endswith("line 6\nline 7\n")
    wait_until(lambda: not handler._flusher.is_alive(), "the flusher to stop")


def test_fastapi_opentelemetry_spans_only_when_asked_for(tiny_model_dir, monkeypatch) -> None:
    """FastAPI's native telemetry is off by default (it costs a provider check per request):
    with a configured tracer provider a request makes no span; with SLOT_TAGGER_OTEL on, it
    makes FastAPI's server span."""
    import inspect

    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        pytest.skip("this FastAPI has no native OpenTelemetry (0.165 has)")
    sdk = pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from app.main import create_app
    from app.settings import Settings

    exporter = InMemorySpanExporter()
    provider = sdk.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)  # not the global one
    spans = {}
    for otel in (False, True):
        exporter.clear()
        with TestClient(create_app(Settings(model_dir=tiny_model_dir, otel=otel))) as client:
            assert client.post("/tag", json={"text": "leave Boston"}).status_code == 200
        spans[otel] = [s.name for s in exporter.get_finished_spans()]
    assert spans[False] == []
    assert any("/tag" in name for name in spans[True]), spans[True]
