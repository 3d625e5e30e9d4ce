import itertools
import re

from data.example import Example, GoldSpan
from data.generate import PlaceSplit, decodable_example, expand, generate
from data.place_names import is_heldout, load_places, split_places
from model.tokenize import tokenize


def test_same_seed_same_examples_other_seed_other_examples() -> None:
    a = list(generate(7, 200))
    assert a == list(generate(7, 200))
    assert a != list(generate(8, 200))


def test_generated_spans_lie_on_token_boundaries() -> None:
    for example in generate(1, 1000):
        edges = {(t.start, t.end) for t in tokenize(example.text)}
        starts, ends = {s for s, _ in edges}, {e for _, e in edges}
        assert all(s.start in starts and s.end in ends for s in example.spans), example


def test_generated_spans_are_clean_by_the_same_rules_as_predicted_ones() -> None:
    from model.spans import Span
    from tests.clean_spans import assert_clean

    for example in generate(2, 1000):
        spans = [
            Span(s.label, s.start, s.end, example.text[s.start : s.end]) for s in example.spans
        ]
        assert_clean(example.text, spans)


def test_turns_join_sentences_other_domains_and_follow_ups() -> None:
    examples = list(generate(0, 3000))
    multi = [e for e in examples if re.search(r"[.!?]\s+\w", e.text) or "\n" in e.text]
    assert len(multi) > 0.15 * len(examples)
    assert sum("\n" in e.text for e in examples) > 0.03 * len(examples)
    texts = " ".join(e.text.lower() for e in examples)
    for cue in ("a table for", "taxi", "to stay", "deal", "refund"):
        assert cue in texts, cue
    # a range is two dates: "june 3-9", "the 4th-12th"
    ranges = [
        e
        for e in examples
        if any(
            a.label == b.label == "date" and e.text[a.end : b.start] in ("-", "–", " to ")
            for a, b in zip(e.spans, e.spans[1:], strict=False)
        )
    ]
    assert len(ranges) > 10


def test_training_split_never_uses_a_held_out_city() -> None:
    train, heldout = split_places()
    heldout_texts = {p.text.lower() for p in heldout} - {p.text.lower() for p in train}
    for example in generate(3, 2000, PlaceSplit.train):
        for label, text in example.span_texts():
            if label != "date":
                assert text.lower() not in heldout_texts, text


def test_places_come_from_the_registries_by_the_thousand_and_split_by_city() -> None:
    places = load_places()
    assert len({p.key for p in places}) > 5000
    assert {"JFK", "O'Hare", "Salt Lake City", "Portland, OR"} <= {p.text for p in places}
    assert all(is_heldout(p.key) == is_heldout(p.key.upper()) for p in places[:100])


def test_corpus_mixes_styles_roles_and_negatives() -> None:
    examples = list(generate(0, 3000))
    lower = sum(e.text == e.text.lower() for e in examples)
    negatives = sum(not e.spans for e in examples)
    assert 0.3 < lower / len(examples) < 0.8
    assert 0.08 < negatives / len(examples) < 0.3
    # the mission's contrast: the same verb frame with each role
    leaves = [e for e in examples if e.text.lower().startswith("leave ") and e.spans]
    arrives = [e for e in examples if e.text.lower().startswith("arrive ") and e.spans]
    assert leaves and arrives
    assert all(e.spans[0].label == "departure" for e in leaves)
    assert all(e.spans[0].label == "destination" for e in arrives)


def test_expand_resolves_alternatives_and_options() -> None:
    import random

    seen = {expand("(a|b)[ c]", random.Random(i)) for i in range(50)}
    assert seen == {"a", "b", "a c", "b c"}
    assert all("(" not in s for s in itertools.islice(seen, 4))


def test_dialogue_answers_take_their_role_from_the_question() -> None:
    from data.generate import Generator

    generator = Generator(1, split_places()[0])
    asks_from = re.compile(r"\b(from|departure|origin|out of|board\w*|start\w*)\b")
    asks_to = re.compile(r"\b(destination|heading|headed|going|arrive)\b|\bto\W*$")
    seen = {"departure": 0, "destination": 0}
    for _ in range(1500):
        example = generator.dialogue()
        assert example.context and all(turn.strip() for turn in example.context)
        places = [s for s in example.spans if s.label != "date"]
        answer = example.text.strip(" .!?").lower()
        if len(places) != 1 or answer != example.text[places[0].start : places[0].end].lower():
            continue  # not a bare answer
        seen[places[0].label] += 1
        question = example.context[-1].lower()
        if asks_from.search(question) and not asks_to.search(question):
            assert places[0].label == "departure", (example.context, example.text)
        if asks_to.search(question) and not asks_from.search(question):
            assert places[0].label == "destination", (example.context, example.text)
    assert seen["departure"] > 20 and seen["destination"] > 20


def test_some_examples_are_dialogue_answers_with_context() -> None:
    examples = list(generate(seed=0, n=1000))
    with_context = [e for e in examples if e.context]
    assert 0.12 < len(with_context) / len(examples) < 0.30


def test_a_gold_span_is_one_the_decoder_can_give_back_exactly() -> None:
    """The generator redraws a span the model could never predict as written: one ending in a
    joiner (the decoder leaves it out) or holding a spaced slash (data/README.md)."""

    def example(text: str, start: int, end: int) -> Example:
        return Example(text=text, spans=[GoldSpan(start=start, end=end, label="destination")])

    assert decodable_example(example("to Homyel today", 3, 9))
    assert not decodable_example(example("to Homyel' today", 3, 10))  # reads back as "Homyel"
    name = "Carrasco International /General Airport"
    assert not decodable_example(example(f"to {name} today", 3, 3 + len(name)))
    assert decodable_example(example("to Wilkes-Barre today", 3, 15))
