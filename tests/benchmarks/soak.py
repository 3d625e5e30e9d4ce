"""Load and soak test (not part of the tests): `make soak` or `python tests/benchmarks/soak.py`.

Sends 100,000 mixed requests (valid /tag, invalid bodies, /tag/batch) at concurrency 64 to a real
uvicorn server on 127.0.0.1, checks every status against what that request should get, and
compares the server's RSS after the first 10,000 requests with its RSS at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import typer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.bench import SENTENCES, Server  # noqa: E402

# (method, path, body, expected status)
REQUESTS = [("POST", "/tag", {"text": s}, 200) for s in SENTENCES] + [
    ("POST", "/tag/batch", {"texts": SENTENCES * 4}, 200),
    ("POST", "/tag", {"text": 5}, 422),
    ("POST", "/tag", {}, 422),
    ("POST", "/tag", {"text": "x" * 2001}, 422),
    ("POST", "/tag/batch", {"texts": ["a"] * 257}, 422),
    ("POST", "/tag", "not json", 422),
    ("GET", "/health", None, 200),
    ("GET", "/nowhere", None, 404),
]
WEIGHTS = [8] * len(SENTENCES) + [4, 1, 1, 1, 1, 1, 1, 1]


async def run(url: str, total: int, concurrency: int, server: Server) -> dict:
    rng = random.Random(0)
    plan = rng.choices(range(len(REQUESTS)), WEIGHTS, k=total)
    statuses: Counter[int] = Counter()
    unexpected: Counter[str] = Counter()
    latencies: list[float] = []
    rss: dict[str, float] = {}
    next_index = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_index
        while next_index < total:
            index = next_index
            next_index += 1
            method, path, body, expected = REQUESTS[plan[index]]
            content = (
                body if isinstance(body, str) else json.dumps(body) if body is not None else None
            )
            started = time.perf_counter()
            try:
                response = await client.request(
                    method, path, content=content, headers={"content-type": "application/json"}
                )
                status = response.status_code
            except httpx.HTTPError as e:
                status = 0
                unexpected[f"{path}: {type(e).__name__}"] += 1
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1
            if status and status != expected:
                unexpected[f"{method} {path} expected {expected} got {status}"] += 1
            if index == 10_000:
                rss["after_10k"] = server.rss_mb()

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    rss["end"] = server.rss_mb()
    latencies.sort()
    return {
        "requests": total,
        "concurrency": concurrency,
        "seconds": round(seconds, 1),
        "requests_per_s": round(total / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1e3, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1e3, 2),
        "statuses": dict(sorted(statuses.items())),
        "unexpected": dict(unexpected),
        "rss_mb_after_10k": round(rss["after_10k"], 1),
        "rss_mb_end": round(rss["end"], 1),
        "rss_growth_pct": round(100 * (rss["end"] - rss["after_10k"]) / rss["after_10k"], 2),
    }


def main(
    total: int = typer.Option(100_000, help="requests to send"),
    concurrency: int = typer.Option(64),
    workers: int = typer.Option(1, help="uvicorn workers"),
) -> None:
    """Run the soak test and print its numbers as JSON; exit 1 on any unexpected answer."""
    os.environ.setdefault("SLOT_TAGGER_MAX_QUEUE", "256")
    server = Server(8767, workers)
    try:
        result = asyncio.run(run(server.url, total, concurrency, server))
    finally:
        server.stop()
    print(json.dumps(result, indent=2))
    if result["unexpected"] or result["rss_growth_pct"] > 5:
        raise SystemExit(1)


if __name__ == "__main__":
    typer.run(main)
