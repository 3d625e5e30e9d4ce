from data.example import Example, GoldSpan
from model.predictor import Prediction
from model.spans import Span
from training.evaluate import Confusion, Report, score


def example(text: str, *spans: tuple[int, int, str]) -> Example:
    return Example(
        text=text, spans=[GoldSpan(start=s, end=e, label=label) for s, e, label in spans]
    )


def prediction(text: str, *spans: tuple[int, int, str]) -> Prediction:
    return Prediction(text, [], [], [Span(label, s, e, text[s:e]) for s, e, label in spans])


def test_only_exact_character_spans_count() -> None:
    text = "from New York on Monday"
    gold = [example(text, (5, 13, "departure"), (17, 23, "date"))]
    exact = score(gold, [prediction(text, (5, 13, "departure"), (17, 23, "date"))])
    assert exact.micro.f1 == 1.0
    off_by_one = score(gold, [prediction(text, (5, 9, "departure"), (14, 23, "date"))])
    assert off_by_one.micro.f1 == 0.0
    wrong_label = score(gold, [prediction(text, (5, 13, "destination"), (17, 23, "date"))])
    assert wrong_label.labels["date"].f1 == 1.0
    assert wrong_label.labels["departure"].recall == 0.0
    assert wrong_label.labels["destination"].precision == 0.0
    assert wrong_label.micro.precision == 0.5 and wrong_label.micro.recall == 0.5


def test_report_json_has_the_documented_shape() -> None:
    text = "to Paris"
    report = score(
        [example(text, (3, 8, "destination"))], [prediction(text, (3, 8, "destination"))]
    )
    assert report.to_json() == {
        "sentences": 1,
        "micro": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1},
        "labels": {"destination": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}},
        "confusions": [],
    }
    assert "micro avg" in report.render()


def test_adjacent_spans_of_one_label_stay_two_spans() -> None:
    text = "monday tuesday"
    gold = [example(text, (0, 6, "date"), (7, 14, "date"))]
    merged = score(gold, [prediction(text, (0, 14, "date"))])
    assert merged.micro.f1 == 0.0


def test_labels_come_most_frequent_first_in_the_table_and_the_json() -> None:
    text = "from boston to denver on monday and tuesday"
    gold = [
        example(
            text,
            (5, 11, "fromloc.city_name"),
            (15, 21, "toloc.city_name"),
            (25, 31, "depart_date.day_name"),
            (36, 43, "depart_date.day_name"),
        )
    ]
    report = score(gold, [prediction(text, (5, 11, "fromloc.city_name"))])
    assert list(report.to_json()["labels"]) == [
        "depart_date.day_name",
        "fromloc.city_name",
        "toloc.city_name",
    ]
    rows = [line.split()[0] for line in report.render().splitlines()[1:4]]
    assert rows == ["depart_date.day_name", "fromloc.city_name", "toloc.city_name"]


def test_mix_ups_count_wrong_labels_missed_and_made_up_spans() -> None:
    text = "from boston to denver at 6pm"
    gold = [example(text, (5, 11, "fromloc.city_name"), (15, 21, "toloc.city_name"))] * 3
    predictions = [
        prediction(text, (5, 11, "toloc.city_name"), (15, 21, "fromloc.city_name")),
        prediction(text, (5, 11, "toloc.city_name"), (25, 28, "depart_time.time")),
        # the right label with the wrong edges is no mix-up
        prediction(text, (0, 11, "fromloc.city_name"), (15, 21, "toloc.city_name")),
    ]
    report = score(gold, predictions)
    assert report.confusions == (
        Confusion("fromloc.city_name", "toloc.city_name", 2),
        Confusion("O", "depart_time.time", 1),
        Confusion("toloc.city_name", "O", 1),
        Confusion("toloc.city_name", "fromloc.city_name", 1),
    )
    assert report.to_json()["confusions"][0] == {
        "gold": "fromloc.city_name",
        "predicted": "toloc.city_name",
        "spans": 2,
    }
    table = report.render().split("most frequent mix-ups")[1].splitlines()
    assert table[2].split() == ["fromloc.city_name", "toloc.city_name", "2"]
    assert Report.from_json(report.to_json()).confusions == report.confusions
