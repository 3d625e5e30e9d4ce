"""The benchmark suite (not part of the tests): `make bench` or `python tests/benchmarks/bench.py`.

Prints one table and writes it as JSON (bench-results/bench.json). Load goes to 127.0.0.1 only,
bounded in requests and time. HTTP load comes from wrk (`apt-get install wrk`), against a real
uvicorn server running the benchmark's own app (tests/benchmarks/noop.py), which also serves POST
/bench/noop: /tag's request shape without the model, so "tag / noop" is the share of the web
stack's own limit that tagging keeps.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import typer

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = [
    "i need a flight from boston to denver next monday",
    "leave Beijing on November 2nd",
    "show me flights from pittsburgh to san francisco on wednesday afternoon please",
    "Can you get me to Chicago by Friday?",
    "what are the cheapest fares from newark to orlando leaving on the twenty third of july",
    "I'd like to book a train from London Kings Cross to Cambridge tomorrow morning.",
    "round trip JFK to LAX december 20th returning january 3rd",
    "what is the cheapest fare",
]
rows: list[dict] = []


def record(group: str, name: str, value: float, unit: str, target: str = "") -> None:
    rows.append(
        {"group": group, "name": name, "value": round(value, 3), "unit": unit, "target": target}
    )
    print(f"  {group:<10} {name:<46} {value:>12,.2f} {unit:<12} {target}", file=sys.stderr)


def _latency(predictor, group: str, name: str, target: str = "") -> None:
    from model.tokenize import tokenize

    typical = [t for t in SENTENCES if 8 <= len(tokenize(t)) <= 20]  # 6 of them, 9-16 tokens
    for text in SENTENCES * 20:
        predictor.predict([text])
    latencies = []
    for i in range(2000):
        started = time.perf_counter()
        predictor.predict([typical[i % len(typical)]])
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    record(group, f"{name}: p50 latency", latencies[1000] * 1e3, "ms", target)
    record(group, f"{name}: p99 latency", latencies[1980] * 1e3, "ms")


def model_only() -> None:
    import torch

    from model.predictor import Predictor

    cores = os.cpu_count() or 1
    single, eager = Predictor.from_dir(threads=1), Predictor.from_dir(backend="torch")
    predictor = Predictor.from_dir(threads=cores)
    gc.collect()
    gc.freeze()  # as the server and the CLI do once the model is loaded
    torch.set_num_threads(1)
    _latency(single, "model", "batch 1, 1 thread", "<= 1 ms")
    _latency(eager, "model", "batch 1, 1 thread, eager torch")
    torch.set_num_threads(cores)
    texts = SENTENCES * 500
    words = sum(len(t.split()) for t in texts)
    for batch_size in (32, 128, 512):
        predictor.predict(texts[:batch_size], batch_size=batch_size)
        started = time.perf_counter()
        predictor.predict(texts, batch_size=batch_size)
        seconds = time.perf_counter() - started
        name = f"batch {batch_size}, {cores} threads"
        record("model", f"{name}: sentences/s", len(texts) / seconds, "sentences/s", ">= 20,000")
        record("model", f"{name}: words/s", words / seconds, "words/s")
    started = time.perf_counter()
    for _ in predictor.predict_iter(texts, batch_size=512):
        pass
    record(
        "model",
        "predict_iter, batch 512 (network overlapped with the rest)",
        len(texts) / (time.perf_counter() - started),
        "sentences/s",
    )
    # The network alone, on batches already encoded: the ceiling for everything above.
    work = predictor._prepare(texts, 512)
    started = time.perf_counter()
    predictor._emissions(work)
    record(
        "model",
        "batch 512: network alone (token inputs cached), sentences/s",
        len(texts) / (time.perf_counter() - started),
        "sentences/s",
    )


def model_on_device(device: str) -> None:
    """The network (eager torch) on an accelerator, big batches encoded beforehand."""
    import torch

    from model.predictor import Predictor

    predictor = Predictor.from_dir(backend="torch")
    tagger = predictor.tagger.to(device)
    texts = SENTENCES * 4096
    for batch_size in (512, 4096):
        work = predictor._prepare(texts, batch_size)
        batches = [  # NumPy batches to tensors on the device; lengths stay on the CPU (packing)
            dataclasses.replace(
                b,
                word_ids=torch.as_tensor(b.word_ids, device=device),
                char_ids=torch.as_tensor(b.char_ids, device=device),
                shape_ids=torch.as_tensor(b.shape_ids, device=device),
                frequency_ids=torch.as_tensor(b.frequency_ids, device=device),
                cluster_ids=torch.as_tensor(b.cluster_ids, device=device),
                gazetteer_ids=torch.as_tensor(b.gazetteer_ids, device=device),
                mask=torch.as_tensor(b.mask, device=device),
            )
            for b in work.batches
        ]
        with torch.inference_mode():
            for batch in batches[:2]:
                tagger.emissions(batch)
            torch.cuda.synchronize()
            started = time.perf_counter()
            for batch in batches:
                tagger.emissions(batch)
            torch.cuda.synchronize()
        record(
            "device",
            f"{device}, batch {batch_size}: network alone, sentences/s",
            len(texts) / (time.perf_counter() - started),
            "sentences/s",
        )


def cli_stream(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.txt"
        src.write_text("\n".join(SENTENCES[i % len(SENTENCES)] for i in range(n)) + "\n")
        started = time.perf_counter()
        with open(src) as stdin, open(os.devnull, "w") as stdout:
            subprocess.run(
                [sys.executable, "-m", "training.cli", "tag"],
                stdin=stdin,
                stdout=stdout,
                check=True,
                cwd=ROOT,
            )
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    record(
        "cli", f"slot-tagger tag, {n:,} lines: sentences/s", n / seconds, "sentences/s", ">= 5,000"
    )
    record("cli", "slot-tagger tag: peak RSS", peak, "MB")


class Server:
    """The benchmark's app on uvicorn; ``access_log``: the JSON access log on, as it serves by
    default (its lines go to /dev/null)."""

    def __init__(self, port: int, workers: int, access_log: bool = False) -> None:
        env = {
            **os.environ,
            "SLOT_TAGGER_JSON_LOGS": "1" if access_log else "0",
            "SLOT_TAGGER_MAX_QUEUE": "1024",
        }
        self.url = f"http://127.0.0.1:{port}"
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "tests.benchmarks.noop:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL if access_log else None,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.post(f"{self.url}/tag", json={"text": "leave Boston"}).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.02)
        self.ready_s = time.perf_counter() - self.started

    def rss_mb(self) -> float:
        pids = [self.process.pid] + [
            int(p)
            for p in subprocess.run(
                ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
            ).stdout.split()
        ]
        total = 0
        for pid in pids:
            status = Path(f"/proc/{pid}/status")
            if status.exists() and (m := re.search(r"VmRSS:\s+(\d+)", status.read_text())):
                total += int(m.group(1))
        return total / 1024

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def wrk(
    url: str, path: str, body: dict, connections: int, seconds: int
) -> tuple[float, float, float]:
    """requests/s, p50 ms, p99 ms."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(json.dumps(body))}\n"
            "done = function(summary, latency, requests)\n"
            '  io.write(string.format("P50 %d\\nP99 %d\\n", latency:percentile(50), '
            "latency:percentile(99)))\nend\n"
        )
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(min(connections, 2)),
            "-c",
            str(connections),
            "-d",
            f"{seconds}s",
            "-s",
            script.name,
            f"{url}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{path}: {errors.group(1)} error responses under load")
    p50 = int(re.search(r"P50 (\d+)", out).group(1)) / 1000
    p99 = int(re.search(r"P99 (\d+)", out).group(1)) / 1000
    return rps, p50, p99


