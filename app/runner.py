"""Runner: admission control and dynamic micro-batching in front of the model.

Requests do not call the model themselves. Each puts its texts on a queue that one model thread
reads; the thread takes *everything queued at that moment* and tags it in a single forward pass,
so concurrent requests share a batch while a lone request waits for nobody (no timer: at
concurrency 1 the cost is one thread hop each way). Overload answers fast instead of queueing
without bound: with ``max_queue`` requests already waiting or running, a new one raises
:class:`Overloaded` (503 with Retry-After); one not answered within ``timeout_s`` raises
:class:`TimedOut` (504).

The model thread is fed by a thread-safe queue and hands each result back to the requesting event
loop with ``call_soon_threadsafe``: no asyncio task in between, and so no extra trip through the
event loop per batch (about 0.1 ms per request at concurrency 1, against an executor and a task).

An error stays with its request: a forward pass that raises is run again one request at a time,
and only the request whose texts raise gets :class:`Failed`. Work whose callers have gone (timed
out, or disconnected: :class:`Gone`, noticed once a request has waited ``WATCH_AFTER_S``) is
dropped: a batch runs in pieces of at most ``piece_texts`` texts, and a piece is skipped when
nobody waits for any of its texts any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from model.context import Context
from model.predictor import Prediction, Predictor
from model.values.dates import Today

log = logging.getLogger(__name__)
MAX_BATCH_TEXTS = 256  # texts taken off the queue at once; a bigger request still goes alone
PIECE_TEXTS = 64  # texts per forward pass: between two, work nobody waits for is dropped
# After a batch this big, freed memory goes back to the OS (glibc keeps it otherwise: a batch of
# 32 texts of 2,000 emoji left RSS 15 % higher; returned, 8.7 %). A few ms, on big batches only.
TRIM_AFTER_CHARS = 20_000
# A caller is watched for going away (a disconnect) once it has waited this long.
WATCH_AFTER_S = 0.02


class Overloaded(Exception):
    """Too many requests waiting for the model."""


class TimedOut(Exception):
    """A request waited and ran longer than the request timeout."""


class Gone(Exception):
    """The caller went away (disconnected) before its texts were tagged."""


class Unavailable(Exception):
    """The model could not be reached (on Ray Serve: its replica died during the call, on the
    retry too, or none is running); retrying shortly may succeed."""


class Failed(Exception):
    """Tagging this request's texts raised (the cause is chained and logged); other requests of
    the same batch are not affected."""


@dataclass
class Job:
    """One request's texts on their way through the model (app/ray_serve.py batches these too)."""

    predictor: Predictor
    texts: Sequence[str]
    reference: date | Today | None
    contexts: Sequence[Context] | None
    loop: asyncio.AbstractEventLoop = field(repr=False)
    future: asyncio.Future[list[Prediction]] = field(repr=False)
    done: list[Prediction] = field(default_factory=list, repr=False)  # model thread only
    error: Exception | None = field(default=None, repr=False)  # model thread only

    @property
    def wanted(self) -> bool:
        """Someone still waits for this job (done() is a plain flag read) and it has not failed."""
        return self.error is None and not self.future.done()


