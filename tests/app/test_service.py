"""Limits, admission control, auth, admin reload, request ids, metrics and CORS."""

import asyncio
import shutil
import threading

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runner import Failed, Gone, Overloaded, Runner, TimedOut
from app.settings import Settings
from tests.conftest import eventually


def make_client(model_dir, **settings) -> TestClient:
    return TestClient(create_app(Settings(model_dir=model_dir, **settings)))


def test_body_over_the_limit_is_413_before_parsing(tiny_model_dir) -> None:
    with make_client(tiny_model_dir, max_body_bytes=100) as client:
        response = client.post(
            "/tag",
            content=b'{"text": "' + b"a" * 200 + b'"}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json() == {"detail": "request body is larger than the limit of 100 bytes"}

        def chunks():
            yield b'{"text": "'
            for _ in range(20):
                yield b"aaaaaaaaaa"
            yield b'"}'

        response = client.post(
            "/tag", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413


class FakePredictor:
    """Stands in for the model: records each forward pass, says when one has begun, and can be
    made to block until released."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def predict(self, texts, reference_date=None, contexts=None):
        self.entered.set()
        self.release.wait(5)
        self.calls.append(list(texts))
        return [f"tagged {t}" for t in texts]


def test_runner_batches_concurrent_requests_into_one_pass() -> None:
    async def scenario() -> None:
        runner, model = Runner(max_queue=10, timeout_s=5), FakePredictor()
        model.release.clear()
        first = asyncio.ensure_future(runner.tag(model, ["a"], None))
        assert await asyncio.to_thread(model.entered.wait, 5)  # the first request is in the model
        rest = [asyncio.ensure_future(runner.tag(model, [t], None)) for t in ("b", "c", "d")]
        await eventually(lambda: runner.in_flight == 4, "three more requests queued")
        model.release.set()
        assert await first == ["tagged a"]
        assert [await r for r in rest] == [["tagged b"], ["tagged c"], ["tagged d"]]
        assert model.calls == [["a"], ["b", "c", "d"]]
        assert runner.in_flight == 0

    asyncio.run(scenario())


class PoisonedPredictor(FakePredictor):
    """Raises on any pass holding the text 'poison', as a bug on one text would."""

    def predict(self, texts, reference_date=None, contexts=None):
        if "poison" in texts:
            self.calls.append(list(texts))
            raise OverflowError("date value out of range")
        return super().predict(texts, reference_date)


def test_one_requests_error_stays_with_it_and_the_batch_goes_on(caplog) -> None:
    async def scenario() -> None:
        runner, model = Runner(max_queue=10, timeout_s=5), PoisonedPredictor()
        model.release.clear()
        first = asyncio.ensure_future(runner.tag(model, ["a"], None))
        assert await asyncio.to_thread(model.entered.wait, 5)
        batch = [["b"], ["poison", "c"], ["d", "e"], ["poison"]]
        rest = [asyncio.ensure_future(runner.tag(model, texts, None)) for texts in batch]
        await eventually(lambda: runner.in_flight == 5, "four more requests queued")
        model.release.set()
        assert await first == ["tagged a"]
        outcomes = await asyncio.gather(*rest, return_exceptions=True)
        assert outcomes[0] == ["tagged b"] and outcomes[2] == ["tagged d", "tagged e"]
        for failed in (outcomes[1], outcomes[3]):
            assert isinstance(failed, Failed) and isinstance(failed.__cause__, OverflowError)
        assert str(outcomes[1]) == "tagging raised OverflowError on texts 0..1"
        assert runner.in_flight == 0

    asyncio.run(scenario())
    failures = [r for r in caplog.records if r.name == "app.runner"]
    assert [r.getMessage() for r in failures] == [
        "tagging failed for one request; the others go on"
    ] * 2


def test_work_whose_caller_timed_out_is_dropped_between_pieces() -> None:
    async def scenario() -> None:
        runner, model = Runner(max_queue=10, timeout_s=0.2, piece_texts=2), FakePredictor()
        model.release.clear()
        with pytest.raises(TimedOut):
            await runner.tag(model, ["a", "b", "c", "d", "e", "f"], None)
        model.release.set()
        await runner.close()
        assert model.calls == [["a", "b"]]  # the first piece was running; the others never ran

    asyncio.run(scenario())


def test_work_whose_caller_went_away_is_dropped() -> None:
    async def scenario() -> None:
        runner, model = Runner(max_queue=10, timeout_s=5), FakePredictor()
        model.release.clear()
        first = asyncio.ensure_future(runner.tag(model, ["a"], None))
        assert await asyncio.to_thread(model.entered.wait, 5)
        left = asyncio.Event()
        second = asyncio.ensure_future(runner.tag(model, ["b"], None, left.wait))
        await eventually(lambda: runner.in_flight == 2, "the second request queued")
        left.set()
        with pytest.raises(Gone):
            await second
        model.release.set()
        assert await first == ["tagged a"]
        await runner.close()
        assert model.calls == [["a"]]

    asyncio.run(scenario())


def test_runner_refuses_beyond_its_queue_and_times_out() -> None:
    async def scenario() -> None:
        runner, model = Runner(max_queue=1, timeout_s=0.2), FakePredictor()
        model.release.clear()
        first = asyncio.ensure_future(runner.tag(model, ["a"], None))
        await eventually(lambda: runner.in_flight == 1, "the first request in flight")
        with pytest.raises(Overloaded):
            await runner.tag(model, ["b"], None)
        with pytest.raises(TimedOut):
            await first
        model.release.set()
        assert await runner.tag(model, ["c"], None) == ["tagged c"]
        assert runner.in_flight == 0

    asyncio.run(scenario())


def test_overload_is_503_with_retry_after(tiny_model_dir, monkeypatch) -> None:
    with make_client(tiny_model_dir, max_queue=1) as client:
        predictor = client.app.state.predictor
        release, entered = threading.Event(), threading.Event()
        original = predictor.predict

        def slow(*args, **kwargs):
            entered.set()
            release.wait(5)
            return original(*args, **kwargs)

        monkeypatch.setattr(predictor, "predict", slow)
        results = {}
        worker = threading.Thread(
            target=lambda: results.setdefault(
                "first", client.post("/tag", json={"text": "leave Boston"})
            )
        )
        worker.start()
        assert entered.wait(5)
        response = client.post("/tag", json={"text": "leave Boston"})
        release.set()
        worker.join()
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json() == {"detail": "the service is busy; retry shortly"}
        assert results["first"].status_code == 200


def test_slow_request_is_504(tiny_model_dir, monkeypatch) -> None:
    with make_client(tiny_model_dir, request_timeout_s=0.1) as client:
        release = threading.Event()  # the model answers only once the request has timed out
        monkeypatch.setattr(client.app.state.predictor, "predict", lambda *a, **k: release.wait(5))
        response = client.post("/tag", json={"text": "leave Boston"})
        release.set()
        assert response.status_code == 504
        assert response.json() == {"detail": "tagging took longer than the request timeout"}


def test_api_key_guards_everything_but_health(tiny_model_dir) -> None:
    with make_client(tiny_model_dir, api_key="s3cret") as client:
        assert client.get("/health").status_code == 200
        response = client.post("/tag", json={"text": "leave Boston"})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert client.get("/model", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.post(
            "/tag", json={"text": "leave Boston"}, headers={"Authorization": "Bearer s3cret"}
        )
        assert ok.status_code == 200


def test_with_a_key_metrics_docs_and_the_schema_need_it_too(tiny_model_dir) -> None:
    closed = ["/metrics", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect", "/nope"]
    with make_client(tiny_model_dir, api_key="s3cret") as client:
        for path in closed:
            response = client.get(path)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"] == "Bearer"
        auth = {"Authorization": "Bearer s3cret"}
        assert client.get("/metrics", headers=auth).status_code == 200
        assert client.get("/openapi.json", headers=auth).status_code == 200
        assert client.get("/health").status_code == 200
    with make_client(tiny_model_dir, api_key="s3cret", docs_public=True) as client:
        assert client.get("/docs").status_code == 200
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/metrics").status_code == 401


@pytest.mark.parametrize("name", ["api_key", "admin_token"])
@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_key_is_an_error_at_startup(name, value) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as e:
        Settings(**{name: value})
    [error] = e.value.errors()
    assert error["msg"] == (
        f"Value error, SLOT_TAGGER_{name.upper()} is set but empty; unset it, or give it a value"
    )


def test_admin_reload_is_off_by_default(tiny_model_dir) -> None:
    with make_client(tiny_model_dir) as client:
        assert client.post("/admin/reload").status_code == 404


def test_admin_reload_swaps_models_and_refuses_a_bad_one(tiny_model_dir, tmp_path) -> None:
    live = tmp_path / "live"
    shutil.copytree(tiny_model_dir, live)
    with make_client(live, admin_token="root") as client:
        auth = {"Authorization": "Bearer root"}
        assert client.post("/admin/reload").status_code == 401
        before = client.get("/health").json()["model"]
        response = client.post("/admin/reload", headers=auth)
        assert response.status_code == 200 and response.json() == before
        (live / "weights.safetensors").write_bytes(b"garbage")
        response = client.post("/admin/reload", headers=auth)
        assert response.status_code == 409
        assert response.json() == {
            "detail": "new model refused (CorruptModelError); the previous model is still serving"
        }
        assert str(tmp_path) not in response.text
        assert client.post("/tag", json={"text": "leave Boston"}).status_code == 200


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    made = client.get("/health", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
    assert len(made) == 32 and made.isalnum()


def test_metrics_count_requests_inference_and_spans(client: TestClient) -> None:
    client.post("/tag", json={"text": "leave Beijing on November 2nd"})
    text = client.get("/metrics").text
    assert 'http_requests_total{handler="/tag",method="POST",status="2xx"}' in text
    assert "slot_tagger_inference_seconds_count" in text
    assert 'slot_tagger_spans_total{label="departure"}' in text
    assert "slot_tagger_queue_depth 0.0" in text


def test_cors_is_closed_unless_configured(tiny_model_dir) -> None:
    preflight = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    with make_client(tiny_model_dir) as client:
        assert (
            "access-control-allow-origin" not in client.options("/tag", headers=preflight).headers
        )
    with make_client(tiny_model_dir, cors_origins=["https://example.org"]) as client:
        response = client.options("/tag", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://example.org"


@pytest.mark.parametrize("breakage", ["missing", "truncated", "corrupt", "format", "labels"])
def test_a_bad_model_fails_startup_with_one_line(tiny_model_dir, tmp_path, breakage) -> None:
    import json

    model = tmp_path / "m"
    if breakage != "missing":
        shutil.copytree(tiny_model_dir, model)
    if breakage == "corrupt":
        (model / "weights.safetensors").write_bytes(b"\x00garbage" * 1000)
    elif breakage == "truncated":
        (model / "weights.safetensors").write_bytes(
            (model / "weights.safetensors").read_bytes()[:100]
        )
    elif breakage in ("format", "labels"):
        meta = json.loads((model / "meta.json").read_text())
        meta.update({"format_version": 9} if breakage == "format" else {"labels": ["x"]})
        (model / "meta.json").write_text(json.dumps(meta))
    app = create_app(Settings(model_dir=model))
    with pytest.raises(RuntimeError) as e, TestClient(app):
        pass
    message = str(e.value)
    assert message.startswith("cannot serve: ") and "\n" not in message
    assert app.state.predictor is None


def test_each_request_is_one_json_access_log_line(client: TestClient, caplog) -> None:
    import json
    import logging

    with caplog.at_level(logging.INFO, logger="slot_tagger.access"):
        client.post("/tag", json={"text": "leave Boston"}, headers={"X-Request-ID": "r-1"})
    [record] = [r for r in caplog.records if r.name == "slot_tagger.access"]
    line = json.loads(record.getMessage())
    assert {k: line[k] for k in ("request_id", "method", "path", "status")} == {
        "request_id": "r-1",
        "method": "POST",
        "path": "/tag",
        "status": 200,
    }
    assert line["duration_ms"] > 0


def test_a_request_that_breaks_the_model_is_a_short_500_and_others_go_on(
    tiny_model_dir, monkeypatch
) -> None:
    with make_client(tiny_model_dir) as client:
        predictor = client.app.state.predictor
        original = predictor.predict

        def predict(texts, **kwargs):
            if "poison" in texts:
                raise OverflowError("date value out of range")
            return original(texts, **kwargs)

        monkeypatch.setattr(predictor, "predict", predict)
        response = client.post("/tag/batch", json={"texts": ["leave Boston", "poison"]})
        assert response.status_code == 500
        assert response.json() == {
            "detail": "tagging this request failed (tagging raised OverflowError on texts 0..1); "
            "it was logged"
        }
        assert client.post("/tag", json={"text": "leave Boston"}).status_code == 200


def test_any_failure_to_load_is_one_line_at_start_and_409_on_reload(
    tiny_model_dir, monkeypatch
) -> None:
    from model.predictor import Predictor

    real = Predictor.from_dir
    with make_client(tiny_model_dir, admin_token="root") as client:
        before = client.get("/health").json()["model"]

        def broken(*args, **kwargs):
            raise MemoryError("cannot allocate 4 TB")

        monkeypatch.setattr(Predictor, "from_dir", broken)
        response = client.post("/admin/reload", headers={"Authorization": "Bearer root"})
        assert response.status_code == 409
        assert response.json() == {
            "detail": "new model refused (CorruptModelError); the previous model is still serving"
        }
        assert client.get("/health").json()["model"] == before
    app = create_app(Settings(model_dir=tiny_model_dir))
    with pytest.raises(RuntimeError) as e, TestClient(app):
        pass
    assert str(e.value) == (
        f"cannot serve: model at {tiny_model_dir} cannot be loaded "
        "(MemoryError: cannot allocate 4 TB)"
    )
    monkeypatch.setattr(Predictor, "from_dir", real)


def test_reloads_run_one_at_a_time(tiny_model_dir, monkeypatch) -> None:
    import app.routes

    real, running, most = app.routes.load_predictor, [], []
    entered = threading.Semaphore(0)
    release = threading.Event()

    def counting(settings):
        running.append(1)
        most.append(len(running))
        entered.release()
        release.wait(10)
        try:
            return real(settings)
        finally:
            running.pop()

    monkeypatch.setattr(app.routes, "load_predictor", counting)
    with make_client(tiny_model_dir, admin_token="root") as client:
        auth = {"Authorization": "Bearer root"}
        results = []
        threads = [
            threading.Thread(
                target=lambda: results.append(client.post("/admin/reload", headers=auth))
            )
            for _ in range(3)
        ]
        for t in threads:
            t.start()
        assert entered.acquire(timeout=10)  # one reload is loading
        release.set()
        for t in threads:
            t.join(30)
        assert [r.status_code for r in results] == [200, 200, 200]
        assert max(most) == 1
