"""The HTTP yardstick (`make bench-yardstick`): the service against a bare FastAPI endpoint, in one
run, from one load client.

Two servers run side by side, one uvicorn worker each: the bare endpoint (tests/benchmarks/
bare.py: /tag's pydantic request model, no middleware, uvloop and httptools) and the service as
`slot-tagger serve` runs it (its protocol, its middleware, metrics, request ids and the JSON
access log on, written to a file), plus the benchmark's no-op routes (tests/benchmarks/noop.py).
wrk loads each cell in turn at concurrency 8 over keep-alive connections, each beside a run of
the bare endpoint (before it, then after it, round by round); every figure is the median over
the rounds with its range, and each cell's requests/s is divided by that of the bare run beside
it (the machine's load changes from second to second; the ratio of neighbours much less).

Cells: ``bare`` and ``noop`` (the service without the model) on the issue's sentence; ``tag`` on
the same sentence (warm caches, as a repeated request has them); ``tag-pool``: /tag on sentences
that do not repeat, drawn from a pool the generator makes (data/generate.py), each request the
next one (no sentence is sent twice in a run). ``--ablate`` measures the no-op with one piece of
the middleware taken out at a time instead (tests/benchmarks/noop.py, ``BENCH_WITHOUT``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import typer

ROOT = Path(__file__).resolve().parents[2]
SENTENCE = "i would like a flight from san francisco to washington d.c. next monday"
POOL_SEED = 1717  # not the training data's seed

# The servers, started as `python -c` programs so each is what it would be in production.
BARE = (
    "import uvicorn; uvicorn.run('tests.benchmarks.bare:create_app', factory=True, "
    "host='127.0.0.1', port={port}, loop='uvloop', http='httptools', access_log=False, "
    "log_level='warning')"
)
# As `slot-tagger serve` (training/cli.py) runs the service, with the no-op routes added.
SERVICE = (
    "import gc; gc.disable(); import uvicorn; "
    "uvicorn.run('tests.benchmarks.noop:create_app', factory=True, host='127.0.0.1', "
    "port={port}, timeout_keep_alive=75, access_log=False, log_level='warning', "
    "http='app.connections:BoundedHttpTools')"
)
# Each thread of wrk sends the bodies of a file one after another, from its own offset.
POOL_SCRIPT = """
local bodies = {}
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  n = tonumber(args[2]) + id
  step = tonumber(args[3])
