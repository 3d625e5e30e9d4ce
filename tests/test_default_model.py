"""The shipped default model, on what it must get right."""

import json
from pathlib import Path

import pytest

from data.formats import read_examples
from model.predictor import Prediction, Predictor
from training.evaluate import evaluate


@pytest.fixture(scope="module")
def default() -> Predictor:
    return Predictor.from_dir()


def spans(predictor: Predictor, text: str) -> list[tuple[str, str]]:
    [prediction] = predictor.predict([text])
    return [(s.label, s.text) for s in prediction.spans]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arrive Beijing on November 2nd", [("destination", "Beijing"), ("date", "November 2nd")]),
        ("leave Beijing on November 2nd", [("departure", "Beijing"), ("date", "November 2nd")]),
        (
            "i want to leave beijing on november second",
            [("departure", "beijing"), ("date", "november second")],
        ),
        (
            "i want to arrive in beijing on november second",
            [("destination", "beijing"), ("date", "november second")],
        ),
        (
            "i need a flight from boston to denver next monday",
            [("departure", "boston"), ("destination", "denver"), ("date", "next monday")],
        ),
        (
            "Flights from Portland, OR to Newark on 11/02",
            [("departure", "Portland, OR"), ("destination", "Newark"), ("date", "11/02")],
        ),
        (
            "to boston from st. louis on the 5th of may",
            [("destination", "boston"), ("departure", "st. louis"), ("date", "the 5th of may")],
        ),
        ("what is the cheapest fare", []),
        ("is there a flight at 5 pm", []),
    ],
)
def test_mission_sentences(default: Predictor, text: str, expected) -> None:
    assert spans(default, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # none of these cities is in the generator's training split (see data/place_names.py)
        (
            "i want to fly from kyoto to lima on friday",
            [("departure", "kyoto"), ("destination", "lima"), ("date", "friday")],
        ),
        (
            "Book me a bus from Scottsdale to Irvine tomorrow.",
            [("departure", "Scottsdale"), ("destination", "Irvine"), ("date", "tomorrow")],
        ),
        ("leave Busan on March 3rd", [("departure", "Busan"), ("date", "March 3rd")]),
        ("arrive Busan on March 3rd", [("destination", "Busan"), ("date", "March 3rd")]),
    ],
)
def test_cities_absent_from_training(default: Predictor, text: str, expected) -> None:
    from data.place_names import is_heldout

    for label, place in expected:
        if label != "date":
            assert is_heldout(place), place
    assert spans(default, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I need a hotel to stay in", []),
        ("just looking for information, I forgot to tell you something", []),
        ("can we book a table for lunch on Sunday at noon?", []),
        ("fly to Denver. Could you check prices", [("destination", "Denver")]),
        ("fly out of miami\nneed it cheap", [("departure", "miami")]),
        ("What about Lyon?", [("destination", "Lyon")]),
        ("a five day trip to Rome", [("destination", "Rome")]),
        (
            "boston to denver june 3-9",
            [("departure", "boston"), ("destination", "denver"), ("date", "june 3"), ("date", "9")],
        ),
    ],
)
def test_conversation_sentences(default: Predictor, text: str, expected) -> None:
    assert spans(default, text) == expected


@pytest.mark.parametrize(
    ("context", "text", "expected"),
    [
        (["Where will you be flying from?"], "Boston.", [("departure", "Boston")]),
        (["I need a flight to Denver.", "Sure. Where are you departing from?"], "It's Tucson.",
         [("departure", "Tucson")]),
        (["And where are you headed?"], "Boston.", [("destination", "Boston")]),
        (["Leaving from Boston, right?"], "No, Providence.", [("departure", "Providence")]),
        (["Leaving from Boston, right?"], "Yes", []),
        (["What day would you like to travel?"], "The 5th.", [("date", "The 5th")]),
        (["Where to?"], "from Leeds to York", [("departure", "Leeds"), ("destination", "York")]),
        ([], "Boston.", [("destination", "Boston")]),
    ],
)  # fmt: skip
def test_the_question_before_an_answer_decides_its_role(
    default: Predictor, context: list[str], text: str, expected
) -> None:
    [prediction] = default.predict([text], contexts=[context])
    assert [(s.label, s.text) for s in prediction.spans] == expected