class Runner:
    """One queue and one model thread per process.

    Args:
        max_queue: most requests waiting or running at once.
        timeout_s: longest a request may take, waiting included.
    """

    def __init__(self, max_queue: int, timeout_s: float, piece_texts: int = PIECE_TEXTS) -> None:
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self.piece_texts = piece_texts
        self.in_flight = 0
        self.on_batch: Callable[[float, int], None] | None = None  # observer: seconds, texts
        # One thread for the model: batches run one after another, and memory comes from one
        # malloc arena instead of one per pool thread (which grew RSS by 13 % under soak).
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def tag(
        self,
        predictor: Predictor,
        texts: Sequence[str],
        reference: date | Today | None,
        gone: Callable[[], Awaitable[object]] | None = None,
        contexts: Sequence[Context] | None = None,
    ) -> list[Prediction]:
        """Tag ``texts`` in the next batch, or raise Overloaded / TimedOut / Gone / Failed.

        ``reference`` is the predictor's ``reference_date``: ``Today(timezone)`` is read when the
        batch runs. ``gone``, if given, returns once the caller has gone away (the client
        disconnected); its texts are then dropped from the model's work. ``contexts`` are the texts'
        dialogue contexts (None: none)."""
        if self.in_flight >= self.max_queue:
            raise Overloaded
        self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Prediction]] = loop.create_future()
        watching: list[asyncio.Task[None]] = []
        # The caller is watched only once it has waited WATCH_AFTER_S: a task per request cost
        # the event loop 15-20 µs (most answers come sooner than that).
        timer = (
            loop.call_later(WATCH_AFTER_S, _watch, gone, future, watching)
            if gone is not None
            else None
        )
        self.in_flight += 1
        try:
            self._jobs.put(Job(predictor, texts, reference, contexts, loop, future))
            async with asyncio.timeout(self.timeout_s):
                return await future
        except TimeoutError:
            raise TimedOut from None
        finally:
            self.in_flight -= 1
            if timer is not None:
                timer.cancel()
            for task in watching:
                task.cancel()
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: a Gone set while timing out is not reported
            future.cancel()  # a no-op once answered; otherwise the model thread skips it

    async def close(self) -> None:
        """Stop the model thread once it has finished what it holds (at shutdown)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._jobs.put(None)
            await asyncio.to_thread(thread.join)

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="slot-tagger-model", daemon=True
                )
                self._thread.start()

    def _serve(self) -> None:
        """The model thread: take what is queued, tag it in one pass, hand the results back."""
        while True:
            first = self._jobs.get()
            if first is None:
                return
            jobs, count = [first], len(first.texts)
            while count < MAX_BATCH_TEXTS:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:  # close(): finish this batch, then stop
                    self._jobs.put(None)
                    break
                jobs.append(job)
                count += len(job.texts)
            # A request that timed out or went away while queued is skipped.
            jobs = [job for job in jobs if job.wanted]
            if not jobs:
                continue
            started = time.perf_counter()
            ran = self.run_batch(jobs)
            if self.on_batch is not None and ran:
                self.on_batch(time.perf_counter() - started, ran)
            if sum(len(t) for job in jobs for t in job.texts) > TRIM_AFTER_CHARS:
                _return_freed_memory()
            _hand_back(jobs)

    def run_batch(self, jobs: list[Job]) -> int:
        """Tag the jobs' texts into ``job.done`` (or set ``job.error``), one forward pass per
        piece of one (model, reference date) group; returns how many texts were tagged.
        Runs on the model thread (or on Ray Serve's, app/ray_serve.py)."""
        groups: dict[tuple[int, date | Today | None], list[Job]] = {}
        for job in jobs:
            groups.setdefault((id(job.predictor), job.reference), []).append(job)
        ran = 0
        for members in groups.values():
            for piece in _pieces(members, self.piece_texts):
                piece = [(job, start, end) for job, start, end in piece if job.wanted]
                if piece:
                    ran += sum(end - start for _, start, end in piece)
                    _run_piece(piece)
        return ran


def _watch(
    gone: Callable[[], Awaitable[object]],
    future: asyncio.Future[list[Prediction]],
    watching: list[asyncio.Task[None]],
) -> None:
    """Start watching a waiting caller: once ``gone`` returns, its future raises Gone (and the
    model thread skips its work)."""

    async def watch() -> None:
        await gone()
        if not future.done():
            future.set_exception(Gone())

    watching.append(asyncio.ensure_future(watch()))


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc: nothing to call
        return None


def _return_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _hand_back(jobs: list[Job]) -> None:
    """Each finished job's result (or error) to its event loop: one wake-up per loop and batch,
    not one per job."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Job]] = {}
    for job in jobs:
        if job.error is not None or len(job.done) == len(job.texts):
            by_loop.setdefault(job.loop, []).append(job)
    for loop, settled in by_loop.items():
        # RuntimeError: the requester's event loop has closed, so nobody is waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, settled)


def _settle(jobs: list[Job]) -> None:
    for job in jobs:
        if job.future.done():  # it may have timed out meanwhile
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.done)


_Part = tuple[Job, int, int]  # a job and the range of its texts a piece holds


def _pieces(jobs: list[Job], size: int) -> list[list[_Part]]:
    """The jobs' texts in order, cut into pieces of at most ``size`` texts."""
    pieces: list[list[_Part]] = [[]]
    room = size
    for job in jobs:
        start = 0
        while start < len(job.texts):
            if room == 0:
                pieces.append([])
                room = size
            end = min(len(job.texts), start + room)
            pieces[-1].append((job, start, end))
            room -= end - start
            start = end
    return [piece for piece in pieces if piece]


def _run_piece(piece: list[_Part]) -> None:
    """One forward pass; if it raises, each job's part alone, so an error stays with its job."""
    first = piece[0][0]
    try:
        texts = [text for job, start, end in piece for text in job.texts[start:end]]
        contexts = [
            context
            for job, start, end in piece
            for context in (job.contexts[start:end] if job.contexts else [None] * (end - start))
        ]
        predictions = first.predictor.predict(
            texts, reference_date=first.reference, contexts=contexts
        )
        parts = []
        for _, start, end in piece:
            parts.append(predictions[: end - start])
            predictions = predictions[end - start :]
    except Exception as e:  # noqa: BLE001 - not swallowed: retried per job, then handed to its job
        if len(piece) == 1:
            job, start, end = piece[0]
            _fail_job(job, start, end, e)
            return
        for part in piece:
            _run_piece([part])
        return
    for (job, _, _), part in zip(piece, parts, strict=True):
        job.done.extend(part)


def _fail_job(job: Job, start: int, end: int, cause: Exception) -> None:
    job.error = Failed(f"tagging raised {type(cause).__name__} on texts {start}..{end - 1}")
    job.error.__cause__ = cause
    log.error("tagging failed for one request; the others go on", exc_info=cause)
