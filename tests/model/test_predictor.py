"""The predictor on the tiny model: it learned its set, batching changes nothing."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.predictor import Predictor


def spans(prediction) -> list[tuple[str, str]]:
    return [(s.label, s.text) for s in prediction.spans]


def test_tiny_model_tells_arrive_from_leave(predictor: Predictor) -> None:
    leave, arrive = predictor.predict(
        ["leave Beijing on November 2nd", "arrive Beijing on November 2nd"]
    )
    assert spans(leave) == [("departure", "Beijing"), ("date", "November 2nd")]
    assert spans(arrive) == [("destination", "Beijing"), ("date", "November 2nd")]


def test_batched_and_one_by_one_predictions_agree(predictor: Predictor, tiny_examples) -> None:
    texts = [e.text for e in tiny_examples]
    batched = predictor.predict(texts, batch_size=7)
    single = [predictor.predict([t])[0] for t in texts]
    assert [spans(p) for p in batched] == [spans(p) for p in single]
    for a, b in zip(batched, single, strict=True):
        for x, y in zip(a.spans, b.spans, strict=True):
            assert abs(x.confidence - y.confidence) < 1e-5


def test_empty_and_whitespace_texts_have_no_tokens_and_keep_their_place(
    predictor: Predictor,
) -> None:
    results = predictor.predict(["", "   ", "from Miami to Atlanta"])
    assert [(r.text, r.tokens, r.spans) for r in results[:2]] == [("", [], []), ("   ", [], [])]
    assert spans(results[2]) == [("departure", "Miami"), ("destination", "Atlanta")]


def test_predict_iter_streams_in_input_order(predictor: Predictor) -> None:
    texts = (f"from Miami to Atlanta {i}" for i in range(10))
    out = list(predictor.predict_iter(texts, batch_size=3))
    assert [p.text for p in out] == [f"from Miami to Atlanta {i}" for i in range(10)]


def test_streaming_gives_what_one_call_gives_and_is_lazy(
    predictor: Predictor, tiny_examples
) -> None:
    """predict_iter overlaps the network of one chunk with the rest of the next: same results,
    same order, and it reads its input only as far as it has to."""
    texts = [e.text for e in tiny_examples] + ["", "   "] + [e.text for e in tiny_examples]
    streamed = list(predictor.predict_iter(texts, batch_size=3))
    assert streamed == predictor.predict(texts)
    read = []

    def lines():
        for text in texts:
            read.append(text)
            yield text

    stream = predictor.predict_iter(lines(), batch_size=3)
    next(stream)
    assert len(read) <= 9  # the chunk being finished, the one in the network, the one read ahead


def test_predict_does_not_mutate_its_input(predictor: Predictor) -> None:
    texts = ["leave Boston on Monday", "thank you"]
    predictor.predict(texts)
    assert texts == ["leave Boston on Monday", "thank you"]


@given(st.text(max_size=200))
def test_any_text_gives_spans_inside_it_with_probabilities(predictor: Predictor, text: str) -> None:
    [prediction] = predictor.predict([text])
    previous_end = 0
    for span in prediction.spans:
        assert previous_end <= span.start < span.end <= len(text)
        assert text[span.start : span.end] == span.text
        assert 0.0 <= span.confidence <= 1.0 + 1e-6
        previous_end = span.end


def test_text_in_another_language_gets_no_spans_and_the_reason(predictor: Predictor) -> None:
    spanish, english = predictor.predict(
        ["quiero ir de Madrid a Barcelona mañana por la tarde", "fly from Madrid to Barcelona"]
    )
    assert spanish.spans == [] and spanish.tags == ["O"] * len(spanish.tokens)
    assert spanish.refused is not None and spanish.refused.language == "es"
    assert "English only" in spanish.refused.reason
    assert english.refused is None and english.spans


def test_the_language_check_can_be_turned_off(tiny_model_dir) -> None:
    from model import artifact

    everything = Predictor(artifact.load(tiny_model_dir), english_only=False)
    [prediction] = everything.predict(["quiero ir de Madrid a Barcelona mañana por la tarde"])
    assert prediction.refused is None


def test_spans_under_the_models_confidence_floor_are_dropped_with_their_tags(
    tiny_model_dir,
) -> None:
    from model import artifact
    from model.artifact import Calibration
    from model.spans import from_bio

    texts = ["i want to fly from denver to chicago tomorrow", "going to Denver, on March 4th"]
    everything = Predictor(artifact.load(tiny_model_dir))
    for text in texts:
        [full] = everything.predict([text])
        assert full.spans
        floor = sorted(s.confidence for s in full.spans)[len(full.spans) // 2] + 1e-9
        strict = everything.with_calibration(Calibration(min_confidence=floor))
        [kept] = strict.predict([text])
        assert kept.spans == [s for s in full.spans if s.confidence >= floor]
        # the tags say exactly what the spans say: well-formed BIO, nothing left of a dropped span
        assert from_bio(text, kept.tokens, kept.tags) == [
            dataclasses.replace(s, confidence=1.0, value=None) for s in kept.spans
        ]
        for previous, tag in zip(["O", *kept.tags], kept.tags, strict=False):
            assert not tag.startswith("I-") or previous[2:] == tag[2:]


def test_a_joiner_trimmed_off_a_span_is_tagged_outside(predictor: Predictor) -> None:
    [prediction] = predictor.predict(["going to Denver, on March 4th"])
    comma = next(i for i, t in enumerate(prediction.tokens) if t.text == ",")
    assert prediction.tags[comma] == "O"


def test_tags_say_what_the_spans_say_when_the_decoder_tags_a_trailing_comma(
    predictor: Predictor,
) -> None:
    """The network may put I- on "Cancun,"'s comma; the span drops it, and so must the tags."""
    import numpy as np

    work = predictor._prepare(["going to Cancun, now"], 8)
    tags = predictor.vocabs.tags.items
    scores = np.zeros((1, 5, len(tags)), dtype=np.float32)  # going to Cancun , now
    scores[0, :, tags.index("O")] = 5.0
    scores[0, 2, tags.index("B-destination")] = 50.0
    scores[0, 3, tags.index("I-destination")] = 50.0
    [prediction] = predictor._finish(work, [scores], None)
    assert [s.text for s in prediction.spans] == ["Cancun"]
    assert prediction.tags == ["O", "O", "B-destination", "O", "O"]


