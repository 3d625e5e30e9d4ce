"""Runner: runs the model off the event loop, with a bounded queue and a per-request timeout.

Overload answers fast instead of queueing without bound: when ``max_queue`` model calls are already
running or waiting, a new one raises :class:`Overloaded` (the route answers 503 with Retry-After).
A call that does not finish within ``timeout_s`` raises :class:`TimedOut` (504).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


class Overloaded(Exception):
    """Too many model calls in flight."""


class TimedOut(Exception):
    """A model call took longer than the request timeout."""


class Runner:
    """Admission control around model calls.

    Args:
        max_queue: most calls running or waiting at once.
        timeout_s: longest a call may take, waiting included.
    """

    def __init__(self, max_queue: int, timeout_s: float) -> None:
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self.in_flight = 0
        self.on_done: Callable[[float], None] | None = None  # observer: seconds spent in the model

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in a worker thread, or raise Overloaded / TimedOut."""
        if self.in_flight >= self.max_queue:
            raise Overloaded
        self.in_flight += 1
        started = time.perf_counter()
        try:
            return await asyncio.wait_for(run_in_threadpool(fn), self.timeout_s)
        except TimeoutError:
            raise TimedOut from None
        finally:
            self.in_flight -= 1
            if self.on_done is not None:
                self.on_done(time.perf_counter() - started)