def test_dialogue_dev_set_floor(default: Predictor) -> None:
    """With context the model reads the role off the question (README has the figures)."""
    report = evaluate(default, read_examples("data/dialog_dev.jsonl"))
    assert report.micro.f1 >= 0.88 and report.micro.precision >= 0.88


def test_text_in_another_language_gets_no_spans_and_says_why(default: Predictor) -> None:
    [prediction] = default.predict(["quiero ir de Madrid a Barcelona mañana"])
    assert prediction.spans == [] and prediction.refused is not None


def test_conversation_dev_set_floor(default: Predictor) -> None:
    """A floor under the measured numbers (README), so a regression shows; not the target."""
    report = evaluate(default, read_examples("data/conv_dev.txt"))
    assert report.micro.f1 >= 0.88 and report.micro.precision >= 0.88


def test_hand_written_dev_set_floor(default: Predictor) -> None:
    report = evaluate(default, read_examples("data/dev.txt"))
    assert report.micro.f1 >= 0.95
    for label in ("departure", "destination", "date"):
        assert report.labels[label].f1 >= 0.93, label


def test_served_model_answers_the_dev_and_test_sets_exactly_as_eager_torch(
    default: Predictor,
) -> None:
    """The service runs the saved ONNX graph without torch; every tag, span and value it answers
    must be eager torch's, on the hand-written and conversation sets, and every confidence the
    same to 1e-6 (ONNX Runtime's kernels round differently: about 1 span in 3,000 lands on the
    other side of the 4th decimal the API writes, by 0.0001)."""
    sets = ("data/dev.txt", "data/test.txt", "data/conv_dev.txt")
    texts = [e.text for path in sets for e in read_examples(path)]
    assert default.backend == "onnx" and default.tagger is None and default.loaded.graph
    eager = Predictor.from_dir(backend="torch")
    served, expected = default.predict(texts), eager.predict(texts)

    def answer(p: Prediction) -> tuple:
        spans = [(s.label, s.start, s.end, s.text, s.value) for s in p.spans]
        return p.text, [(t.start, t.end) for t in p.tokens], p.tags, spans, p.refused

    assert [answer(p) for p in served] == [answer(p) for p in expected]
    pairs = [
        (x.confidence, y.confidence)
        for a, b in zip(served, expected, strict=True)
        for x, y in zip(a.spans, b.spans, strict=True)
    ]
    assert len(pairs) > 2500
    assert max(abs(x - y) for x, y in pairs) < 1e-6
    written = [(x, y) for x, y in pairs if round(x, 4) != round(y, 4)]
    assert all(abs(round(x, 4) - round(y, 4)) < 1.5e-4 for x, y in written)
    assert len(written) <= 3


def test_default_model_is_small_and_labelled(default: Predictor) -> None:
    assert default.labels == ["date", "departure", "destination"]
    size = sum(f.stat().st_size for f in default.loaded.path.iterdir())
    assert size < 7_000_000 * default.loaded.config.members  # an ensemble: each network's weights
    # The graph points at the weights instead of copying them: tens of kB, not megabytes.
    graph_files = ("graph.json", "token_inputs.onnx", "contextual.onnx")
    assert sum((default.loaded.path / f).stat().st_size for f in graph_files) < 100_000


def test_the_documented_command_regenerates_the_default_models_training_data() -> None:
    """`make train-default` must rebuild this model: its training data must come back the same."""
    from data.generate import generate
    from model import artifact
    from training.train import data_sha256

    meta = artifact.read_meta(artifact.DEFAULT_MODEL_DIR)
    assert data_sha256(list(generate(0, 40_000))) == meta.train_data_sha256


def test_the_shipped_model_records_the_version_its_files_give_and_readme_quotes_it() -> None:
    """The version covers weights, config, vocabularies, lexicon and calibration (a model
    retrained or recalibrated by an older release records the weights' hash alone: rewrite it)."""
    import json
    from pathlib import Path

    from model import artifact

    recorded = json.loads((artifact.DEFAULT_MODEL_DIR / "meta.json").read_text())["version"]
    assert artifact.load(artifact.DEFAULT_MODEL_DIR).meta.version == recorded
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert f"Default model `slot-tagger-default` {recorded}" in readme


