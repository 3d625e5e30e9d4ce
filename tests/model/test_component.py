"""The spaCy component end to end: entry point, doc.ents, doc.spans, values, nlp.pipe batching."""

import spacy

from model import component


def make_nlp(model_dir) -> spacy.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "slot_tagger",
        config={"model_dir": str(model_dir), "reference_date": "2026-11-23", "batch_size": 2},
    )
    return nlp


def test_add_pipe_by_name_puts_slots_in_ents_with_values(tiny_model_dir) -> None:
    doc = make_nlp(tiny_model_dir)("leave Beijing on November 2nd")
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("Beijing", "departure"),
        ("November 2nd", "date"),
    ]
    assert [(s.text, s.label_) for s in doc.spans["slots"]] == [
        (e.text, e.label_) for e in doc.ents
    ]
    beijing, when = doc.ents
    assert beijing._.slot_value["iata"] == ["PEK", "PKX", "NAY"]
    assert when._.slot_value == {"type": "date", "date": "2027-11-02", "grain": "day"}
    assert 0.0 <= when._.slot_confidence <= 1.0


def test_pipe_batches_and_keeps_order(tiny_model_dir, monkeypatch) -> None:
    nlp = make_nlp(tiny_model_dir)
    calls = []
    tagger = nlp.get_pipe("slot_tagger")
    original = tagger.predictor.predict
    monkeypatch.setattr(
        tagger.predictor,
        "predict",
        lambda texts, **kw: calls.append(len(texts)) or original(texts, **kw),
    )
    texts = ["from Miami to Atlanta", "thank you", "arrive Boston on Monday"]
    docs = list(nlp.pipe(texts, batch_size=2))
    assert calls == [2, 1]
    assert [d.text for d in docs] == texts
    assert [[e.label_ for e in d.ents] for d in docs] == [
        ["departure", "destination"],
        [],
        ["destination", "date"],
    ]


def test_factory_is_registered_through_the_entry_point() -> None:
    assert "slot_tagger" in spacy.registry.factories.get_all()
    assert component.SPANS_KEY == "slots"


def test_a_doc_in_another_language_gets_no_ents_and_the_reason(tiny_model_dir) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("slot_tagger", config={"model_dir": str(tiny_model_dir)})
    spanish, english = nlp.pipe(["quiero ir de Madrid a Barcelona mañana", "from Miami to Atlanta"])
    assert list(spanish.ents) == [] and "English only" in spanish._.slot_refused
    assert english._.slot_refused is None and english.ents


def test_doc_context_decides_the_role_of_a_bare_answer(context_model_dir) -> None:
    nlp = make_nlp(context_model_dir)
    tagger = nlp.get_pipe("slot_tagger")
    roles = []
    for question in ("where are you flying from?", "and where to?"):
        doc = nlp.make_doc("Denver.")
        doc._.context = [question]
        roles.append([(e.text, e.label_) for e in tagger(doc).ents])
    assert roles == [[("Denver", "departure")], [("Denver", "destination")]]
    assert nlp("Denver.")._.context is None  # no context: the text alone
