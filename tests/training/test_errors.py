"""Error classes: each kind of wrong span lands in its own class, by hand-made predictions."""

from data.example import Example, GoldSpan
from model.predictor import Prediction
from model.spans import Span
from training.errors import classify


def predicted(text: str, *spans: tuple[int, int, str]) -> Prediction:
    return Prediction(text, [], [], [Span(label, s, e, text[s:e]) for s, e, label in spans])


def gold(text: str, *spans: tuple[int, int, str]) -> Example:
    return Example(text=text, spans=[GoldSpan(start=s, end=e, label=lb) for s, e, lb in spans])


def kinds(example: Example, prediction: Prediction) -> list[str]:
    return [m.kind for m in classify(example, prediction)]


def test_each_mistake_falls_in_its_class() -> None:
    text = "I need a hotel to stay in"
    assert kinds(gold(text), predicted(text, (18, 22, "destination"))) == ["word made into a place"]
    text = "lunch on Sunday"
    assert kinds(gold(text), predicted(text, (9, 15, "date"))) == ["non-travel date"]
    text = "the Lima deal"
    both = gold(text, (4, 8, "destination"))
    assert kinds(both, predicted(text, (4, 13, "destination"))) == ["swallows a neighbour"]
    text = "What about Lyon?"
    role = gold(text, (11, 15, "destination"))
    assert kinds(role, predicted(text, (11, 15, "departure"))) == ["wrong role"]
    assert kinds(role, predicted(text)) == ["missed place"]
    assert kinds(role, predicted(text, (11, 15, "destination"))) == []


def test_a_span_across_a_sentence_end_and_a_missed_range_half() -> None:
    text = "to Denver. Could you"
    crossing = predicted(text, (3, 16, "destination"))
    assert kinds(gold(text, (3, 9, "destination")), crossing) == ["crosses a sentence or line"]
    text = "june 3-9"
    ranged = gold(text, (0, 6, "date"), (7, 8, "date"))
    assert kinds(ranged, predicted(text, (0, 6, "date"))) == ["range half missed"]


def test_cut_short_missed_date_and_other_overlap() -> None:
    text = "to New York on Friday"
    truth = gold(text, (3, 11, "destination"), (15, 21, "date"))
    assert kinds(truth, predicted(text, (7, 11, "destination"), (15, 21, "date"))) == ["cut short"]
    assert kinds(truth, predicted(text, (3, 11, "destination"))) == ["missed date"]
    text = "from New York City"
    truth = gold(text, (5, 13, "departure"))
    assert kinds(truth, predicted(text, (9, 18, "departure"))) == ["other overlap"]
