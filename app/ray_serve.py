"""The service on Ray Serve, in two deployments: an ingress whose ASGI app is the app of
``create_app`` itself (routes, schemas, limits, error bodies and auth are the plain server's), and
the model, N replicas that gather the texts of concurrent calls with ``@serve.batch``
(:class:`ServeBatcher`). The ingress calls the model through a DeploymentHandle
(:class:`ModelClient`) and retries a call whose model replica died once, on another replica.

    serve run app.ray_serve:build model_dir=/models/x num_replicas=2
    slot-tagger serve --ray --replicas 2

Needs the ``[ray]`` extra (``pip install 'slot-tagger[ray]'``); nothing else imports this module.
Settings come from the replicas' SLOT_TAGGER_* environment as for the plain server; the model
directory comes from the application's arguments (``model_dir``), else SLOT_TAGGER_MODEL_DIR.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from prometheus_client import Counter, Gauge
from pydantic import BaseModel, ConfigDict, Field, model_validator
from ray import serve
from ray.exceptions import RayActorError, RayTaskError
from ray.serve import Application
from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError
from ray.serve.handle import DeploymentHandle

from app.deps import load_predictor
from app.main import create_app
from app.runner import MAX_BATCH_TEXTS, Gone, Job, Overloaded, Runner, TimedOut, Unavailable
from app.settings import Settings
from model.context import Context
from model.predictor import Prediction, Predictor
from model.values.dates import Today

log = logging.getLogger(__name__)
APPLICATION = "slot-tagger"
INGRESS = "SlotTagger"  # the HTTP app; Serve's proxy sends every request to one of these
MODEL = "SlotTaggerModel"  # the model; the ingress calls it
# How long a model replica's first waiting call holds its batch open for others: a lone request
# pays at most this (the plain server's runner holds nothing; its thread hop batches instead).
BATCH_WAIT_S = 0.002
# Requests one ingress replica takes at once: more than the app's own max_queue (64 model calls by
# default), so that the app answers overload with its 503 rather than Serve queueing without end.
INGRESS_MAX_ONGOING = 256
# A model call whose replica died is sent again this many times (tagging is idempotent); then 503.
MODEL_RETRIES = 1
# How long a retry waits for a running model replica before its caller gets the 503.
RETRY_WAIT_S = 2.0


class ServeArgs(BaseModel):
    """The application's arguments: ``serve run app.ray_serve:build KEY=VALUE ...``, a Serve
    config file's ``args``, or the RayService's ``serveConfigV2`` (deploy/k8s/ray). The replica
    settings are the model deployment's; the ingress has ``ingress_replicas`` of its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_dir: Path | None = Field(
        None, description="model directory on every node; None: SLOT_TAGGER_MODEL_DIR or shipped"
    )
    num_replicas: int | Literal["auto"] = Field(
        1, description="model replicas; 'auto' scales between min_replicas and max_replicas"
    )
    min_replicas: int = Field(1, ge=0, description="with num_replicas='auto'")
    max_replicas: int = Field(4, ge=1, description="with num_replicas='auto'")
    target_ongoing_requests: float = Field(
        8, gt=0, description="with num_replicas='auto': model calls per replica Serve aims at"
    )
    num_cpus: float = Field(1, gt=0, description="CPUs Ray reserves per model replica")
    max_ongoing_requests: int = Field(
        64, ge=1, description="model calls a model replica takes at once; more wait in the ingress"
    )
    batch_wait_timeout_s: float = Field(
        BATCH_WAIT_S, ge=0, description="how long a batch waits to fill"
    )
    ingress_replicas: int = Field(
        2, ge=1, description="ingress replicas (HTTP); two, so that one can die without an outage"
    )
    ingress_num_cpus: float = Field(
        0,
        ge=0,
        description="CPUs Ray reserves per ingress replica; 0: it never waits for room (it "
        "still uses CPU: where Ray counts cores for pods, reserve some, as deploy/k8s/ray does)",
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

    def settings(self) -> Settings:
        """The replica's settings: its SLOT_TAGGER_* environment, with ``model_dir`` if given."""
        return Settings(model_dir=self.model_dir) if self.model_dir is not None else Settings()


class ServeBatcher:
    """A model replica's batching: concurrent calls gathered by ``@serve.batch`` (up to
    MAX_BATCH_TEXTS texts) and run one batch at a time on one model thread, with the plain
    server's per-request error isolation (:meth:`Runner.run_batch`). A call cancelled meanwhile
    (the ingress timed out, or its client went away) has its texts skipped."""

    def __init__(self, batch_wait_timeout_s: float = BATCH_WAIT_S) -> None:
        self._runner = Runner(1, 1.0)  # its batch logic only: its thread never starts
        self._model_thread = ThreadPoolExecutor(1, thread_name_prefix="slot-tagger-model")
        self._batched.set_batch_wait_timeout_s(batch_wait_timeout_s)

    async def tag(
        self,
        predictor: Predictor,
        texts: Sequence[str],
        reference: date | Today | None,
        contexts: Sequence[Context] | None = None,
    ) -> list[Prediction]:
        """The texts' predictions; raises Failed if tagging them raised."""
        loop = asyncio.get_running_loop()
        job = Job(predictor, texts, reference, contexts, loop, loop.create_future())
        try:
            await self._batched(job)
        finally:
            job.future.cancel()  # the model thread skips the texts of a job nobody waits for
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
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._model_thread, self._runner.run_batch, jobs)
        return [None] * len(jobs)


