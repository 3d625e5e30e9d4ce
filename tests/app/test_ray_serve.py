"""The service on Ray Serve (app/ray_serve.py), on the session's local Ray cluster (loopback
only; tests/conftest.py's ray_cluster): the same answers as the plain server, two replicas both
taking traffic, and a replica killed under load.

Skipped, saying so, without the [ray] extra (`pip install -e '.[ray]'`; `make test` installs it).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import RAY_ENV, wait_until

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install -e '.[ray]'")
serve = pytest.importorskip("ray.serve")
ray_serve = pytest.importorskip("app.ray_serve")

KEY = RAY_ENV["SLOT_TAGGER_API_KEY"]
AUTH = {"Authorization": f"Bearer {KEY}"}
REPLICAS = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _running(replicas: int) -> bool:
    application = serve.status().applications.get(ray_serve.APPLICATION)
    if application is None or application.status != "RUNNING":
        return False
    deployment = application.deployments[ray_serve.DEPLOYMENT]
    return (
        deployment.replica_states.get("RUNNING", 0) == replicas
        and len(deployment.replica_states) == 1
    )


@pytest.fixture(scope="module")
def base_url(ray_cluster: None, tiny_model_dir: Path) -> Iterator[str]:
    port = _free_port()
    try:
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        application = ray_serve.build(
            {"model_dir": str(tiny_model_dir), "num_replicas": REPLICAS, "num_cpus": 0.5}
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


def _tag_counts(metrics: str) -> int:
    """The /tag requests one replica answered, from its own /metrics."""
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("http_requests_total{") and 'handler="/tag"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def test_both_replicas_take_traffic(base_url: str) -> None:
    # The module's first test: the replicas have answered no /tag yet.
    sent = 41  # odd: two replicas cannot report the same count
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
    # Each /metrics answer comes from one replica, with its own count of /tag requests.
    seen: set[int] = set()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        deadline = time.monotonic() + 30
        while len(seen) < REPLICAS and time.monotonic() < deadline:
            seen.add(_tag_counts(client.get("/metrics", headers=AUTH).text))
    assert len(seen) == REPLICAS, f"one replica answered every /metrics: {seen}"
    assert sum(seen) == sent and min(seen) > 0, seen


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


def _replicas() -> set[str]:
    """The deployment's live replica actors, by name."""
    return {
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if f"#{ray_serve.DEPLOYMENT}#" in actor["name"]
    }


def test_killed_replica_loses_no_request_and_is_replaced(base_url: str) -> None:
    replicas = sorted(_replicas())
    assert len(replicas) == REPLICAS
    outcomes: list[int | str] = []
    started = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for i in range(40):
                started.set()
                try:
                    response = client.post("/tag", json={"text": f"to Oslo {i}"}, headers=AUTH)
                    outcomes.append(response.status_code)
                except httpx.HTTPError as e:
                    outcomes.append(type(e).__name__)

    threads = [threading.Thread(target=load) for _ in range(6)]
    for thread in threads:
        thread.start()
    started.wait()
    wait_until(lambda: len(outcomes) >= 20, "load under way")
    ray.kill(ray.get_actor(replicas[0], namespace="serve"))  # the replica's process dies
    for thread in threads:
        thread.join()
    counts = Counter(outcomes)
    # Every request was answered (none hung, no connection dropped): 200, or Serve's 500 for the
    # few that were inside the killed replica at that moment (at most one per client), or 503.
    assert sum(counts.values()) == 240
    assert set(counts) <= {200, 500, 503}, counts
    assert counts[500] + counts[503] <= 6, counts
    wait_until(
        lambda: replicas[0] not in (now := _replicas()) and len(now) == REPLICAS,
        "a new replica in place of the killed one",
        60,
    )
    wait_until(lambda: _running(REPLICAS), "the deployment back at two running replicas", 60)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        after = [
            client.post("/tag", json={"text": "to Lima"}, headers=AUTH).status_code
            for _ in range(10)
        ]
    assert after == [200] * 10
