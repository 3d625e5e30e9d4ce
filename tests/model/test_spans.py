import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.crf import CRF, allowed_transitions
from model.decode import FastDecoder
from model.predictor import Predictor
from model.spans import Span, allowed_tags, from_bio, to_bio, token_limits
from model.tokenize import tokenize
from tests.clean_spans import assert_clean

TEXT = "fly from New York to St. Louis on November 2nd"


def test_spans_round_trip_through_bio() -> None:
    tokens = tokenize(TEXT)
    spans = [(9, 17, "departure"), (21, 30, "destination"), (34, 46, "date")]
    tags, expanded = to_bio(tokens, spans)
    assert expanded == 0
    assert tags == [
        "O",
        "O",
        "B-departure",
        "I-departure",
        "O",
        "B-destination",
        "I-destination",
        "O",
        "B-date",
        "I-date",
    ]
    back = from_bio(TEXT, tokens, tags)
    assert [(s.start, s.end, s.label) for s in back] == spans
    assert [s.text for s in back] == ["New York", "St. Louis", "November 2nd"]


@given(st.lists(st.sampled_from(["O", "B-a", "I-a", "B-b", "I-b"]), min_size=10, max_size=10))
def test_any_tag_sequence_reads_as_non_overlapping_spans_that_survive_a_round_trip(tags) -> None:
    tokens = tokenize(TEXT)
    spans = from_bio(TEXT, tokens, tags)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    again, expanded = to_bio(tokens, [(s.start, s.end, s.label) for s in spans])
    assert expanded == 0
    assert from_bio(TEXT, tokens, again) == spans


def test_misaligned_span_expands_to_covering_tokens_and_is_counted() -> None:
    tokens = tokenize("to Bostonian now")
    tags, expanded = to_bio(tokens, [(3, 9, "destination")])
    assert tags == ["O", "B-destination", "O"]
    assert expanded == 1


def test_overlapping_spans_are_refused() -> None:
    with pytest.raises(ValueError, match="overlaps another span"):
        to_bio(tokenize(TEXT), [(9, 17, "departure"), (13, 17, "destination")])


def test_span_confidence_is_the_lowest_token_score() -> None:
    tokens = tokenize("to New York")
    [span] = from_bio("to New York", tokens, ["O", "B-x", "I-x"], [0.9, 0.8, 0.6])
    assert span == Span("x", 3, 11, "New York", 0.6)


# ----- clean spans by construction: the tokenizer's limits, the decoder's allowed tags -----


CLEAN_TAGS = ["O", "B-departure", "I-departure", "B-date", "I-date"]
# Text made of what makes spans dirty: sentence ends, line breaks, joiners, emoji and emoticons.
_PIECES = st.sampled_from(
    ["Denver", "st.", "D.C.", "new", "york", "5th", "to", ".", "!", "?", "...", ";", ",", "-",
     "&", "'", "/", ":)", "😀", "(", ")", '"', "\n", "\r\n", " ", " ", " ", "", "—", "LAX.",
     "5.", "Then", " - ", "Lyon"]
)  # fmt: skip
DIRTY_TEXT = st.one_of(st.text(), st.lists(_PIECES, max_size=30).map("".join))


@given(DIRTY_TEXT, st.integers(0, 2**32 - 1))
def test_no_decoded_span_crosses_a_sentence_or_a_line_or_has_punctuation_at_its_edges(
    text: str, seed: int
) -> None:
    tokens = tokenize(text)
    if not tokens:
        return
    allowed, start = allowed_transitions(CLEAN_TAGS)
    crf = CRF(len(CLEAN_TAGS), allowed, start)
    # Emissions that want spans everywhere: the worst case for the limits.
    emissions = np.random.default_rng(seed).normal(size=(1, len(tokens), len(CLEAN_TAGS))) * 4
    emissions[..., 0] -= 6.0
    may = allowed_tags(token_limits(text, tokens), CLEAN_TAGS)[None]  # (1, T, K)
    [path], [scores] = FastDecoder(crf).decode(emissions, [len(tokens)], may)
    assert all(may[0, t, k] for t, k in enumerate(path))
    assert_clean(text, from_bio(text, tokens, [CLEAN_TAGS[k] for k in path], scores))


@given(DIRTY_TEXT)
def test_the_trained_tagger_never_returns_a_dirty_span(predictor: Predictor, text: str) -> None:
    [prediction] = predictor.predict([text])
    assert_clean(text, prediction.spans)


def test_a_span_stops_at_a_sentence_end_and_a_line_break() -> None:
    text = "to Denver. Could\nyou, go"
    tokens = tokenize(text)
    assert token_limits(text, tokens) == [0, 0, 3, 0, 2, 1, 0]
    allowed, start = allowed_transitions(CLEAN_TAGS)
    crf = CRF(len(CLEAN_TAGS), allowed, start)
    emissions = np.zeros((1, len(tokens), len(CLEAN_TAGS)))
    emissions[0, :, 1] = 5.0  # B-departure everywhere
    emissions[0, :, 2] = 10.0  # and I-departure, where it could
    may = allowed_tags(token_limits(text, tokens), CLEAN_TAGS)[None]
    [path], _ = FastDecoder(crf).decode(emissions, [len(tokens)], may)
    spans = from_bio(text, tokens, [CLEAN_TAGS[k] for k in path])
    assert [s.text for s in spans] == ["to Denver", "Could", "you, go"]


def test_a_joiner_at_a_span_edge_is_left_out() -> None:
    text = "to Cancun, March 10"
    tokens = tokenize(text)
    tags = ["O", "B-x", "I-x", "B-y", "I-y"]
    assert [s.text for s in from_bio(text, tokens, tags)] == ["Cancun", "March 10"]
    text = "Portland, OR"
    assert [s.text for s in from_bio(text, tokenize(text), ["B-x", "I-x", "I-x"])] == [text]


def test_a_spans_confidence_is_that_of_the_tokens_it_keeps() -> None:
    text = "to Cancun, now"
    tokens = tokenize(text)
    [span] = from_bio(text, tokens, ["O", "B-x", "I-x", "O"], [1.0, 0.9, 0.3, 1.0])
    assert (span.text, span.confidence) == ("Cancun", 0.9)


def test_a_dash_or_slash_with_a_space_beside_it_ends_a_span() -> None:
    for text in ("Lyon - Paris", "LAX / SFO"):
        assert token_limits(text, tokenize(text)) == [0, 3, 0]
    assert token_limits("Wilkes-Barre", tokenize("Wilkes-Barre")) == [0, 1, 0]


def test_the_decoder_refuses_a_mask_that_leaves_no_path() -> None:
    allowed, start = allowed_transitions(CLEAN_TAGS)
    decoder = FastDecoder(CRF(len(CLEAN_TAGS), allowed, start))
    emissions = np.zeros((1, 2, len(CLEAN_TAGS)))
    with pytest.raises(ValueError, match="tag 0 allowed everywhere"):
        decoder.decode(emissions, [2], np.zeros((1, 2, len(CLEAN_TAGS)), dtype=bool))


def test_a_contractions_second_half_never_starts_a_span() -> None:
    # "it's friday": the decoder gave "'s friday" as a date before this rule.
    text = "so it's friday, it isn't"
    tokens = tokenize(text)
    assert [t.text for t in tokens] == ["so", "it", "'s", "friday", ",", "it", "is", "n't"]
    assert token_limits(text, tokens) == [0, 0, 1, 0, 1, 0, 0, 1]
    text = "St. John's"
    assert token_limits(text, tokenize(text)) == [0, 0, 1]  # inside a name, it may continue one
