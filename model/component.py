"""The spaCy pipeline component: ``nlp.add_pipe("slot_tagger")`` puts slots in ``doc.ents``.

Registered through the ``spacy_factories`` entry point, so no import is needed::

    nlp = spacy.blank("en")
    nlp.add_pipe("slot_tagger", config={"reference_date": "2026-11-23"})  # or "timezone"
    doc = nlp("leave Beijing on November 2nd")
    [(e.text, e.label_, e._.slot_value) for e in doc.ents]

Spans go to ``doc.ents`` and ``doc.spans["slots"]``; each has ``span._.slot_value`` (the normalized
value or None) and ``span._.slot_confidence``. ``nlp.pipe(texts, batch_size=...)`` tags each batch
in one forward pass. A doc that is not English gets no spans, and ``doc._.slot_refused`` says why
(None for a doc that was tagged). Without a ``reference_date``, dates are read against today in
``timezone`` (UTC by default, as in the API and the CLI; never the machine's local date).

Dialogue context: set ``doc._.context`` to the conversation's earlier turns (a list of strings,
oldest first, or one string) before the component runs, and it decides roles the text alone
cannot::

    doc = nlp.make_doc("Boston.")
    doc._.context = ["Where will you be flying from?"]
    doc = nlp.get_pipe("slot_tagger")(doc)  # Boston: departure
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

from spacy.language import Language
from spacy.tokens import Doc
from spacy.tokens import Span as SpacySpan
from spacy.util import minibatch

from model.predictor import Prediction, Predictor
from model.values.dates import DEFAULT_TIMEZONE, Today

SPANS_KEY = "slots"
for _name in ("slot_value", "slot_confidence"):
    if not SpacySpan.has_extension(_name):
        SpacySpan.set_extension(_name, default=None)
for _name in ("slot_refused", "context"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


class SlotTagger:
    """Tags whole docs with a :class:`Predictor`.

    Args:
        predictor: the loaded model.
        batch_size: docs per forward pass in ``pipe`` when spaCy gives none.
        reference_date: the day dates are read against: a date, or ``Today(timezone)``, read
            for each batch.
    """

    def __init__(self, predictor: Predictor, batch_size: int, reference_date: date | Today) -> None:
        self.predictor = predictor
        self.batch_size = batch_size
        self.reference_date = reference_date

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size or self.batch_size):
            texts = [d.text for d in batch]
            contexts = [d._.context for d in batch]
            predictions = self.predictor.predict(
                texts, reference_date=self.reference_date, contexts=contexts
            )
            for doc, prediction in zip(batch, predictions, strict=True):
                yield self._annotate(doc, prediction)

    @staticmethod
    def _annotate(doc: Doc, prediction: Prediction) -> Doc:
        spans = []
        for slot in prediction.spans:
            span = doc.char_span(slot.start, slot.end, label=slot.label, alignment_mode="expand")
            if span is None:
                continue
            span._.slot_value = slot.value
            span._.slot_confidence = slot.confidence
            spans.append(span)
        doc.ents = spans
        doc.spans[SPANS_KEY] = spans
        doc._.slot_refused = prediction.refused.reason if prediction.refused else None
        return doc


@Language.factory(
    "slot_tagger",
    default_config={
        "model_dir": None,
        "batch_size": 64,
        "reference_date": None,
        "timezone": DEFAULT_TIMEZONE,
    },
)
def make_slot_tagger(
    nlp: Language,
    name: str,
    model_dir: str | None,
    batch_size: int,
    reference_date: str | None,
    timezone: str,
) -> SlotTagger:
    """spaCy factory: ``model_dir`` None is the shipped model; ``reference_date`` is ISO, or None
    for today in ``timezone`` (an IANA name)."""
    reference = date.fromisoformat(reference_date) if reference_date else Today(timezone)
    return SlotTagger(Predictor.from_dir(model_dir), batch_size, reference)
