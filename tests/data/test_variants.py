from data.example import Example, GoldSpan
from data.formats import read_examples
from data.generate import decodable_example
from data.place_names import split_places
from data.variants import PLACE_LABELS, with_heldout_places
from model.tokenize import tokenize


def test_heldout_places_follow_the_label_conventions():
    # Registry names such as "Diamond Head / Kapahulu / Saint Louis Heights" or "Augusto C.
    # Sandino (Managua) International Airport" cannot be one span (a spaced slash or a bracket
    # separates names): the held-out set must not ask for them.
    examples = [
        e for e in read_examples("data/test.txt") if any(s.label in PLACE_LABELS for s in e.spans)
    ]
    rewritten = with_heldout_places(examples, seed=0)
    assert len(rewritten) == len(examples)
    assert all(decodable_example(e) for e in rewritten)
    assert not any(" / " in e.text or "(" in e.text for e in rewritten)


def test_heldout_places_come_from_the_heldout_split():
    _, heldout = split_places()
    names = {p.text.lower() for p in heldout}
    example = Example(
        text="fly from Boston to Denver",
        spans=[
            GoldSpan(start=9, end=15, label="departure"),
            GoldSpan(start=19, end=25, label="destination"),
        ],
    )
    for seed in range(5):
        (rewritten,) = with_heldout_places([example], seed)
        for span in rewritten.spans:
            assert rewritten.text[span.start : span.end].lower() in names
        assert rewritten.text.startswith("fly from ")
        assert tokenize(rewritten.text)