def test_served_without_torch_it_answers_exactly_what_the_torch_network_does(default) -> None:
    """The ONNX graph the image serves and the eager torch tagger it was exported from give the
    same answers, as a client sees them (tags, spans, values), on every sentence of the dev and
    test sets, with confidences equal to within float error: the two runtimes sum in different
    orders, so a confidence a few 1e-9 from a rounding boundary (0.99125) may round to the other
    side of it in the JSON's 4 decimals."""
    from model import artifact
    from tests.served_answers import without_confidences

    texts = [e.text for f in ("data/dev.txt", "data/test.txt") for e in read_examples(f)]
    eager = Predictor(artifact.load(artifact.DEFAULT_MODEL_DIR), backend="torch")
    served = Predictor(artifact.load(artifact.DEFAULT_MODEL_DIR, with_tagger=False))
    for a, b in zip(eager.predict(texts), served.predict(texts), strict=True):
        assert a.tags == b.tags
        assert without_confidences(a.to_json()) == without_confidences(b.to_json())
        for x, y in zip(a.spans, b.spans, strict=True):
            assert x.confidence == pytest.approx(y.confidence, abs=1e-6)


def test_a_model_saved_before_cells_loads_as_a_bidirectional_lstm(tmp_path: Path) -> None:
    """A config.json from before the choice of cell and direction (the shipped model's, as it was
    saved then) loads as what it was."""
    import shutil

    from torch import nn

    from model import artifact
    from model.artifact import DEFAULT_MODEL_DIR

    old = tmp_path / "old"
    shutil.copytree(DEFAULT_MODEL_DIR, old)
    raw = json.loads((old / "config.json").read_text())
    for key in ("cell", "bidirectional", "tokenizer"):
        del raw[key]
    (old / "config.json").write_text(json.dumps(raw, indent=2))
    meta = json.loads((old / "meta.json").read_text())  # saved so: its version covers this config
    files = {name: (old / name).read_bytes() for name in artifact.ANSWER_FILES}
    meta["version"] = artifact.version_of(files, meta["calibration"])
    (old / "meta.json").write_text(json.dumps(meta))
    loaded = artifact.load(old, graph=False)
    assert (loaded.config.cell, loaded.config.bidirectional) == ("lstm", True)
    networks = loaded.tagger.members or [loaded.tagger]  # an ensemble's, or the one
    assert all(isinstance(n.rnn, nn.LSTM) and n.rnn.bidirectional for n in networks)
    assert loaded.config.tokenizer == "spacy"


def test_served_answers_are_those_recorded_before_the_speed_work(default) -> None:
    """Every answer on the dev and test sets (tags, offsets, spans, values; confidences within
    float error) is the one recorded in tests/served_answers.jsonl.gz, batched and streamed
    alike: speed work changes no answer. `python -m tests.served_answers` records them again,
    after a retrained model or a change meant to alter answers."""
    from tests import served_answers

    version, recorded = served_answers.read()
    assert version == default.meta.version, (
        f"answers recorded for model {version}, serving {default.meta.version}: "
        "record them again with `python -m tests.served_answers`"
    )
    texts, contexts = served_answers.inputs()
    assert texts == [text for text, _, _ in recorded], "the evaluation sets changed: record again"
    batched = served_answers.predictions(default)
    streamed = default.predict_iter(
        texts, batch_size=64, reference_date=served_answers.REFERENCE_DATE, contexts=contexts
    )
    tolerance = served_answers.CONFIDENCE_TOLERANCE
    for (text, expected, confidences), prediction, other in zip(
        recorded, batched, streamed, strict=True
    ):
        for answer in (prediction, other):
            body = answer.to_json()
            assert served_answers.digest(body) == expected, f"answer changed for {text!r}: {body}"
            assert served_answers.confidences(answer) == pytest.approx(confidences, abs=tolerance)