class ModelClient:
    """The ingress app's runner (``app.state.runner``): the plain server's admission control
    (``max_queue`` model calls at once: 503; ``timeout_s``: 504; a client gone: 499, its call
    cancelled), with the model called through a DeploymentHandle. A call whose model replica died
    (Ray's RayActorError) goes again, once, to another replica; if that fails too, or no model
    replica is up, :class:`Unavailable` (503 with Retry-After)."""

    def __init__(self, model: DeploymentHandle, max_queue: int, timeout_s: float) -> None:
        self.max_queue = max_queue
        self.timeout_s = timeout_s
        self.in_flight = 0
        self.on_batch: Callable[[float, int], None] | None = None  # batches run in the model
        self._model = model
        self.calls: Counter | None = None  # by model replica, once the app's metrics are on
        self.retries: Counter | None = None

    async def tag(
        self,
        predictor: Predictor,
        texts: Sequence[str],
        reference: date | Today | None,
        gone: Callable[[], Awaitable[object]] | None = None,
        contexts: Sequence[Context] | None = None,
    ) -> list[Prediction]:
        """As :meth:`app.runner.Runner.tag`, and Unavailable when no model replica answers."""
        if self.in_flight >= self.max_queue:
            raise Overloaded
        call = asyncio.ensure_future(self._call(predictor.meta.version, texts, reference, contexts))
        watcher = asyncio.ensure_future(gone()) if gone is not None else None
        self.in_flight += 1
        try:
            async with asyncio.timeout(self.timeout_s):
                await asyncio.wait(
                    [f for f in (call, watcher) if f], return_when=asyncio.FIRST_COMPLETED
                )
                if not call.done():
                    raise Gone
                return await call
        except TimeoutError:
            raise TimedOut from None
        finally:
            self.in_flight -= 1
            call.cancel()  # cancels the model call too
            if watcher is not None:
                watcher.cancel()

    async def _call(
        self,
        version: str,
        texts: Sequence[str],
        reference: date | Today | None,
        contexts: Sequence[Context] | None,
    ) -> list[Prediction]:
        for attempt in range(1 + MODEL_RETRIES):
            response = self._model.tag.remote(
                version, list(texts), reference, list(contexts) if contexts else None
            )
            try:
                # A retry waits for a running replica at most RETRY_WAIT_S: with one model
                # replica, Serve queues the call until the dead one's replacement runs, which
                # takes seconds to minutes, and the caller is better off with a 503 at once.
                async with asyncio.timeout(RETRY_WAIT_S if attempt else None):
                    replica, predictions = await response
            except asyncio.CancelledError:
                response.cancel()
                raise
            except TimeoutError:
                response.cancel()
                raise Unavailable("no other model replica is running") from None
            except RayActorError as e:  # the replica died (or cannot be reached) during the call
                log.warning("model call %d of %d failed: %s", attempt + 1, 1 + MODEL_RETRIES, e)
                if self.retries is not None and attempt < MODEL_RETRIES:
                    self.retries.inc()
                continue
            except DeploymentUnavailableError:
                raise Unavailable("no model replica is running") from None
            except BackPressureError:
                raise Overloaded from None
            except RayTaskError as e:  # raised in the model replica: Failed, Unavailable
                raise _raised_in_replica(e) from None
            if self.calls is not None:
                self.calls.labels(replica).inc()
            return predictions  # type: ignore[no-any-return]
        raise Unavailable("the model replicas serving this call stopped")

    async def close(self) -> None:
        """Nothing to stop: the model replicas are Serve's."""


