"""The service on Ray Serve: the app of ``create_app`` itself as the ingress of a deployment, so
routes, schemas, limits, error bodies and auth are the plain server's; inside each replica the
model calls of concurrent requests are batched by ``@serve.batch`` (:class:`ServeBatcher`).

    serve run app.ray_serve:build model_dir=/models/x num_replicas=2
    slot-tagger serve --ray --replicas 2

Needs the ``[ray]`` extra (``pip install 'slot-tagger[ray]'``); nothing else imports this module.
Settings come from the replica's SLOT_TAGGER_* environment as for the plain server; the model
directory comes from the application's arguments (``model_dir``), else SLOT_TAGGER_MODEL_DIR.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field, model_validator
from ray import serve
from ray.serve import Application

from app.main import create_app
from app.runner import MAX_BATCH_TEXTS, Gone, Job, Overloaded, Runner, TimedOut
from app.settings import Settings
from model.context import Context
from model.predictor import Prediction, Predictor
from model.values.dates import Today

APPLICATION = "slot-tagger"
DEPLOYMENT = "SlotTagger"
# How long a replica's first waiting request holds its batch open for others: a lone request
# pays at most this (the plain server's runner holds nothing; its thread hop batches instead).
BATCH_WAIT_S = 0.002


class ServeArgs(BaseModel):
    """The application's arguments: ``serve run app.ray_serve:build KEY=VALUE ...``, a Serve
    config file's ``args``, or the RayService's ``serveConfigV2`` (deploy/k8s/ray)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_dir: Path | None = Field(
        None, description="model directory on every node; None: SLOT_TAGGER_MODEL_DIR or shipped"
    )
    num_replicas: int | Literal["auto"] = Field(
        1, description="replicas; 'auto' scales between min_replicas and max_replicas"
    )
    min_replicas: int = Field(1, ge=0, description="with num_replicas='auto'")
    max_replicas: int = Field(4, ge=1, description="with num_replicas='auto'")
    target_ongoing_requests: float = Field(
        8, gt=0, description="with num_replicas='auto': requests per replica Serve aims at"
    )
    num_cpus: float = Field(1, gt=0, description="CPUs Ray reserves per replica")
    max_ongoing_requests: int = Field(
        64, ge=1, description="requests one replica takes at once; more wait in Serve's proxy"
    )
    batch_wait_timeout_s: float = Field(
        BATCH_WAIT_S, ge=0, description="how long a batch waits to fill"
    )

    @model_validator(mode="after")
    def _replicas_in_order(self) -> ServeArgs:
        if isinstance(self.num_replicas, int) and self.num_replicas < 1:
            raise ValueError(f"expected num_replicas >= 1 or 'auto', got {self.num_replicas}")
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"expected min_replicas <= max_replicas, got {self.min_replicas} > "
                f"{self.max_replicas}"
            )
        return self