end
request = function()
  n = n + step
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
    bodies[(n % #bodies) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("P50 %d\\nP99 %d\\n", latency:percentile(50), latency:percentile(99)))
end
"""
ONE_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
done = function(summary, latency, requests)
  io.write(string.format("P50 %d\\nP99 %d\\n", latency:percentile(50), latency:percentile(99)))
end
"""
# What --ablate takes out of the service's no-op, one at a time (tests/benchmarks/noop.py).
PIECES = ("RequestLog", "metrics", "BodySizeLimit", "LoadModelAtStartup", "all")


class Server:
    """A server process on 127.0.0.1:port, ready once it answers POST ``probe``."""

    def __init__(self, program: str, port: int, probe: str, env: dict[str, str], log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", program.format(port=port)],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=out,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.post(self.url + probe, json={"text": "leave Boston"}).status_code == 200:
                    return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit(f"the server for {probe} did not start") from None
                time.sleep(0.05)

    def log_lines(self) -> int:
        return len(self.log.read_bytes().splitlines())

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(30)


def pool(size: int) -> list[str]:
    """``size`` distinct generated sentences (cached in bench-results/)."""
    cached = ROOT / "bench-results" / f"pool-{POOL_SEED}-{size}.txt"
    if cached.exists():
        return cached.read_text().split("\n")
    from data.generate import generate

    seen: dict[str, None] = {}
    for example in generate(POOL_SEED, size * 2):
        text = " ".join(example.text.split())  # one line each
        if text:
            seen.setdefault(text, None)
        if len(seen) == size:
            break
    texts = list(seen)
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.tmp-{os.getpid()}")
    tmp.write_text("\n".join(texts))
    tmp.replace(cached)
    return texts


def wrk(url: str, script: str, seconds: int, connections: int, args: list[str]) -> dict:
    """One wrk run: requests/s, p50 and p99 in ms; any non-2xx answer is an error."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        out = subprocess.run(
            ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "-s", f.name, url]
            + (["--", *args] if args else []),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    if errors := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"{url}: {errors.group(1)} error responses under load")
    if errors := re.search(r"Socket errors: (.*)", out):
        raise RuntimeError(f"{url}: socket errors under load: {errors.group(1)}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": int(re.search(r"P50 (\d+)", out).group(1)) / 1000,
        "p99_ms": int(re.search(r"P99 (\d+)", out).group(1)) / 1000,
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
    }


def _spread(values: list[float], digits: int = 0) -> str:
    median = statistics.median(values)
    return f"{median:,.{digits}f} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0]


BATCH_TEXTS = 32  # texts per /tag/batch request


def batched(rounds: int, seconds: int, lines: int, pool_size: int) -> None:
    """Batched tagging on sentences that never repeat, every cache cold: `slot-tagger tag` on
    ``lines`` pool sentences (a fresh process each round, startup included), /tag/batch of 32
    pool texts per request at c=2 (a fresh server), and the model in process at batch 1 (p50
    over sentences of 8-20 tokens, each new) and batch 128."""
    texts = pool(pool_size)
    offset = 0

    def take(n: int) -> list[str]:
        nonlocal offset
        if offset + n > len(texts):
            raise SystemExit(f"the pool ({len(texts):,}) is too small: raise --pool-size")
        offset += n
        return texts[offset - n : offset]

    results: dict[str, list[float]] = {}
    _in_process(results, take, rounds)
    tmp = Path(tempfile.mkdtemp(prefix="yardstick-"))
    try:
        for r in range(rounds):
            src = tmp / "in.txt"
            src.write_text("\n".join(take(lines)) + "\n")
            started = time.perf_counter()
            with open(src) as stdin:
                subprocess.run(
                    [sys.executable, "-m", "training.cli", "tag"],
                    stdin=stdin,
                    stdout=subprocess.DEVNULL,
                    check=True,
                    cwd=ROOT,
                )
            rate = lines / (time.perf_counter() - started)
            results.setdefault(f"slot-tagger tag, {lines:,} lines (startup included)", []).append(
                rate
            )
            print(f"  round {r + 1} tag CLI {rate:,.0f} sentences/s", file=sys.stderr)
        bodies = tmp / "batches.jsonl"
        batch_texts = take(min(len(texts) - offset, 200_000) // BATCH_TEXTS * BATCH_TEXTS)
        bodies.write_text(
            "".join(
                json.dumps({"texts": batch_texts[i : i + BATCH_TEXTS]}) + "\n"
                for i in range(0, len(batch_texts), BATCH_TEXTS)
            )
        )
        server = Server(SERVICE, 8799, "/tag", {}, tmp / "service.log")
        try:
            start = 0
            for r in range(rounds):
                args = [str(bodies), str(start), "2"]
                result = wrk(server.url + "/tag/batch", POOL_SCRIPT, seconds, 2, args)
                start += result["requests"] + 4
                if start * BATCH_TEXTS > len(batch_texts):
                    raise SystemExit("the pool ran out for /tag/batch: raise --pool-size")
                rate = result["rps"] * BATCH_TEXTS
                name = "/tag/batch of 32 texts, c=2, 1 worker: texts/s"
                results.setdefault(name, []).append(rate)
                print(f"  round {r + 1} /tag/batch {rate:,.0f} texts/s", file=sys.stderr)
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| batched, sentences that never repeat | median (range) |\n|---|---:|")
    for name, values in results.items():
        print(f"| {name} | {_spread(values, 2 if 'ms' in name else 0)} |")


def _in_process(results: dict[str, list[float]], take, rounds: int) -> None:
    """The model in this process on new sentences: batch-1 latency and batch-128 rate."""
    import gc
    from datetime import date

    from model.predictor import Predictor
    from model.tokenize import tokenize

    reference = date(2026, 11, 23)
    for r in range(rounds):
        single, batch = Predictor.from_dir(threads=1), Predictor.from_dir(threads=os.cpu_count())
        single.warm_up()
        batch.warm_up()
        gc.collect()
        gc.freeze()  # as the server and the CLI do once the model is loaded
        typical = [t for t in take(4000) if 8 <= len(tokenize(t)) <= 20][:2000]
        latencies = []
        for text in typical:
            started = time.perf_counter()
            single.predict([text], reference_date=reference)
            latencies.append(time.perf_counter() - started)
        latencies.sort()
        name = "model, batch 1, 1 thread, new sentences of 8-20 tokens: p50 ms"
        results.setdefault(name, []).append(latencies[len(latencies) // 2] * 1e3)
        name = "model, batch 1, 1 thread, new sentences of 8-20 tokens: p99 ms"
        results.setdefault(name, []).append(latencies[len(latencies) * 99 // 100] * 1e3)
        chunk = take(10_000)
        started = time.perf_counter()
        batch.predict(chunk, batch_size=128, reference_date=reference)
        rate = len(chunk) / (time.perf_counter() - started)
        results.setdefault(
            f"model, batch 128, {os.cpu_count()} threads, 10,000 new sentences: sentences/s", []
        ).append(rate)
        print(
            f"  round {r + 1} model p50 {latencies[len(latencies) // 2] * 1e3:.2f} ms, "
            f"batch 128 {rate:,.0f}/s",
            file=sys.stderr,
        )
        gc.unfreeze()


def main(
    rounds: int = typer.Option(3, min=1, help="rounds; each runs every cell once"),
    seconds: int = typer.Option(3, min=1, help="seconds per cell"),
    connections: int = typer.Option(8, help="wrk connections (keep-alive)"),
    pool_size: int = typer.Option(
        200_000, help="distinct generated sentences (the tag-pool cell, --batched)"
    ),
    ablate: bool = typer.Option(False, help="the no-op without each middleware piece instead"),
    batch: bool = typer.Option(
        False, "--batched", help="batched tagging on sentences that never repeat instead"
    ),
    lines: int = typer.Option(30_000, help="--batched: lines per `slot-tagger tag` run"),
    out: Path = typer.Option(ROOT / "bench-results" / "yardstick.json"),
) -> None:
    """Measure the bare endpoint, the service's no-op and /tag side by side; print the table."""
    if shutil.which("wrk") is None:
        raise SystemExit("the yardstick needs wrk: apt-get install wrk")
    if batch:
        print(f"load average (1 min) at the start: {_load()}", file=sys.stderr)
        batched(rounds, seconds, lines, pool_size)
        print(f"\nload average (1 min) at the end: {_load()}")
        return
    tmp = Path(tempfile.mkdtemp(prefix="yardstick-"))
    one = ONE_SCRIPT.format(body=json.dumps(json.dumps({"text": SENTENCE})))
    servers: dict[str, Server] = {}
    cells: dict[str, tuple[str, str, str, list[str]]] = {}  # name: server, path, script, args
    try:
        servers["bare"] = Server(BARE, 8780, "/bare", {}, tmp / "bare.log")
        cells["bare"] = ("bare", "/bare", one, [])
        variants = [f"without {p}" for p in PIECES] if ablate else []
        for i, variant in enumerate(["service", *variants]):
            without = variant.removeprefix("without ")
            env = {"BENCH_WITHOUT": without} if variant != "service" else {}
            servers[variant] = Server(SERVICE, 8781 + i, "/tag", env, tmp / f"{i}.log")
            cells[f"noop, {variant}" if ablate else "noop"] = (variant, "/bench/noop", one, [])
        if not ablate:
            cells["tag"] = ("service", "/tag", one, [])
            bodies = tmp / "pool.jsonl"
            texts = pool(pool_size)
            bodies.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
            cells["tag-pool"] = ("service", "/tag", POOL_SCRIPT, [str(bodies), "{offset}", "2"])
        sent = dict.fromkeys(servers, 1)  # the probe
        results: dict[str, list[dict]] = {name: [] for name in cells}
        shares: dict[str, list[float]] = {name: [] for name in cells}
        offset = 0  # the next pool body: no body is sent twice
        names = [name for name in cells if name != "bare"]
        loads = [_load()]

        def measure(name: str, seconds: int) -> dict:
            nonlocal offset
            server, path, script, args = cells[name]
            result = wrk(
                servers[server].url + path, script, seconds, connections, _args(args, offset)
            )
            offset += result["requests"] + 16  # + what was in flight at the end
            sent[server] += result["requests"]
            return result

        for name in ["bare", *names]:  # warm-up, a second each
            measure(name, 1)
        for r in range(rounds):
            # Each cell beside a bare run of its own (before it in even rounds, after in odd
            # ones): its share is against the bare endpoint of the same moment.
            for name in names[r % len(names) :] + names[: r % len(names)]:
                pair = ["bare", name] if r % 2 == 0 else [name, "bare"]
                measured = {n: measure(n, seconds) for n in pair}
                for n, result in measured.items():
                    results[n].append(result)
                    print(
                        f"  round {r + 1} {n:<32} {result['rps']:>9,.0f} req/s  "
                        f"p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms",
                        file=sys.stderr,
                    )
                shares[name].append(100 * measured[name]["rps"] / measured["bare"]["rps"])
                shares["bare"].append(100.0)
            loads.append(_load())
    finally:
        for s in servers.values():
            s.stop()
        logged = {k: s.log_lines() for k, s in servers.items()}
        shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    print(
        f"| cell (c={connections}, 1 worker, {rounds} rounds of {seconds} s) | requests/s | "
        "share of the bare run beside it | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|"
    )
    for name, runs in results.items():
        row = {
            "cell": name,
            "rps": [r["rps"] for r in runs],
            "share_of_bare_percent": shares[name],
            "p50_ms": [r["p50_ms"] for r in runs],
            "p99_ms": [r["p99_ms"] for r in runs],
        }
        rows.append(row)
        print(
            f"| {name} | {_spread(row['rps'])} | {_spread(shares[name])} % | "
            f"{_spread(row['p50_ms'], 2)} | {_spread(row['p99_ms'], 2)} |"
        )
    for server, count in logged.items():
        if server == "service" and count < sent[server]:  # every request answered is logged
            raise SystemExit(f"{server}: {sent[server]} requests sent, {count} access-log lines")
    print(
        f"\nload average (1 min) before and after each round: {' → '.join(loads)}; "
        f"access-log lines written: {logged}"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "load": loads, "connections": connections}, indent=2))


def _args(args: list[str], offset: int) -> list[str]:
    return [str(offset) if a == "{offset}" else a for a in args]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    typer.run(main)
