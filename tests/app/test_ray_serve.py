"""The service on Ray Serve (app/ray_serve.py), on the session's local Ray cluster (loopback
only; tests/conftest.py's ray_cluster): the same answers as the plain server, both model replicas
taking traffic, and a model replica killed while requests are inside it.

Skipped, saying so, without the [ray] extra (`pip install -e '.[ray]'`; `make test` installs it).
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Generator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runner import Failed, Unavailable
from app.settings import Settings
from tests.conftest import RAY_ENV, wait_until

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]'")
serve = pytest.importorskip("ray.serve")
ray_serve = pytest.importorskip("app.ray_serve")

KEY = RAY_ENV["SLOT_TAGGER_API_KEY"]
AUTH = {"Authorization": f"Bearer {KEY}"}
REPLICAS = 2  # model replicas; the ingress runs its default two
# Each model call waits this long in its replica for a batch to fill: requests under load are
# then inside a model replica most of the time, so a kill finds some there.
BATCH_WAIT_S = 0.05
# How long a killed replica may take to be replaced and running again (see the kill test).
RECOVERY_S = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _running() -> bool:
    """Both deployments at their replica counts, every replica running."""
    application = serve.status().applications.get(ray_serve.APPLICATION)
    if application is None or application.status != "RUNNING":
        return False
    wanted = {ray_serve.MODEL: REPLICAS, ray_serve.INGRESS: ray_serve.ServeArgs().ingress_replicas}
    return all(
        application.deployments[name].replica_states == {"RUNNING": count}
        for name, count in wanted.items()
    )


@pytest.fixture(scope="module")
def base_url(ray_cluster: None, tiny_model_dir: Path) -> Iterator[str]:
    port = _free_port()
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        application = ray_serve.build(
            {
                "model_dir": str(tiny_model_dir),
                "num_replicas": REPLICAS,
                "num_cpus": 0.5,
                "batch_wait_timeout_s": BATCH_WAIT_S,
            }
        )
        serve.run(application, name=ray_serve.APPLICATION, route_prefix="/")
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.shutdown()


@pytest.fixture(scope="module")
def plain(tiny_model_dir: Path) -> Iterator[TestClient]:
    settings = Settings(model_dir=tiny_model_dir, api_key=KEY, max_text_chars=50, max_batch_size=4)
    with TestClient(create_app(settings)) as client:
        yield client


REQUESTS = [
    ("POST", "/tag", {"text": "leave Beijing on November 2nd"}, AUTH),
    ("POST", "/tag", {"text": "arrive Boston on Monday", "reference_date": "2026-11-23"}, AUTH),
    ("POST", "/tag/batch", {"texts": ["from Miami to Atlanta", "thank you", ""]}, AUTH),
    ("POST", "/tag", {"text": "x" * 51}, AUTH),  # over the limit: 422 naming it
    ("POST", "/tag/batch", {"texts": ["a"] * 5}, AUTH),  # too many texts: 422
    ("POST", "/tag", {"text": 5}, AUTH),  # wrong type: 422
    ("POST", "/tag", {"text": "leave Beijing"}, {}),  # no key: 401
    ("GET", "/model", None, AUTH),
    ("GET", "/health", None, {}),
    ("GET", "/nowhere", None, AUTH),
]
_SAMPLE = re.compile(r'^(slot_tagger_\w+)\{replica="([^"]+)"\} (\S+)$', re.MULTILINE)


def _counts(client: httpx.Client) -> dict[str, dict[str, float]]:
    """Each ingress replica's counts of model calls per model replica and of retries, from the
    /metrics answers of both (each answer is one ingress replica's, naming itself)."""
    seen: dict[str, dict[str, float]] = {}
    ingress = ray_serve.ServeArgs().ingress_replicas
    for _ in range(200):
        text = client.get("/metrics", headers=AUTH).text
        samples = _SAMPLE.findall(text)
        [me] = [replica for name, replica, _ in samples if name == "slot_tagger_ingress_replica"]
        calls = {r: float(v) for n, r, v in samples if n == "slot_tagger_model_calls_total"}
        retried = re.search(r"^slot_tagger_model_retries_total (\S+)$", text, re.MULTILINE)
        seen[me] = {**calls, "retries": float(retried.group(1)) if retried else 0.0}
        if len(seen) == ingress:
            return seen
    raise AssertionError(f"only {len(seen)} of {ingress} ingress replicas answered /metrics")


def _calls_per_model_replica(seen: dict[str, dict[str, float]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for counts in seen.values():
        total.update({r: int(n) for r, n in counts.items() if r != "retries"})
    return total


def test_both_model_replicas_take_traffic(base_url: str) -> None:
    # The module's first test: no model call has been made yet.
    sent = 41
    statuses: list[int] = []

    def send(n: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for i in range(n):
                response = client.post("/tag", json={"text": f"to Paris {i}"}, headers=AUTH)
                statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in (11, 10, 10, 10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * sent
    with httpx.Client(base_url=base_url, timeout=30) as client:
        seen = _counts(client)
    per_replica = _calls_per_model_replica(seen)
    assert len(per_replica) == REPLICAS and min(per_replica.values()) > 0, per_replica
    assert sum(per_replica.values()) == sent, per_replica
    # Both ingress replicas took requests too.
    assert all(sum(v for r, v in c.items() if r != "retries") > 0 for c in seen.values()), seen


def test_answers_are_the_plain_servers(base_url: str, plain: TestClient) -> None:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for method, path, body, headers in REQUESTS:
            want = plain.request(method, path, json=body, headers=headers)
            got = client.request(method, path, json=body, headers=headers)
            assert (got.status_code, got.json()) == (want.status_code, want.json()), path
            assert got.headers.get("www-authenticate") == want.headers.get("www-authenticate")
        # The schema shows the configured limits, as the plain server's does.
        assert (
            client.get("/openapi.json", headers=AUTH).json()
            == plain.get("/openapi.json", headers=AUTH).json()
        )


def _model_replicas() -> dict[str, str]:
    """The model deployment's live replica actors: their replica ids, by actor name."""
    return {
        actor["name"]: actor["name"].rsplit("#", 1)[1]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if f"#{ray_serve.MODEL}#" in actor["name"]
    }


def _with_requests_inside(replicas: dict[str, str]) -> str | None:
    """A model replica holding at least two requests now, by Serve's own count (the probe its
    router makes before sending a request: the calls the replica has taken, not yet answered)."""
    for name in replicas:
        actor = ray.get_actor(name, namespace="serve")
        if ray.get(actor.get_num_ongoing_requests.remote()) >= 2:
            return name
    return None


def test_killed_model_replica_loses_no_request_and_is_replaced(
    base_url: str, plain: TestClient
) -> None:
    before = _model_replicas()
    assert len(before) == REPLICAS
    with httpx.Client(base_url=base_url, timeout=30) as client:
        retries_before = sum(c["retries"] for c in _counts(client).values())
    clients, each = 6, 30
    outcomes: list[tuple[str, int | str, httpx.Response | None]] = []

    def load(k: int) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for i in range(each):
                text = f"to Oslo on day {k * each + i}"
                try:
                    response = client.post("/tag", json={"text": text}, headers=AUTH)
                    outcomes.append((text, response.status_code, response))
                except httpx.HTTPError as e:  # a hang (timeout) or a lost connection
                    outcomes.append((text, type(e).__name__, None))

    threads = [threading.Thread(target=load, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(outcomes) >= 30, "load under way")
    killed = wait_until(lambda: _with_requests_inside(before), "requests inside a model replica")
    ray.kill(ray.get_actor(killed, namespace="serve"))  # the replica's process dies
    for thread in threads:
        thread.join()
    # Every request was answered: with its right answer (the plain server's), or with a
    # retryable 503; none with a 500, none hung or lost its connection.
    assert len(outcomes) == clients * each
    statuses = Counter(status for _, status, _ in outcomes)
    assert set(statuses) <= {200, 503}, statuses
    for text, status, response in outcomes:
        assert response is not None
        if status == 200:
            assert response.json() == plain.post("/tag", json={"text": text}, headers=AUTH).json()
        else:
            assert response.headers["retry-after"] == "1"
            assert response.json() == {
                "detail": "the model is unavailable for a moment; retry shortly"
            }
    # Serve replaces the replica within seconds on a quiet machine; on 2 cores shared with a
    # training run it has taken over a minute, so the wait is generous (it ends when it holds).
    wait_until(
        lambda: killed not in (now := _model_replicas()) and len(now) == REPLICAS,
        "a new model replica in place of the killed one",
        RECOVERY_S,
    )
    wait_until(_running, "the deployment back at two running model replicas", RECOVERY_S)
    new = set(_model_replicas().values()) - set(before.values())
    with httpx.Client(base_url=base_url, timeout=30) as client:
        after = [
            client.post("/tag", json={"text": f"to Lima {i}"}, headers=AUTH).status_code
            for i in range(12)
        ]
        seen = _counts(client)
    assert after == [200] * 12
    # The kill found requests inside the replica (their calls went again), and the new replica
    # answers.
    assert sum(c["retries"] for c in seen.values()) > retries_before, seen
    assert any(_calls_per_model_replica(seen)[replica] > 0 for replica in new), seen


def test_model_calls_through_the_real_handle(base_url: str, plain: TestClient) -> None:
    # What the ingress does, from here: the model deployment's answer is the plain predictor's,
    # and a replica refuses a call naming another model (an update half done) with Unavailable,
    # raised in the replica and arriving without Ray's wrapper.
    handle = serve.get_deployment_handle(ray_serve.MODEL, ray_serve.APPLICATION)
    client = ray_serve.ModelClient(handle, max_queue=64, timeout_s=30)
    predictor = plain.app.state.predictor
    texts = ["leave Beijing on November 2nd", "to Rome"]
    got = asyncio.run(client._call(predictor.meta.version, texts, date(2026, 11, 23), None))
    want = predictor.predict(texts, reference_date=date(2026, 11, 23))
    assert [p.to_json(0.0) for p in got] == [p.to_json(0.0) for p in want]
    with pytest.raises(Unavailable, match="the model is being updated") as raised:
        asyncio.run(client._call("not-this-version", texts, None, None))
    assert not isinstance(raised.value, ray.exceptions.RayTaskError)


# ----- the ingress's model calls, against a stand-in for the model deployment's handle -----


class _Handle:
    """A DeploymentHandle of the model deployment: each call's outcome is the next of
    ``outcomes``, an exception raised or, for "answer", the predictor's own predictions."""

    def __init__(self, predictor: Any, outcomes: list[BaseException | str]) -> None:
        self.predictor = predictor
        self.outcomes = outcomes
        self.calls = 0
        self.tag = self  # handle.tag.remote(...)

    def remote(self, version: str, texts: list[str], reference: Any, contexts: Any) -> _Response:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            return _Response(outcome)
        if outcome == "queued":  # no replica running: Serve holds the call until one is
            return _Queued()
        predictions = self.predictor.predict(texts, reference_date=reference, contexts=contexts)
        return _Response(("replica-a", predictions))


class _Response:
    def __init__(self, outcome: object) -> None:
        self.outcome = outcome

    def __await__(self) -> Generator[Any, None, Any]:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome
        yield  # a generator, as awaitables are

    def cancel(self) -> None:
        pass


class _Queued:
    cancelled = False

    def __await__(self) -> Generator[Any, None, Any]:
        return (yield from asyncio.get_running_loop().create_future().__await__())

    def cancel(self) -> None:
        _Queued.cancelled = True


@pytest.fixture()
def ingress(tiny_model_dir: Path) -> Iterator[tuple[TestClient, list[BaseException | str]]]:
    """The app on a ModelClient whose model calls have the outcomes the test puts in the list."""
    app = create_app(Settings(model_dir=tiny_model_dir, max_text_chars=50, max_batch_size=4))
    outcomes: list[BaseException | str] = []
    with TestClient(app) as client:
        app.state.runner = ray_serve.ModelClient(
            _Handle(app.state.predictor, outcomes), max_queue=64, timeout_s=10
        )
        yield client, outcomes


def test_a_call_whose_model_replica_died_is_answered_by_the_retry(
    ingress: tuple[TestClient, list[BaseException | str]], client: TestClient
) -> None:
    ray_client, outcomes = ingress
    outcomes.extend([ray.exceptions.ActorDiedError(), "answer"])
    body = {"text": "leave Beijing on November 2nd", "reference_date": "2026-11-23"}
    response = ray_client.post("/tag", json=body)
    assert response.status_code == 200
    assert response.json() == client.post("/tag", json=body).json()
    assert outcomes == []


@pytest.mark.parametrize(
    "second", [ray.exceptions.ActorDiedError(), ray.exceptions.ActorUnavailableError("gone", None)]
)
def test_a_call_whose_retry_fails_too_is_a_retryable_503(
    ingress: tuple[TestClient, list[BaseException | str]], second: BaseException
) -> None:
    ray_client, outcomes = ingress
    outcomes.extend([ray.exceptions.ActorDiedError(), second])
    response = ray_client.post("/tag/batch", json={"texts": ["to Paris", "to Rome"]})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json() == {"detail": "the model is unavailable for a moment; retry shortly"}
    assert outcomes == []  # two calls, no third


def test_a_retry_finding_no_running_replica_is_a_503_at_once_not_a_wait(
    ingress: tuple[TestClient, list[BaseException | str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # One model replica, and it died: Serve would queue the retry until its replacement runs.
    monkeypatch.setattr(ray_serve, "RETRY_WAIT_S", 0.2)
    ray_client, outcomes = ingress
    outcomes.extend([ray.exceptions.ActorDiedError(), "queued"])
    started = time.monotonic()
    response = ray_client.post("/tag", json={"text": "to Paris"})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert time.monotonic() - started < 5  # not the 10 s request timeout's 504
    assert _Queued.cancelled  # the queued call is withdrawn


def test_an_error_raised_in_the_model_replica_is_the_plain_servers_without_ray_traceback(
    ingress: tuple[TestClient, list[BaseException | str]],
) -> None:
    ray_client, outcomes = ingress
    failed = Failed("tagging raised ValueError on texts 0..0")
    remote = ray.exceptions.RayTaskError("tag", "Traceback (most recent call last): ...", failed)
    outcomes.append(remote.as_instanceof_cause())
    response = ray_client.post("/tag", json={"text": "to Paris"})
    assert response.status_code == 500
    assert response.json() == {
        "detail": "tagging this request failed (tagging raised ValueError on texts 0..0); "
        "it was logged"
    }
    assert outcomes == []  # not retried: tagging it again would raise again