def http(seconds: int) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("the HTTP benchmark needs wrk: apt-get install wrk")
    one = {"text": SENTENCES[0]}
    batch = {"texts": [SENTENCES[i % len(SENTENCES)] for i in range(32)]}
    routes = (("/tag", "/bench/noop", one), ("/tag/batch", "/bench/noop/batch", batch))
    for workers in (1, 2):
        server = Server(8765, workers)
        try:
            for path, noop_path, body in routes:
                texts = len(body.get("texts", [None]))
                for connections in (1, 8, 64):
                    tag = wrk(server.url, path, body, connections, seconds)
                    noop = wrk(server.url, noop_path, body, connections, seconds)
                    name = f"{workers} worker{'s' * (workers > 1)}, c={connections}"
                    record("http", f"{path} {name}: requests/s", tag[0], "req/s")
                    if texts > 1:
                        record("http", f"{path} {name}: texts/s", tag[0] * texts, "texts/s")
                    record("http", f"{path} {name}: p50 / p99", tag[1], f"ms / {tag[2]:.1f}")
                    record("http", f"no-op {path} {name}: requests/s", noop[0], "req/s")
                    record(
                        "http",
                        f"{path} / no-op {name}",
                        100 * tag[0] / noop[0],
                        "%",
                        ">= 70 % at c=8" if connections == 8 and path == "/tag" else "",
                    )
        finally:
            server.stop()


