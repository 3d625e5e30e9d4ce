"""Dialogue context: the question before an answer decides its role; spans stay in the text."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from model.context import SEPARATOR, as_turns, context_prefix
from model.predictor import Predictor
from tests.conftest import FROM, TO


def test_the_context_prefix_keeps_the_last_turns_each_followed_by_a_separator() -> None:
    turns = ["Hi, how can I help?", "Where from?"]
    assert context_prefix(turns, 100) == [
        *["Hi", ",", "how", "can", "I", "help", "?"], SEPARATOR, "Where", "from", "?", SEPARATOR,
    ]  # fmt: skip
    assert context_prefix(turns, 4) == ["Where", "from", "?", SEPARATOR]
    assert context_prefix(turns, 0) == []
    assert context_prefix(["", "  "], 10) == []
    assert as_turns("Where from?") == ["Where from?"] and as_turns(None) == []


def test_the_question_before_a_bare_answer_decides_its_role(context_model_dir: Path) -> None:
    predictor = Predictor.from_dir(context_model_dir)
    texts = ["Denver.", "Denver.", "it's Lima", "it's Lima"]
    contexts = [FROM[0], [TO[1]], ["hello", FROM[1]], TO]
    predictions = predictor.predict(texts, contexts=contexts)
    assert [[(s.label, s.text) for s in p.spans] for p in predictions] == [
        [("departure", "Denver")],
        [("destination", "Denver")],
        [("departure", "Lima")],
        [("destination", "Lima")],
    ]
    for prediction, text in zip(predictions, texts, strict=True):  # spans index the text
        assert all(text[s.start : s.end] == s.text for s in prediction.spans)
        assert [t.text for t in prediction.tokens] == [
            t.text for t in predictor.predict([text])[0].tokens
        ]


def test_a_cue_in_the_text_wins_over_the_question(context_model_dir: Path) -> None:
    predictor = Predictor.from_dir(context_model_dir)
    [prediction] = predictor.predict(["from Oslo to Rome"], contexts=[TO[:1]])
    assert [(s.label, s.text) for s in prediction.spans] == [
        ("departure", "Oslo"),
        ("destination", "Rome"),
    ]


def test_a_place_in_the_context_is_never_a_span(context_model_dir: Path) -> None:
    predictor = Predictor.from_dir(context_model_dir)
    [prediction] = predictor.predict(["thanks"], contexts=[["from Boston to Rome", "Boston."]])
    assert prediction.spans == [] and all(tag == "O" for tag in prediction.tags)


def test_a_model_saved_before_context_existed_ignores_it(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old"
    shutil.copytree(tiny_model_dir, old)
    for graph in [old / "graph.json", *old.glob("*.onnx")]:  # it had no saved graph either
        graph.unlink()
    config = json.loads((old / "config.json").read_text())
    del config["context_tokens"]  # as every model saved before dialogue context
    (old / "config.json").write_text(json.dumps(config))
    meta = json.loads((old / "meta.json").read_text())  # its version then: the weights' hash
    meta["version"] = hashlib.sha256((old / "weights.safetensors").read_bytes()).hexdigest()[:12]
    (old / "meta.json").write_text(json.dumps(meta))
    predictor = Predictor.from_dir(old)
    assert not predictor.reads_context
    texts = ["arrive Boston on Monday", "Boston.", "leave Beijing on November 2nd"]
    plain = predictor.predict(texts)
    with_context = predictor.predict(texts, contexts=[FROM, TO, "where from?"])
    assert [(p.tags, p.spans) for p in with_context] == [(p.tags, p.spans) for p in plain]


def test_one_context_per_text_is_required(predictor: Predictor) -> None:
    with pytest.raises(ValueError, match="one context per text"):
        predictor.predict(["a", "b"], contexts=[["where from?"]])


def test_streamed_contexts_give_what_a_batch_gives(context_model_dir: Path) -> None:
    predictor = Predictor.from_dir(context_model_dir)
    texts, contexts = ["Denver.", "Denver.", "Tokyo."], [FROM[:1], TO[:1], None]
    batch = predictor.predict(texts, contexts=contexts)
    streamed = list(predictor.predict_iter(iter(texts), batch_size=2, contexts=iter(contexts)))

    def spans(predictions):
        return [
            [(s.label, s.start, s.end, round(s.confidence, 6)) for s in p.spans]
            for p in predictions
        ]

    assert spans(streamed) == spans(batch)
