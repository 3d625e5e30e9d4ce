"""A real uvicorn server with the bounded protocol: slow requests, big headers, many sockets."""

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from app.connections import BoundedHttpTools, ConnectionLimits
from tests.conftest import wait_until


async def hello(scope, receive, send) -> None:
    assert scope["type"] == "http"
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


class Limited(BoundedHttpTools):
    limits = ConnectionLimits(read_timeout_s=0.3, max_header_bytes=2048, max_connections=4)


@pytest.fixture()
def server() -> Iterator[int]:
    config = uvicorn.Config(
        hello, host="127.0.0.1", port=0, http=Limited, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, "the server to start")
    [sock] = server.servers[0].sockets
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset ends it too)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def test_a_request_that_never_completes_is_closed_with_408(server: int) -> None:
    idle = connect(server)  # sends nothing at all
    slow = connect(server)
    slow.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n")  # headers never finish
    body = connect(server)
    body.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nabc")  # nor the body
    for sock in (idle, slow, body):
        with sock:
            assert read_all(sock).startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert httpx.get(f"http://127.0.0.1:{server}/").text == "hello"


def test_headers_over_the_limit_get_431(server: int) -> None:
    response = httpx.get(f"http://127.0.0.1:{server}/", headers={"x-big": "a" * 3000})
    assert response.status_code == 431
    assert response.text == "request line and headers are larger than the limit of 2,048 bytes"
    sock = connect(server)  # a header that never ends is not read on and on
    sock.sendall(b"GET / HTTP/1.1\r\nx-endless: ")
    for _ in range(100):
        try:
            sock.sendall(b"a" * 1024)
        except (BrokenPipeError, ConnectionResetError):
            break
    with sock:  # closed by the server: answered 431, or reset while the client was still sending
        answer = read_all(sock)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
    assert httpx.get(f"http://127.0.0.1:{server}/", headers={"x-ok": "a" * 1000}).text == "hello"


def test_a_pipelined_request_over_the_header_limit_gets_431_too(server: int) -> None:
    # Both requests in one write: the second head arrives in the bytes that end the first.
    with connect(server) as sock:
        sock.sendall(
            b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"
            b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 3000 + b"\r\n\r\n"
        )
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.count(b"HTTP/1.1 ") == 2 and b"HTTP/1.1 431 " in answer
    with connect(server) as sock:  # and a small one after another is answered
        sock.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n" * 2)
        answer = b""
        while answer.count(b"hello") < 2 and (chunk := sock.recv(65536)):
            answer += chunk
        assert answer.count(b"HTTP/1.1 200 OK") == 2


def test_connections_beyond_the_limit_are_closed_as_they_open(server: int, caplog) -> None:
    held = [connect(server) for _ in range(4)]
    with connect(server) as extra:
        try:
            extra.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            answer = read_all(extra)
        except ConnectionResetError:
            answer = b""
        assert answer == b""  # closed as it opened, without an answer
    for sock in held:
        sock.close()
    wait_until(lambda: _answers(server), "the server to take connections again")
    assert any("SLOT_TAGGER_MAX_CONNECTIONS" in r.getMessage() for r in caplog.records)


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/").text == "hello"
    except httpx.TransportError:
        return False
