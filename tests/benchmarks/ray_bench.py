"""Ray benchmarks (README, "Ray"): bulk tagging of the same N lines by the single-process
`slot-tagger tag` and by `slot-tagger tag --ray` with 1 and 2 workers (wall time, process start
to last line written); then Ray Serve at 1, 2 and 4 model replicas behind the two ingress
replicas (wrk against Serve's proxy on 127.0.0.1: /tag at c=8 and c=64, /tag/batch of 32 at c=8)
with each replica's RSS. Needs the [ray] extra and wrk. Prints a table and writes
bench-results/ray.json.

    nice python tests/benchmarks/ray_bench.py [--lines 100000] [--seconds 5]
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import typer

from tests.benchmarks.bench import ROOT, SENTENCES, record, rows, wrk

CLI = [sys.executable, "-m", "training.cli"]


def bulk(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        texts = [SENTENCES[i % len(SENTENCES)] for i in range(n)]
        plain = Path(tmp) / "in.txt"
        plain.write_text("\n".join(texts) + "\n")
        source = Path(tmp) / "in.jsonl"
        source.write_text(
            "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))
        )
        started = time.perf_counter()
        with plain.open() as stdin, open(Path(tmp) / "plain.jsonl", "w") as stdout:
            subprocess.run([*CLI, "tag"], stdin=stdin, stdout=stdout, check=True, cwd=ROOT)
        seconds = time.perf_counter() - started
        record("bulk", f"slot-tagger tag, {n:,} lines", n / seconds, "lines/s", f"{seconds:.1f} s")
        expected = (Path(tmp) / "plain.jsonl").read_bytes().splitlines()
        for workers in (1, 2):
            out = Path(tmp) / f"out{workers}"
            started = time.perf_counter()
            subprocess.run(
                [*CLI, "tag", "--ray", str(source), "--out", str(out), "--workers", str(workers)],
                check=True,
                cwd=ROOT,
                stderr=subprocess.DEVNULL,
            )
            seconds = time.perf_counter() - started
            got = [json.loads(line) for line in (out / "tagged.jsonl").read_bytes().splitlines()]
            assert [row.pop("id") for row in got] == list(range(n)), "rows out of order"
            assert got == [json.loads(line) for line in expected], "rows differ from plain tag"
            record(
                "bulk",
                f"tag --ray --workers {workers}, {n:,} lines",
                n / seconds,
                "lines/s",
                f"{seconds:.1f} s",
            )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _replica_rss_mb(deployment: str) -> list[float]:
    """RSS of each replica process of a deployment (Ray names them
    ray::ServeReplica:APP:DEPLOYMENT)."""
    name = re.compile(rb"ServeReplica:slot-tagger:" + deployment.encode() + rb"(?!\w)")
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            cmdline = (status.parent / "cmdline").read_bytes()
            if not name.search(cmdline):
                continue
            rss = next(line for line in status.read_text().splitlines() if line.startswith("VmRSS"))
        except (OSError, StopIteration):
            continue
        found.append(int(rss.split()[1]) / 1024)
    return sorted(found)


def serving(seconds: int) -> None:
    import ray
    from ray import serve

    from app import ray_serve

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    one = {"text": SENTENCES[0]}
    batch = {"texts": [SENTENCES[i % len(SENTENCES)] for i in range(32)]}
    try:
        for replicas in (1, 2, 4):
            # 2 logical CPUs shared by the model replicas: all 4 fit on this 2-core machine; the
            # two ingress replicas reserve none (the default), and share the same cores.
            app = ray_serve.build({"num_replicas": replicas, "num_cpus": 2 / replicas})
            serve.run(app, name=ray_serve.APPLICATION, route_prefix="/")
            for _ in range(50):  # warm every replica (first requests load caches)
                httpx.post(f"{url}/tag", json=one, timeout=30).raise_for_status()
            for connections in (8, 64):
                rps, p50, p99 = wrk(url, "/tag", one, connections, seconds)
                record(
                    "serve",
                    f"{replicas} replica(s), /tag c={connections}",
                    rps,
                    "requests/s",
                    f"p50 {p50:.0f} ms, p99 {p99:.0f} ms",
                )
            rps, p50, p99 = wrk(url, "/tag/batch", batch, 8, seconds)
            record(
                "serve",
                f"{replicas} replica(s), /tag/batch of 32, c=8",
                rps * 32,
                "texts/s",
                f"p50 {p50:.0f} ms",
            )
            rss = _replica_rss_mb(ray_serve.MODEL)
            record("serve", f"{replicas} replica(s): RSS per replica", max(rss), "MB", f"{rss}")
            rss = _replica_rss_mb(ray_serve.INGRESS)
            record("serve", f"{replicas} replica(s): RSS per ingress", max(rss), "MB", f"{rss}")
            serve.delete(ray_serve.APPLICATION)
    finally:
        serve.shutdown()
        ray.shutdown()


def main(
    lines: int = typer.Option(100_000, help="lines for the bulk tagging comparison"),
    seconds: int = typer.Option(5, help="seconds of wrk per cell"),
    only: str = typer.Option("", help="bulk or serve (default: both)"),
) -> None:
    if only in ("", "bulk"):
        bulk(lines)
    if only in ("", "serve"):
        serving(seconds)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "ray.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    typer.run(main)
