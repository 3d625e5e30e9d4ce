"""A real server process: SIGTERM stops it cleanly, finishing the request it is serving."""

import os
import signal
import socket
import subprocess
import sys
import threading

import httpx

from tests.conftest import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> httpx.Response | None:
    """The server's answer to GET url, or None while it does not accept connections."""
    try:
        return httpx.get(url)
    except httpx.TransportError:
        return None


def healthy(url: str) -> bool:
    response = answers(f"{url}/health")
    return response is not None and response.status_code == 200


def model_calls_in_flight(url: str) -> float:
    """The slot_tagger_queue_depth gauge of GET /metrics: model calls running or waiting."""
    response = answers(f"{url}/metrics")
    for line in response.text.splitlines() if response is not None else []:
        if line.startswith("slot_tagger_queue_depth "):
            return float(line.split()[1])
    return 0.0


def test_sigterm_finishes_in_flight_requests_and_exits_0(tiny_model_dir) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "training.cli",
            "serve",
            "--model",
            str(tiny_model_dir),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "SLOT_TAGGER_MAX_BATCH_SIZE": "4096",
            "SLOT_TAGGER_MAX_BATCH_CHARS": "1000000",
            "SLOT_TAGGER_REQUEST_TIMEOUT_S": "60",
        },
    )
    try:
        wait_until(lambda: healthy(url), "the server to serve its model")
        big = {"texts": ["leave Beijing on November 2nd and arrive in Boston on Monday"] * 4000}
        result = {}
        request = threading.Thread(
            target=lambda: result.setdefault(
                "response", httpx.post(f"{url}/tag/batch", json=big, timeout=60)
            )
        )
        request.start()
        # The batch takes over a second on this tiny model: stop the server while it runs.
        wait_until(lambda: model_calls_in_flight(url) >= 1, "the batch to reach the model")
        server.send_signal(signal.SIGTERM)
        request.join(60)
        assert server.wait(30) == 0
        assert result["response"].status_code == 200
        assert len(result["response"].json()["results"]) == 4000
    finally:
        if server.poll() is None:
            server.kill()


def test_serve_refuses_a_bad_model_in_one_line(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "training.cli", "serve", "--model", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: cannot serve: no model directory at {tmp_path / 'none'}"


def _serve(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "training.cli", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_serve_refuses_an_empty_key_in_one_line() -> None:
    done = _serve(SLOT_TAGGER_API_KEY="")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: cannot serve: SLOT_TAGGER_API_KEY is set but empty; unset it, or give it a value"
    )


def test_serve_on_ray_refuses_an_admin_token() -> None:
    # Refused before Ray is imported: it holds with or without the [ray] extra.
    done = _serve("--ray", SLOT_TAGGER_ADMIN_TOKEN="root")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: cannot serve --ray with SLOT_TAGGER_ADMIN_TOKEN set; a reload would reach one "
        "replica only. Unset the token, and restart (or redeploy) to change models"
    )


def test_serve_refuses_several_workers_with_an_admin_token() -> None:
    done = _serve("--workers", "2", SLOT_TAGGER_ADMIN_TOKEN="root")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: cannot serve: --workers > 1 with SLOT_TAGGER_ADMIN_TOKEN set; a reload would "
        "reach one worker only. Use one worker, or unset the token and restart to reload"
    )