class ServeBatcher:
    """The app's runner (``app.state.runner``) on Ray Serve: the same admission control
    (``max_queue``: 503; ``timeout_s``: 504; a client gone: 499) and the same per-request error
    isolation (:meth:`Runner.run_batch`), with concurrent requests gathered by ``@serve.batch``
    (up to MAX_BATCH_TEXTS texts) and run one batch at a time on one model thread."""

    def __init__(self, max_queue: int, timeout_s: float) -> None:
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self.in_flight = 0
        self.on_batch: Callable[[float, int], None] | None = None
        self._runner = Runner(max_queue, timeout_s)  # its batch logic; its thread never starts
        self._model_thread = ThreadPoolExecutor(1, thread_name_prefix="slot-tagger-model")

    def configure(self, batch_wait_timeout_s: float) -> None:
        self._batched.set_batch_wait_timeout_s(batch_wait_timeout_s)

    async def tag(
        self,
        predictor: Predictor,
        texts: Sequence[str],
        reference: date | Today | None,
        gone: Callable[[], Awaitable[object]] | None = None,
        contexts: Sequence[Context] | None = None,
    ) -> list[Prediction]:
        """As :meth:`app.runner.Runner.tag`."""
        if self.in_flight >= self.max_queue:
            raise Overloaded
        loop = asyncio.get_running_loop()
        job = Job(predictor, texts, reference, contexts, loop, loop.create_future())
        call = asyncio.ensure_future(self._batched(job))
        watcher = asyncio.ensure_future(gone()) if gone is not None else None
        self.in_flight += 1
        try:
            async with asyncio.timeout(self.timeout_s):
                await asyncio.wait(
                    [f for f in (call, watcher) if f], return_when=asyncio.FIRST_COMPLETED
                )
                if not call.done():
                    raise Gone
                await call
        except TimeoutError:
            raise TimedOut from None
        finally:
            self.in_flight -= 1
            job.future.cancel()  # the model thread skips the texts of a job nobody waits for
            call.cancel()
            if watcher is not None:
                watcher.cancel()
        if job.error is not None:
            raise job.error
        assert len(job.done) == len(texts)
        return job.done

    @serve.batch(
        max_batch_size=MAX_BATCH_TEXTS,
        batch_wait_timeout_s=BATCH_WAIT_S,
        # Texts, not requests, fill a batch; a bigger request still goes (alone), as in Runner.
        batch_size_fn=lambda jobs: sum(
            min(max(1, len(job.texts)), MAX_BATCH_TEXTS) for job in jobs
        ),
    )
    async def _batched(self, jobs: list[Job]) -> list[None]:
        """One batch: every job's texts tagged into ``job.done`` (or ``job.error`` set)."""
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        ran = await loop.run_in_executor(self._model_thread, self._runner.run_batch, jobs)
        if self.on_batch is not None and ran:
            self.on_batch(time.perf_counter() - started, ran)
        return [None] * len(jobs)

    async def close(self) -> None:
        await asyncio.to_thread(self._model_thread.shutdown)


def create_serve_app(args: ServeArgs) -> FastAPI:
    """The plain server's app (create_app) with its runner replaced by a :class:`ServeBatcher`."""
    settings = Settings(model_dir=args.model_dir) if args.model_dir is not None else Settings()
    app = create_app(settings)
    batcher = ServeBatcher(settings.max_queue, settings.request_timeout_s)
    batcher.configure(args.batch_wait_timeout_s)
    batcher.on_batch = app.state.runner.on_batch
    app.state.runner = batcher
    return app


@serve.deployment(name=DEPLOYMENT, health_check_period_s=2, health_check_timeout_s=10)
@serve.ingress()
class SlotTagger:
    """One replica: the app, built when the replica starts (its lifespan loads the model)."""

    def __init__(self, args: dict[str, Any]) -> None:
        self.args = ServeArgs(**args)

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_serve_app(self.args)


def build(args: dict[str, Any]) -> Application:
    """The application, for ``serve run app.ray_serve:build KEY=VALUE ...`` (see ServeArgs)."""
    parsed = ServeArgs(**args)
    options: dict[str, Any] = {
        "ray_actor_options": {"num_cpus": parsed.num_cpus},
        "max_ongoing_requests": parsed.max_ongoing_requests,
    }
    if parsed.num_replicas == "auto":
        options["num_replicas"] = "auto"
        options["autoscaling_config"] = {
            "min_replicas": parsed.min_replicas,
            "max_replicas": parsed.max_replicas,
            "target_ongoing_requests": parsed.target_ongoing_requests,
        }
    else:
        options["num_replicas"] = parsed.num_replicas
    return SlotTagger.options(**options).bind(parsed.model_dump(mode="json"))


def run(host: str, port: int, args: dict[str, Any]) -> None:
    """Start a local Ray cluster, serve the application on ``host:port`` (Serve's proxy) and block
    until stopped (``slot-tagger serve --ray``); Serve and the cluster stop with the process."""
    import ray

    ray.init(include_dashboard=False)
    # After ray.init, which installs handlers of its own: a stop is a clean exit (0), as uvicorn's.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda *_: sys.exit(0))
    try:
        serve.start(http_options={"host": host, "port": port})
        serve.run(build(args), name=APPLICATION, route_prefix="/", blocking=True)
    finally:
        serve.shutdown()
        ray.shutdown()