def _raised_in_replica(error: RayTaskError) -> Exception:
    """The exception the model replica raised, without Ray's wrapper (whose message carries the
    remote traceback, which no error body may show)."""
    cause = error.cause
    return cause if isinstance(cause, Exception) else Unavailable("the model call failed")


@serve.deployment(name=MODEL, health_check_period_s=2, health_check_timeout_s=10)
class SlotTaggerModel:
    """One model replica: the predictor the settings name, loaded once, behind a ServeBatcher."""

    def __init__(self, args: dict[str, Any]) -> None:
        parsed = ServeArgs(**args)
        settings = parsed.settings()
        if settings.backend == "torch":  # as the app's lifespan does
            import torch

            torch.set_num_threads(settings.torch_threads)
        self.predictor = load_predictor(settings)  # ModelError: the replica does not start
        gc.freeze()  # the model lives as long as the process (app.main.LoadModelAtStartup)
        self.batcher = ServeBatcher(parsed.batch_wait_timeout_s)
        self.replica = serve.get_replica_context().replica_id.unique_id

    async def tag(
        self,
        version: str,
        texts: list[str],
        reference: date | Today | None,
        contexts: list[Context] | None,
    ) -> tuple[str, list[Prediction]]:
        """This replica's id and the texts' predictions. ``version`` is the model the ingress
        names in its answers: a replica serving another one (mid-update) refuses (503)."""
        if version != self.predictor.meta.version:
            raise Unavailable(
                f"the model is being updated (this replica serves {self.predictor.meta.version})"
            )
        return self.replica, await self.batcher.tag(self.predictor, texts, reference, contexts)


def create_serve_app(args: ServeArgs, model: DeploymentHandle) -> FastAPI:
    """The plain server's app (create_app) with its runner replaced by a :class:`ModelClient`."""
    settings = args.settings()
    if settings.admin_token is not None:
        # A reload would reach one ingress replica, and no model replica.
        raise ValueError(
            "cannot serve on Ray Serve with SLOT_TAGGER_ADMIN_TOKEN set: a reload would reach "
            "one replica only; unset it, and redeploy (serve deploy) to change models"
        )
    app = create_app(settings)
    client = ModelClient(model, settings.max_queue, settings.request_timeout_s)
    registry = app.state.metrics.registry
    client.calls = Counter(
        "slot_tagger_model_calls_total",
        "Model calls answered, by model replica.",
        ["replica"],
        registry=registry,
    )
    Gauge(
        "slot_tagger_ingress_replica",
        "This ingress replica's id (each /metrics answer is one replica's).",
        ["replica"],
        registry=registry,
    ).labels(serve.get_replica_context().replica_id.unique_id).set(1)
    client.retries = Counter(
        "slot_tagger_model_retries_total",
        "Model calls sent again because their model replica died.",
        registry=registry,
    )
    app.state.runner = client
    return app


@serve.deployment(name=INGRESS, health_check_period_s=2, health_check_timeout_s=10)
@serve.ingress()
class SlotTagger:
    """One ingress replica: the app, built when the replica starts (its lifespan loads the model,
    for the name and version every answer carries, /model and /health; it never runs it)."""

    def __init__(self, model: DeploymentHandle, args: dict[str, Any]) -> None:
        self.model = model
        self.args = ServeArgs(**args)

    def __serve_build_asgi_app__(self) -> FastAPI:
        return create_serve_app(self.args, self.model)


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
    plain = parsed.model_dump(mode="json")
    model = SlotTaggerModel.options(**options).bind(plain)
    return SlotTagger.options(
        num_replicas=parsed.ingress_replicas,
        max_ongoing_requests=INGRESS_MAX_ONGOING,
        ray_actor_options={"num_cpus": parsed.ingress_num_cpus},
    ).bind(model, plain)


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