def training_time() -> None:
    """`make train-default` into a temporary directory (about 7 minutes; only when asked)."""
    train_file = ROOT / "data" / "train.jsonl"
    if not train_file.exists():
        raise SystemExit("run `make data` first: the training data is generated, not committed")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "training.cli", "train", "--train", str(train_file)]
            + ["--dev", "data/dev.txt", "--out", f"{tmp}/model", "--name", "slot-tagger-default"]
            + ["--seed", "0"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        seconds = time.perf_counter() - started
        version = json.loads((Path(tmp) / "model" / "meta.json").read_text())["version"]
    record("train", f"training the default model (version {version})", seconds / 60, "min")


def _per_call_us(call, repeat: int) -> float:
    call()
    started = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - started) / repeat * 1e6


def micro() -> None:
    """The pieces the README's list of changes cites, each timed alone in this process."""
    import asyncio
    from datetime import date

    import numpy as np
    import orjson
    import torch

    from app.routes import _response
    from app.runner import Runner
    from app.schemas import TagResponse
    from model.predictor import Predictor

    torch.set_num_threads(1)
    onnx, eager = Predictor.from_dir(threads=1), Predictor.from_dir(backend="torch")
    gc.collect()
    gc.freeze()
    batch = onnx.encoder([SENTENCES[1].split() + ["for", "portland", "please"]])  # 8 tokens
    with torch.inference_mode():
        for name, run in (
            ("ONNX Runtime", lambda: onnx.network.emissions(batch)),
            ("eager torch", lambda: eager.tagger.emissions(batch)),
        ):
            us = _per_call_us(run, 2000)
            record("micro", f"network, one 8-token sentence, {name}", us, "µs")
    decoder = onnx._current_decoder()
    rng = np.random.default_rng(0)
    for tokens in (8, 14, 20):
        scores = (rng.standard_normal((1, tokens, 7)) * 3).astype(np.float32)
        us = _per_call_us(lambda: decoder.decode(scores, [tokens]), 2000)  # noqa: B023
        record("micro", f"CRF decode (Viterbi + marginals), one {tokens}-token sentence", us, "µs")
    reference = date(2026, 11, 23)
    [prediction] = onnx.predict([SENTENCES[0]], reference_date=reference)
    record(
        "micro",
        "/tag response: pydantic model per token and span, then JSON",
        _per_call_us(
            lambda: TagResponse.model_validate(_response(prediction, onnx, 0.0)).model_dump_json(),
            5000,
        ),
        "µs",
    )
    record(
        "micro",
        "/tag response: plain data, orjson (served)",
        _per_call_us(lambda: orjson.dumps(_response(prediction, onnx, 0.0)), 5000),
        "µs",
    )

    async def through_runner() -> tuple[float, float]:
        runner = Runner(max_queue=64, timeout_s=10)
        texts = [SENTENCES[0]]
        for _ in range(100):
            await runner.tag(onnx, texts, reference)
        direct, queued = [], []
        for _ in range(10):  # blocks of 100: calls from one thread keep its core's caches warm
            for _ in range(100):
                started = time.perf_counter()
                onnx.predict(texts, reference_date=reference)
                direct.append(time.perf_counter() - started)
            for _ in range(100):
                started = time.perf_counter()
                await runner.tag(onnx, texts, reference)
                queued.append(time.perf_counter() - started)
        await runner.close()
        return sorted(direct)[500], sorted(queued)[500]

    direct, queued = asyncio.run(through_runner())
    record("micro", "c=1: model called directly, p50", direct * 1e3, "ms")
    record("micro", "c=1: model through the micro-batching runner, p50", queued * 1e3, "ms")
    record("micro", "c=1: what the runner adds, p50", (queued - direct) * 1e6, "µs", "<= 1 ms")


def service_memory_and_cold_start() -> None:
    server = Server(8766, 1)
    try:
        record("service", "cold start: process start to first /tag", server.ready_s, "s")
        with httpx.Client(base_url=server.url) as client:
            for i in range(10_000):
                client.post("/tag", json={"text": SENTENCES[i % len(SENTENCES)]})
        record("service", "RSS after 10,000 requests", server.rss_mb(), "MB")
    finally:
        server.stop()
    code = (
        "import time; t=time.perf_counter(); from app.deps import load_predictor; "
        "from app.settings import Settings; i=time.perf_counter(); "
        "load_predictor(Settings()).predict(['leave Boston']); "
        "print(time.perf_counter()-i, i-t)"
    )
    after_imports, imports = map(
        float,
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.split(),
    )
    record("service", "cold start after imports: load + first tag", after_imports, "s", "<= 2 s")
    record("service", "imports (torch, spaCy, FastAPI)", imports, "s")
    size = sum(f.stat().st_size for f in (ROOT / "model" / "default").iterdir()) / 1e6
    record("service", "default model on disk", size, "MB")
    places = (ROOT / "model" / "places.json.gz").stat().st_size / 1e6
    record("service", "place table on disk", places, "MB")


