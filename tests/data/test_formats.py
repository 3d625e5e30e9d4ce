import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.example import Example, GoldSpan
from data.formats import DataFormatError, parse_markup, read_examples, to_markup, write_jsonl


@st.composite
def examples(draw) -> Example:
    text = draw(st.text(min_size=1, max_size=40))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=6)))
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        if start < end and text[start:end].strip():
            spans.append(GoldSpan(start=start, end=end, label=draw(st.sampled_from(["date", "x"]))))
    return Example(text=text, spans=spans)


@given(st.lists(examples(), max_size=5))
def test_jsonl_written_and_read_back_is_equal(tmp_path_factory, items) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "data.jsonl"
    assert write_jsonl(items, path) == len(items)
    assert read_examples(path) == items


def test_jsonl_is_the_documented_shape(tmp_path) -> None:
    path = tmp_path / "a.jsonl"
    write_jsonl([parse_markup("leave [dep Beijing] on [date November 2nd]")], path)
    assert json.loads(path.read_text()) == {
        "text": "leave Beijing on November 2nd",
        "spans": [
            {"start": 6, "end": 13, "label": "departure"},
            {"start": 17, "end": 29, "label": "date"},
        ],
    }


def test_bad_jsonl_line_names_file_and_line(tmp_path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"text": "ok", "spans": []}\n{"text": "abc", "spans": [{"start": 2, "end": 9, '
        '"label": "date"}]}\n'
    )
    with pytest.raises(DataFormatError, match=rf"^{path}:2: .*expected 0 <= start < end <= 3"):
        read_examples(path)


def test_conll_reads_sentences_separated_by_blank_lines(tmp_path) -> None:
    path = tmp_path / "a.conll"
    path.write_text("leave\tO\nNew\tB-departure\nYork\tI-departure\n\nthanks\tO\n")
    first, second = read_examples(path)
    assert first.text == "leave New York" and first.span_texts() == [("departure", "New York")]
    assert second == Example(text="thanks", spans=[])


def test_conll_with_a_bad_tag_names_the_line(tmp_path) -> None:
    path = tmp_path / "a.conll"
    path.write_text("leave\tO\nBoston\tdeparture\n")
    with pytest.raises(DataFormatError, match=rf"^{path}:2: expected 'token<TAB>tag'"):
        read_examples(path)


def test_markup_round_trips() -> None:
    line = "fly to [destination St. Louis] on [date the 5th of May]"
    example = parse_markup(line)
    assert example.span_texts() == [("destination", "St. Louis"), ("date", "the 5th of May")]
    assert to_markup(example) == line


def test_hand_written_sets_parse_and_are_large_enough() -> None:
    dev, test = read_examples("data/dev.txt"), read_examples("data/test.txt")
    assert len(dev) >= 500 and len(test) >= 300
    assert not {e.text for e in dev} & {e.text for e in test}
    labels = {s.label for e in dev + test for s in e.spans}
    assert labels == {"departure", "destination", "date"}


def test_no_hand_written_span_starts_or_ends_with_a_preposition_or_space() -> None:
    for example in read_examples("data/dev.txt") + read_examples("data/test.txt"):
        for label, text in example.span_texts():
            words = text.lower().split()
            assert text == text.strip(), (label, text)
            assert words[0] not in {"on", "from", "to", "by", "for", "at"}, example.text
