import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.spans import Span, from_bio, to_bio
from model.tokenize import tokenize

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
