"""The shipped model's answers on the evaluation sets, recorded: what speed work must not change.

``python -m tests.served_answers`` writes ``tests/served_answers.jsonl.gz``: for every text of
the dev and test sets (plain, conversation and dialogue ones, the last with their context), the
text, a digest of the answer a client sees (tokens with their tags, spans with values), and each
span's confidence to 6 decimals, read against a fixed reference date, with the model version
first. Confidences are compared within CONFIDENCE_TOLERANCE, not through the digest: ONNX
Runtime on another CPU sums in another order, and a confidence a few 1e-8 from a rounding
boundary of the published 4 decimals would round the other way there.
tests/test_default_model.py holds the served predictor to it. Write it again only on code whose
answers you trust: after retraining the shipped model, or after a change meant to alter answers.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from datetime import date
from pathlib import Path

from data.formats import read_examples

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = Path(__file__).resolve().parent / "served_answers.jsonl.gz"
SETS = (
    "data/dev.txt",
    "data/test.txt",
    "data/conv_dev.txt",
    "data/conv_test.txt",
    "data/dialog_dev.jsonl",
    "data/dialog_test.jsonl",
)
REFERENCE_DATE = date(2026, 11, 23)
CONFIDENCE_TOLERANCE = 1e-5


def inputs() -> tuple[list[str], list[list[str]]]:
    """Every text of the sets and its dialogue context ([] for none), in file order."""
    examples = [e for name in SETS for e in read_examples(ROOT / name)]
    return [e.text for e in examples], [list(e.context) for e in examples]


def predictions(predictor) -> list:
    """The predictor's prediction for each text (``to_json()`` is what /tag gives, without the
    model reference)."""
    texts, contexts = inputs()
    return predictor.predict(texts, reference_date=REFERENCE_DATE, contexts=contexts)


def without_confidences(answer: dict) -> dict:
    """An answer (``Prediction.to_json()``) with its spans' confidences blanked, for comparing
    what float error cannot change."""
    return {**answer, "spans": [{**span, "confidence": None} for span in answer["spans"]]}


def digest(answer: dict) -> str:
    """A short fingerprint of one answer without its spans' confidences: any change to a tag,
    offset, span or value changes it."""
    canonical = json.dumps(without_confidences(answer), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def confidences(prediction) -> list[float]:
    """Each span's confidence, to 6 decimals."""
    return [round(span.confidence, 6) for span in prediction.spans]


def read() -> tuple[str, list[tuple[str, str, list[float]]]]:
    """(model version, [(text, digest of its answer, its spans' confidences)]) as recorded."""
    with gzip.open(ANSWERS, "rt", encoding="utf-8") as f:
        version = json.loads(f.readline())["model_version"]
        return version, [tuple(json.loads(line)) for line in f]


def write() -> None:
    from model.predictor import Predictor

    predictor = Predictor.from_dir()
    tmp = ANSWERS.with_name(f".{ANSWERS.name}.tmp-{os.getpid()}")
    # mtime=0: the same answers give the same bytes
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        head = {"model_version": predictor.meta.version, "reference_date": str(REFERENCE_DATE)}
        f.write((json.dumps(head) + "\n").encode())
        for prediction in predictions(predictor):
            line = [prediction.text, digest(prediction.to_json()), confidences(prediction)]
            f.write((json.dumps(line, ensure_ascii=False) + "\n").encode())
    tmp.replace(ANSWERS)


if __name__ == "__main__":
    write()
