"""BoundedHttpTools: uvicorn's httptools protocol with the connection limits uvicorn lacks.

uvicorn bounds idle time only between requests (``timeout_keep_alive``), answers 503 beyond
``limit_concurrency`` only once a request's headers are in (an idle socket still holds a file
descriptor), and bounds header size only with h11 (``h11_max_incomplete_event_size``); httptools
reads a header of any size. This protocol adds, per process (``SLOT_TAGGER_*``, see
:class:`app.settings.Settings`):

- ``REQUEST_READ_TIMEOUT_S``: a request must arrive whole (headers and body) within this many
  seconds of the connection opening or of its first byte, or the connection is closed;
- ``MAX_HEADER_BYTES``: a request line and headers over this get 431 and the connection closed;
- ``MAX_CONNECTIONS``: connections beyond it are closed as they open (and logged, once a second).

``slot-tagger serve`` names it to uvicorn as ``http="app.connections:BoundedHttpTools"``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn._types import ASGI3Application
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    read_timeout_s: float
    max_header_bytes: int
    max_connections: int


@cache
def limits_from_settings() -> ConnectionLimits:
    """The limits of this process's settings, read once, when the first connection opens."""
    from app.settings import Settings

    s = Settings()
    return ConnectionLimits(s.request_read_timeout_s, s.max_header_bytes, s.max_connections)


def _response(status: str, text: str) -> bytes:
    body = text.encode()
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


def _too_large(limit: int) -> ASGI3Application:
    body = f"request line and headers are larger than the limit of {limit:,} bytes".encode()

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 431, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return answer


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a read timeout, a header size limit and a cap on open
    connections (see the module docstring)."""

    limits: ConnectionLimits | None = None  # None: from the settings (tests set their own)
    _last_refusal_log = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = self.limits or limits_from_settings()
        # The read timeout costs a request two attribute writes, not a timer of its own: the
        # request's deadline is noted, and one timer per connection, armed when none is
        # pending, checks it when due (re-arming for a later deadline). A timer per request
        # (call_later, then cancel) cost the bare endpoint about 9 % of its requests/s.
        self._deadline: float | None = None  # while a request is arriving
        self._read_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0  # bytes received while the head is incomplete (a bound on it)
        self._head_done = False
        # After a request on this connection: the next head may have begun in the bytes that
        # ended it (pipelined), which _head_bytes did not see, so that head is measured exactly.
        self._head_exact = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self._limits.max_connections:
            now = time.monotonic()
            if now - BoundedHttpTools._last_refusal_log > 1.0:
                BoundedHttpTools._last_refusal_log = now
                log.warning(
                    "refusing connections: %d open, the limit is %d (SLOT_TAGGER_MAX_CONNECTIONS)",
                    len(self.connections),
                    self._limits.max_connections,
                )
            transport.abort()
            return
        super().connection_made(transport)
        self._start_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline = None
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
        if self.transport is not None:  # None: refused in connection_made
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None:  # the first byte of a request on a kept-alive connection
            self._start_deadline()
        if not self._head_done:
            self._head_bytes += len(data)
        super().data_received(data)
        if not self._head_done and self._head_bytes > self._limits.max_header_bytes:
            limit = self._limits.max_header_bytes
            if not self.transport.is_closing():
                self.transport.write(
                    _response(
                        "431 Request Header Fields Too Large",
                        f"request line and headers are larger than the limit of {limit:,} bytes",
                    )
                )
                self.transport.close()

    def on_headers_complete(self) -> None:
        self._head_done = True
        exact, self._head_exact = self._head_exact, False
        # Only a head that came in with more bytes than the limit can be over it: measured then,
        # and always after an earlier request (its bytes were not all counted).
        limit = self._limits.max_header_bytes
        if (not exact and self._head_bytes <= limit) or self._head_size() <= limit:
            super().on_headers_complete()
            return
        # Headers that came in whole but too big: answered 431 by a stand-in app, so the app
        # never runs for them.
        app, self.app = self.app, _too_large(self._limits.max_header_bytes)
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def _head_size(self) -> int:
        """The request line's URL and the headers, as parsed (", " and CRLF counted)."""
        return len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)

    def on_message_complete(self) -> None:
        self._deadline = None
        # the next request's head is counted anew, and measured exactly when complete
        self._head_bytes, self._head_done, self._head_exact = 0, False, True
        super().on_message_complete()

    def _start_deadline(self) -> None:
        self._deadline = self.loop.time() + self._limits.read_timeout_s
        if self._read_timer is None:
            self._read_timer = self.loop.call_at(self._deadline, self._check_deadline)

    def _check_deadline(self) -> None:
        self._read_timer = None
        if self._deadline is None:  # no request arriving: the next one arms the timer again
            return
        if self._deadline > self.loop.time():  # a later request's deadline
            self._read_timer = self.loop.call_at(self._deadline, self._check_deadline)
            return
        self._read_timed_out()

    def _read_timed_out(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(
                _response("408 Request Timeout", "the request did not arrive in time")
            )
            self.transport.close()
