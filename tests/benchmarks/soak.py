"""Load and soak test (not part of the tests): `make soak` or `python tests/benchmarks/soak.py`.

100,000 mixed requests (valid /tag, /tag/batch of 32, invalid bodies, /health, unknown paths) at
concurrency 64 from wrk to a real uvicorn server on 127.0.0.1: first 10,000, then 90,000. Every
answer must be the status its request calls for (the counts per status must match the mix, and
no 5xx or socket error may occur), and the server's RSS at the end must be within 5 % of its RSS
after the first 10,000. Needs wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import typer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.benchmarks.bench import SENTENCES, Server  # noqa: E402

# (method, path, body, expected status, weight)
MIX = [("POST", "/tag", {"text": s}, 200, 8) for s in SENTENCES] + [
    ("POST", "/tag/batch", {"texts": SENTENCES * 4}, 200, 4),
    ("POST", "/tag", {"text": 5}, 422, 1),
    ("POST", "/tag", {}, 422, 1),
    ("POST", "/tag", {"text": "x" * 2001}, 422, 1),
    ("POST", "/tag/batch", {"texts": ["a"] * 257}, 422, 1),
    ("POST", "/tag", "not json", 422, 1),
    ("GET", "/health", None, 200, 1),
    ("GET", "/nowhere", None, 404, 1),
]
THREADS = 2

LUA = r"""
local cycle = %(cycle)s
local n, responses, limit = 0, 0, %(limit)d
statuses = {}
threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = math.random(#cycle) end
function request()
  n = n %% #cycle + 1
  local r = cycle[n]
  return wrk.format(r[1], r[2], {["Content-Type"] = "application/json"}, r[3])
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  responses = responses + 1
  if responses >= limit then wrk.thread:stop() end
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("STATUS %%d %%d\n", status, count))
    end
  end
  io.write(string.format("P50 %%d\nP99 %%d\n", latency:percentile(50), latency:percentile(99)))
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid Lua string literal for this content


def phase(url: str, requests: int, concurrency: int, rate: float = 300.0) -> dict:
    """Send ``requests`` requests. wrk runs for a duration, so runs are sized from the measured
    rate, each capped at the requests still to send, until all are sent."""
    total: Counter[int] = Counter()
    runs = []
    while (remaining := requests - sum(total.values())) > 0:
        seconds = max(3, round(remaining / rate * 1.3))
        run = wrk_run(url, remaining, concurrency, seconds)
        if run["requests"] == 0:
            raise RuntimeError(f"wrk sent nothing: {run}")
        rate = run["requests_per_s"]
        total.update(run["statuses"])
        runs.append(run)
    expected_share = Counter()
    for _, _, _, status, weight in MIX:
        expected_share[status] += weight
    total_weight, seen = sum(expected_share.values()), sum(total.values())
    return {
        "requests": seen,
        "requests_per_s": round(
            sum(r["requests"] for r in runs) / sum(r["seconds"] for r in runs), 1
        ),
        "p50_ms": max(r["p50_ms"] for r in runs),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "statuses": dict(sorted(total.items())),
        "share_off_by": {
            s: round(total[s] / seen - expected_share[s] / total_weight, 4)
            for s in set(total) | set(expected_share)
        },
        "socket_errors": [r["socket_errors"] for r in runs if r["socket_errors"]],
    }


def wrk_run(url: str, requests: int, concurrency: int, seconds: int) -> dict:
    rng = random.Random(requests)
    cycle = [m for m in MIX for _ in range(m[4])]
    rng.shuffle(cycle)
    entries = []
    for method, path, body, _, _ in cycle:
        text = body if isinstance(body, str) else "" if body is None else json.dumps(body)
        entries.append(f"{{{lua_string(method)}, {lua_string(path)}, {lua_string(text)}}}")
    limit = max(1, requests // THREADS)
    script = LUA % {"cycle": "{" + ", ".join(entries) + "}", "limit": limit}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(THREADS),
            "-c",
            str(concurrency),
            "-d",
            f"{seconds}s",
            "--timeout",
            "30s",
            "-s",
            f.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(f.name).unlink()
    statuses: Counter[int] = Counter()
    for status, count in re.findall(r"STATUS (\d+) (\d+)", out):
        statuses[int(status)] += int(count)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "requests": sum(statuses.values()),
        "seconds": seconds,
        "requests_per_s": sum(statuses.values()) / seconds,
        "p50_ms": int(re.search(r"P50 (\d+)", out).group(1)) / 1000,
        "p99_ms": int(re.search(r"P99 (\d+)", out).group(1)) / 1000,
        "statuses": statuses,
        "socket_errors": socket_errors.group(1) if socket_errors else None,
    }


def main(
    total: int = typer.Option(100_000, help="requests in all"),
    first: int = typer.Option(10_000, help="requests before the first RSS reading"),
    concurrency: int = typer.Option(64),
    workers: int = typer.Option(1, help="uvicorn workers"),
) -> None:
    """Run the soak test, print its numbers as JSON; exit 1 on any unexpected answer or growth."""
    server = Server(8767, workers, access_log=True)  # as served: the access log on
    try:
        warm = phase(server.url, first, concurrency)
        rss_first = server.rss_mb()
        rest = phase(server.url, total - first, concurrency)
        rss_end = server.rss_mb()
    finally:
        server.stop()
    unexpected = [
        p
        for p in (warm, rest)
        if p["socket_errors"]
        or any(s >= 500 or s not in (200, 404, 422) for s in p["statuses"])
        or any(abs(v) > 0.01 for v in p["share_off_by"].values())
    ]
    result = {
        "first": warm,
        "rest": rest,
        "rss_mb_after_first": round(rss_first, 1),
        "rss_mb_end": round(rss_end, 1),
        "rss_growth_pct": round(100 * (rss_end - rss_first) / rss_first, 2),
        "unexpected": len(unexpected),
    }
    print(json.dumps(result, indent=2))
    if unexpected or result["rss_growth_pct"] > 5:
        raise SystemExit(1)


if __name__ == "__main__":
    typer.run(main)