def hostile() -> None:
    """What hostile input costs: the tokenizer on long runs of punctuation, and the worst request
    the default limits allow (SLOT_TAGGER_MAX_BATCH_CHARS of characters that each make a token),
    its time and the service's memory before and after (freed memory returned, as the runner
    does after a big batch)."""
    from app.runner import _return_freed_memory
    from app.settings import Settings
    from model.predictor import Predictor
    from model.tokenize import tokenize

    for name, unit in (("'.,!?;:'", ".,!?;:"), ("emoji", "😀")):
        text = (unit * 2000)[:2000]
        record(
            "hostile",
            f"tokenize 2,000 characters of {name}",
            _per_call_us(lambda text=text: tokenize(text), 20) / 1e3,
            "ms",
        )

    def rss() -> float:
        return (
            int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGESIZE") / 1e6
        )

    settings = Settings()
    predictor = Predictor.from_dir(None)
    predictor.warm_up()
    for text in SENTENCES * 100:
        predictor.predict([text])
    _return_freed_memory()
    before = rss()
    count = settings.max_batch_chars // settings.max_text_chars
    for name, unit in (("'.,!?;:'", ".,!?;:"), ("emoji", "😀")):
        texts = [(unit * settings.max_text_chars)[: settings.max_text_chars]] * count
        started = time.perf_counter()
        predictor.predict(texts)
        record(
            "hostile",
            f"worst batch: {count} texts of {settings.max_text_chars:,} {name}",
            time.perf_counter() - started,
            "s",
        )
        _return_freed_memory()
        record(
            "hostile", f"RSS after it, against {before:.0f} MB before", rss(), "MB", "within 10 %"
        )


# `slot-tagger serve` as the serving install runs it: torch (and what only training needs) cannot
# be imported, so the network runs on the model directory's saved graph.
WITHOUT_TORCH = (
    "import sys; sys.modules.update(dict.fromkeys(('torch', 'onnx', 'seqeval', 'sklearn'))); "
    "from training.console import main; main()"
)


def cold_start_without_torch(python: Path | None, runs: int = 5) -> None:
    """Process start to the first /tag answer of `slot-tagger serve`, without torch: in a serving
    install's interpreter if given (``--serving-python``), else in this one with torch blocked."""
    port = 8767
    if python is None:
        command, cwd = [sys.executable, "-c", WITHOUT_TORCH], ROOT
    else:  # run outside the checkout, so the installed packages are the ones imported
        command, cwd = [str(python), "-m", "training.console"], Path("/")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            cwd=cwd,
            env={**os.environ, "SLOT_TAGGER_JSON_LOGS": "0"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    url, body = f"http://127.0.0.1:{port}/tag", {"text": "leave Boston"}
                    if httpx.post(url, json=body).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.01)
            times.append(time.perf_counter() - started)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
    where = "serving install" if python is not None else "torch blocked"
    record(
        "service",
        f"cold start without torch ({where}): process start to first /tag, median of {runs}",
        sorted(times)[runs // 2],
        "s",
        "<= 1.5 s",
    )


def main(
    seconds: int = typer.Option(5, help="seconds per HTTP measurement"),
    lines: int = typer.Option(100_000, help="lines for the CLI streaming test"),
    device: str = typer.Option("cpu", help="cpu or cuda (model-only benchmark)"),
    out: Path = typer.Option(ROOT / "bench-results" / "bench.json"),
    only: list[str] = typer.Option(
        [],
        help="model, cli, http, service, coldstart, micro, hostile, train (train runs only when "
        "named: 6 min)",
    ),
    serving_python: Path | None = typer.Option(
        None, help="the python of a serving install (pip install slot-tagger) for coldstart"
    ),
) -> None:
    """Run the benchmarks and print the table."""
    parts = {
        "model": model_only if device == "cpu" else lambda: model_on_device(device),
        "cli": lambda: cli_stream(lines),
        "http": lambda: http(seconds),
        "service": service_memory_and_cold_start,
        "coldstart": lambda: cold_start_without_torch(serving_python),
        "micro": micro,
        "hostile": hostile,
        "train": training_time,
    }
    for name, run in parts.items():
        if (not only and name != "train") or name in only:
            run()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "device": device, "rows": rows}, indent=2))
    print("| group | measure | value | unit | target |\n|---|---|---:|---|---|")
    for r in rows:
        print(f"| {r['group']} | {r['name']} | {r['value']:,} | {r['unit']} | {r['target']} |")
    print(f"\n{machine}; written to {out}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    typer.run(main)