def test_a_forward_pass_holds_a_bounded_number_of_tokens(predictor) -> None:
    """Long texts go through the network a few at a time (its memory grows with sentences x
    tokens, and ONNX Runtime keeps what it allocated); the answers are the same."""
    from model.predictor import MAX_BATCH_TOKENS

    texts = ["leave Boston on Monday " * 150, "arrive Denver", "😀" * 2000] * 4
    work = predictor._prepare(texts, 128)
    assert len(work.batches) > 1
    for batch in work.batches:
        assert batch.word_ids.shape[0] * batch.word_ids.shape[1] <= MAX_BATCH_TOKENS
    together = predictor.predict(texts)
    alone = [p for text in texts for p in predictor.predict([text])]
    without_confidence = [
        [(s.label, s.start, s.end, s.text, s.value) for s in p.spans] for p in together
    ]
    assert [(p.tokens, p.tags) for p in together] == [(p.tokens, p.tags) for p in alone]
    assert without_confidence == [
        [(s.label, s.start, s.end, s.text, s.value) for s in p.spans] for p in alone
    ]
    for a, b in zip(together, alone, strict=True):  # another batch: another float rounding
        assert [s.confidence for s in a.spans] == pytest.approx([s.confidence for s in b.spans])


def test_a_network_error_in_one_of_several_batches_reaches_the_caller_and_stops_the_rest(
    tiny_model_dir, tiny_examples
) -> None:
    """predict() of several batches runs the network in a second thread: an error there is the
    caller's, the batches not yet begun never run, and no thread is left behind."""
    import threading
    import time

    predictor = Predictor.from_dir(tiny_model_dir)
    real, calls = predictor.network, []

    class BreaksOnTheSecondBatch:
        token_inputs = real.token_inputs
        follows_weights = real.follows_weights

        def emissions(self, batch):
            calls.append(batch)
            time.sleep(0.05)  # slower than decoding a batch: the first error stops the rest
            if len(calls) == 2:
                raise RuntimeError("the network broke")
            return real.emissions(batch)

    predictor.network = BreaksOnTheSecondBatch()
    texts = ([e.text for e in tiny_examples] * 4)[:40]
    assert len(predictor._prepare(texts, 4).batches) == 10
    with pytest.raises(RuntimeError, match="the network broke"):
        predictor.predict(texts, batch_size=4)
    assert len(calls) <= 3
    assert not [t for t in threading.enumerate() if t.name.startswith("slot-tagger-network")]
