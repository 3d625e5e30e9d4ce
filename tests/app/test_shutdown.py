"""A real server process: SIGTERM stops it cleanly, finishing the request it is serving."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
            "SLOT_TAGGER_REQUEST_TIMEOUT_S": "60",
        },
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        big = {"texts": ["leave Beijing on November 2nd and arrive in Boston on Monday"] * 4000}
        result = {}
        request = threading.Thread(
            target=lambda: result.setdefault(
                "response", httpx.post(f"{url}/tag/batch", json=big, timeout=60)
            )
        )
        request.start()
        time.sleep(0.3)  # the batch takes over a second on this tiny model: it is in flight
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
