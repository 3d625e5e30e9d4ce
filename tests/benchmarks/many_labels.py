"""Many labels: the CRF's decoders on an ATIS-sized test set (893 sentences, 120 labels, so 241
tags): the NumPy one's marginals by the K x K scans against one step per token, and the compiled
one (model/_decode.c, one step per token in C); and the training loss with
its gradient, log-sum-exp steps against matrix products (a batch of 32 sentences of 14 tokens,
one torch thread).

    .venv/bin/python tests/benchmarks/many_labels.py [--sentences 893] [--labels 120] [--repeat 1]

Prints seconds per pass (best of --repeat) for each way, and checks they give the same paths and
marginals. The sentence lengths follow ATIS's test set (3 to 30 tokens, 11 on average); the
scores are random, which costs the decoder what trained ones do.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from model import crf as crf_module
from model import decode
from model.crf import CRF, allowed_transitions
from model.decode import FastDecoder

BATCH = 128  # the predictor's batch size (model/predictor.py DEFAULT_BATCH_SIZE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=893)
    parser.add_argument("--labels", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    tags = ["O"] + [f"{p}-label_{k}" for k in range(args.labels) for p in ("B", "I")]
    torch.manual_seed(0)
    crf = CRF(len(tags), *allowed_transitions(tags))
    with torch.no_grad():
        for p in (crf.transitions, crf.start_transitions, crf.end_transitions):
            p.normal_()
    rng = np.random.default_rng(0)
    lengths = sorted(np.clip(rng.poisson(11, args.sentences), 3, 30).tolist())
    batches = []
    for i in range(0, len(lengths), BATCH):
        chunk = lengths[i : i + BATCH]
        batches.append((rng.normal(0, 3, (len(chunk), max(chunk), len(tags))), chunk))
    decoder = FastDecoder(crf, use_compiled=False)

    def run() -> tuple[float, list]:
        best, out = float("inf"), []
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = [decoder.decode(emissions, chunk) for emissions, chunk in batches]
            best = min(best, time.perf_counter() - start)
        return best, out

    steps_s, steps = run()
    kept = decode.SCAN_MAX_TAGS
    decode.SCAN_MAX_TAGS = len(tags)  # every tag count takes the scans
    try:
        scans_s, scans = run()
    finally:
        decode.SCAN_MAX_TAGS = kept
    compiled_s, compiled = float("nan"), steps
    if decode.compiled is not None:
        decoder = FastDecoder(crf)
        compiled_s, compiled = run()
    same_paths = all(a[0] == b[0] == c[0] for a, b, c in zip(steps, scans, compiled, strict=True))
    gap = max(
        max(abs(x - y), abs(x - z))
        for a, b, c in zip(steps, scans, compiled, strict=True)
        for ra, rb, rc in zip(a[1], b[1], c[1], strict=True)
        for x, y, z in zip(ra, rb, rc, strict=True)
    )
    tokens = sum(lengths)
    print(f"{args.sentences} sentences, {tokens} tokens, {len(tags)} tags, batches of {BATCH}")
    print(f"NumPy, scans (K^3 per product):  {scans_s:.2f} s")
    print(f"NumPy, steps (K^2 per token):    {steps_s:.2f} s   ({scans_s / steps_s:.0f}x sooner)")
    ratio = steps_s / compiled_s
    print(f"C (model/_decode.c):             {compiled_s:.3f} s   ({ratio:.0f}x sooner)")
    print(f"same paths: {same_paths}; largest marginal difference {gap:.1e}")
    loss_times(crf, len(tags), args.repeat)


def loss_times(crf: CRF, num_tags: int, repeat: int) -> None:
    """The loss and its gradient on one batch, each way."""
    torch.set_num_threads(1)
    emissions = torch.randn(32, 14, num_tags, requires_grad=True)
    tag_ids = torch.zeros(32, 14, dtype=torch.long)  # all O: a path BIO allows
    mask = torch.ones(32, 14, dtype=torch.bool)

    def run() -> tuple[float, float]:
        best, value = float("inf"), 0.0
        for _ in range(repeat + 1):  # the first pass warms torch up
            start = time.perf_counter()
            loss = crf.nll(emissions, tag_ids, mask)
            loss.backward()
            best, value = min(best, time.perf_counter() - start), loss.item()
        return best, value

    matmul_s, matmul = run()
    kept = crf_module.MATMUL_MIN_TAGS
    crf_module.MATMUL_MIN_TAGS = num_tags + 1  # the log-sum-exp at every tag count
    try:
        logsumexp_s, logsumexp = run()
    finally:
        crf_module.MATMUL_MIN_TAGS = kept
    print(f"loss + gradient, log-sum-exp: {logsumexp_s * 1000:.0f} ms")
    print(
        f"loss + gradient, matmul:      {matmul_s * 1000:.0f} ms   "
        f"({logsumexp_s / matmul_s:.0f}x sooner; loss {matmul:.4f} vs {logsumexp:.4f})"
    )


if __name__ == "__main__":
    main()
