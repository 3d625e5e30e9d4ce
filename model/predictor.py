"""Predictor: text in, tokens, tags and labelled spans out; batches and streams."""

from __future__ import annotations

import copy
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from model import artifact, runtime
from model import graph as graphs
from model.artifact import Calibration, LoadedModel, ModelMeta
from model.context import Context, as_turns, context_prefix
from model.decode import FastDecoder
from model.encode import Batch, Encoder
from model.language import detect
from model.language import preload as preload_language_identifier
from model.runtime import DEFAULT_BACKEND, Backend
from model.spans import OUTSIDE_ONLY, Span, allowed_tags, from_bio, to_bio, token_limits
from model.tokenize import TOKENIZERS, Token
from model.values.dates import DatePolicy, Today, load_dateparser
from model.values.places import PlaceIndex
from model.values.resolve import resolve_values

DEFAULT_BATCH_SIZE = 128
# Tokens per forward pass (sentences x the longest's tokens): the network's memory grows with it,
# and ONNX Runtime keeps what it once allocated; a batch of 64 texts of 2,000 emoji took 1 GB.
# Sentences of ordinary length (128 of 60 tokens) are far under it.
MAX_BATCH_TOKENS = 4096


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a text was not tagged: it is not English (see :func:`model.language.detect`)."""

    reason: str
    language: str
    confidence: float

    def to_json(self) -> dict[str, str | float]:
        """The ``refused`` object of the API and the CLI."""
        return {
            "reason": self.reason,
            "language": self.language,
            "confidence": round(self.confidence, 4),
        }


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the tagger says about one text (``refused``: why it has no spans, if it was not
    tagged at all)."""

    text: str
    tokens: list[Token]
    tags: list[str]
    spans: list[Span]
    refused: Refusal | None = None

    def to_json(self, min_confidence: float = 0.0, compact: bool = False) -> dict[str, Any]:
        """The prediction as the API (a ``TagResponse`` without its ``model``) and the CLI write it.

        Args:
            min_confidence: leave out spans below this (their tokens keep their tags).
            compact: the CLI's line: no tokens, and ``refused`` only for a text not tagged.
        """
        out: dict[str, Any] = {"text": self.text}
        if not compact:
            out["tokens"] = [
                {"text": t.text, "start": t.start, "end": t.end, "tag": tag}
                for t, tag in zip(self.tokens, self.tags, strict=True)
            ]
        out["spans"] = [s.to_json() for s in self.spans if s.confidence >= min_confidence]
        if not compact or self.refused is not None:
            out["refused"] = self.refused.to_json() if self.refused is not None else None
        return out


class Predictor:
    """Tags texts with a loaded model. Thread-safe for concurrent ``predict`` calls.

    Args:
        loaded: a model from :func:`model.artifact.load`.
        places: the place table for place values (None: places get no value).
        date_policy: how dates without a year or weekday phrases are read.
        backend: what runs the network (:func:`model.runtime.network`): "onnx" (ONNX Runtime on
            a copy exported now: the same tags and spans, several times faster per call) or
            "torch" (eager; follows the tagger's weights as they change, so training uses it).
        threads: ONNX Runtime's threads (torch's are set with ``torch.set_num_threads``).
        english_only: give text that is confidently not English no spans, and say why
            (``Prediction.refused``), instead of tagging it: the model reads English only.
        calibration: the temperature and confidence floor (None: the model's own, stored by
            ``slot-tagger calibrate``; a calibrated model drops the spans it thinks more likely
            wrong than right).
    """

    def __init__(
        self,
        loaded: LoadedModel,
        places: PlaceIndex | None = None,
        date_policy: DatePolicy = DatePolicy(),
        backend: Backend = DEFAULT_BACKEND,
        threads: int = 1,
        english_only: bool = True,
        calibration: Calibration | None = None,
    ) -> None:
        self.loaded = loaded
        self.tagger = loaded.tagger.eval() if loaded.tagger is not None else None
        self.vocabs = loaded.vocabs
        self.places = places
        self.date_policy = date_policy
        self.backend = backend
        self.english_only = english_only
        self.network = runtime.network(self.tagger, backend, threads, loaded.graph)
        self.encoder = Encoder(
            self.vocabs, loaded.config.max_word_chars, token_inputs=self.network.token_inputs
        )
        self._calibrate(calibration or Calibration.of(loaded.meta.calibration))

    def _calibrate(self, calibration: Calibration) -> None:
        self._calibration = calibration
        # The decoder copies the CRF's scores. A network that follows the tagger's weights gets
        # one per call (about 40 µs): training scores this predictor between epochs while they
        # change. An exported copy of the network never changes, so its decoder is made once.
        crf = self.loaded.crf if self.tagger is None else self.tagger.crf
        assert crf is not None, "a model loaded without its tagger has its CRF's scores"
        self._decoder = (
            None if self.network.follows_weights else FastDecoder(crf, calibration.temperature)
        )

    @classmethod
    def from_dir(
        cls,
        model_dir: str | Path | None = None,
        date_policy: DatePolicy = DatePolicy(),
        backend: Backend = DEFAULT_BACKEND,
        threads: int = 1,
        english_only: bool = True,
    ) -> Predictor:
        """Load the model at ``model_dir`` (the shipped default model when None) and the places,
        ready to serve (see :func:`load_model`)."""
        loaded = load_model(model_dir, backend)
        return cls(loaded, PlaceIndex.load(), date_policy, backend, threads, english_only)

    def with_calibration(self, calibration: Calibration) -> Predictor:
        """This predictor with another temperature and confidence floor: a new predictor sharing
        the network (nothing is exported again), the encoder and the places."""
        other = copy.copy(self)
        other._calibrate(calibration)
        return other

    @property
    def calibration(self) -> Calibration:
        return self._calibration

    @property
    def temperature(self) -> float:
        return self._calibration.temperature

    @property
    def min_confidence(self) -> float:
        return self._calibration.min_confidence

    def warm_up(self) -> None:
        """Run one sentence through everything, so the first real request pays no first-call costs
        (torch's first pass, dateparser's import, the language identifier's model: that one in
        the background, as English text seldom needs it)."""
        preload_language_identifier()
        load_dateparser()
        self.predict(["leave Boston on November 2nd for portland"], reference_date=Today())

    @property
    def meta(self) -> ModelMeta:
        return self.loaded.meta

    @property
    def labels(self) -> list[str]:
        return list(self.loaded.meta.labels)

    @property
    def reads_context(self) -> bool:
        """Whether this model was trained to read dialogue context (model/context.py); one that
        was not ignores it."""
        return self.loaded.config.context_tokens > 0

    def predict(
        self,
        texts: Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        reference_date: date | Today | None = None,
        contexts: Sequence[Context] | None = None,
    ) -> list[Prediction]:
        """Tag each text and resolve its spans' values.

        Args:
            texts: the texts; empty or whitespace-only ones get no tokens and no spans.
            batch_size: sentences per forward pass (sentences of similar length are grouped).
            reference_date: the "today" dates are read against: a date, ``Today(timezone)``
                (the date in that zone now), or None, which leaves dates unresolved.
            contexts: per text, the conversation's earlier turns (oldest first; a string is one
                turn; None or [] is none), which decide roles the text alone cannot ("Where
                from?" / "Boston."). Spans are only ever in the text.

        Returns:
            One prediction per text, in input order.
        """
        self._check(texts, batch_size)
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError(f"expected one context per text ({len(texts)}), got {len(contexts)}")
        reference = _day(reference_date)
        work = self._prepare(texts, batch_size, contexts)
        if len(work.batches) <= 1:
            return self._finish(work, self._emissions(work), reference)
        # Several batches: the network runs on them one after another in a second thread
        # (outside the GIL, in ONNX Runtime or torch) while this one decodes those before. An
        # error in either stops the batches not yet begun.
        network = ThreadPoolExecutor(1, thread_name_prefix="slot-tagger-network")
        try:
            running = [network.submit(self.network.emissions, batch) for batch in work.batches]
            return self._finish(work, (r.result() for r in running), reference)
        finally:
            network.shutdown(wait=True, cancel_futures=True)

    def predict_iter(
        self,
        texts: Iterable[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        reference_date: date | Today | None = None,
        contexts: Iterable[Context] | None = None,
    ) -> Iterator[Prediction]:
        """Tag a stream of texts lazily, ``batch_size`` at a time, in input order.

        ``reference_date`` and ``contexts`` (a stream beside the texts) are as for
        :meth:`predict`; ``Today`` is read once, when the stream starts. Pipelined over two
        threads: while the network runs on one chunk (outside the GIL, in ONNX Runtime or torch),
        this thread finishes the chunk before and prepares the next.
        """
        self._check([], batch_size)
        reference = _day(reference_date)
        iterator = iter(texts)
        context_iterator = iter(contexts) if contexts is not None else None
        with ThreadPoolExecutor(1, thread_name_prefix="slot-tagger-network") as network:
            pending: tuple[_Work, Future[list[np.ndarray]]] | None = None
            while True:
                chunk = list(itertools.islice(iterator, batch_size))
                chunk_contexts = (
                    list(itertools.islice(context_iterator, len(chunk)))
                    if context_iterator is not None
                    else None
                )
                if chunk_contexts is not None and len(chunk_contexts) != len(chunk):
                    raise ValueError("expected one context per text, the contexts ran out")
                running = None
                if chunk:
                    work = self._prepare(chunk, batch_size, chunk_contexts)
                    running = (work, network.submit(self._emissions, work))
                if pending is not None:
                    yield from self._finish(pending[0], pending[1].result(), reference)
                if running is None:
                    return
                pending = running

    def _current_decoder(self) -> FastDecoder:
        """The decoder for the CRF's scores as they are now (see :meth:`_calibrate`)."""
        if self._decoder is not None:
            return self._decoder
        assert self.tagger is not None, "only a network that follows a tagger has no decoder"
        return FastDecoder(self.tagger.crf, self.temperature)

    @staticmethod
    def _check(texts: Sequence[str], batch_size: int) -> None:
        if isinstance(texts, str):
            raise TypeError("expected a sequence of str, got a single str")
        if batch_size < 1:
            raise ValueError(f"expected batch_size >= 1, got {batch_size}")

    def _prepare(
        self, texts: Sequence[str], batch_size: int, contexts: Sequence[Context] | None = None
    ) -> _Work:
        """Tokenize, group by length and encode: everything before the network. A model that
        reads context gets each text's context tokens first (always tagged O)."""
        tokenize = TOKENIZERS[self.loaded.config.tokenizer]
        token_lists = [tokenize(text) for text in texts]
        budget = self.loaded.config.context_tokens
        prefixes = (
            [context_prefix(as_turns(c), budget) for c in contexts]
            if contexts is not None and budget > 0
            else [[] for _ in texts]
        )
        refusals: list[Refusal | None] = [None] * len(texts)
        if self.english_only:
            for i, tokens in enumerate(token_lists):
                if tokens and not (guess := detect(texts[i])).is_english:
                    refusals[i] = Refusal(guess.reason, guess.language, guess.confidence)
        order = sorted(
            (i for i, tokens in enumerate(token_lists) if tokens and refusals[i] is None),
            key=lambda i: len(prefixes[i]) + len(token_lists[i]),
        )
        chunks: list[list[int]] = []
        for i in order:  # shortest first: the one added is a chunk's longest
            room = MAX_BATCH_TOKENS // max(len(prefixes[i]) + len(token_lists[i]), 1)
            if not chunks or len(chunks[-1]) >= min(batch_size, room):
                chunks.append([])
            chunks[-1].append(i)
        batches = [
            self.encoder([[*prefixes[i], *(t.text for t in token_lists[i])] for i in chunk])
            for chunk in chunks
        ]
        limits = []  # (B, T) per batch: what each token may be tagged (no span across sentences)
        for chunk, batch in zip(chunks, batches, strict=True):
            rows = np.zeros(batch.mask.shape, dtype=np.int64)  # (B, T); padding is unlimited
            for b, i in enumerate(chunk):
                n = len(prefixes[i])
                rows[b, :n] = OUTSIDE_ONLY  # the context is read, never tagged
                rows[b, n : n + len(token_lists[i])] = token_limits(texts[i], token_lists[i])
            limits.append(rows)
        offsets = [len(p) for p in prefixes]
        return _Work(texts, token_lists, chunks, batches, limits, refusals, offsets)

    def _emissions(self, work: _Work) -> list[np.ndarray]:
        """The network on each batch: (B, T, K) scores per batch."""
        return [self.network.emissions(batch) for batch in work.batches]

    def _finish(
        self, work: _Work, emissions: Iterable[np.ndarray], reference_date: date | None
    ) -> list[Prediction]:
        """Decode, read spans off the tags and resolve their values, in input order."""
        decoder = self._current_decoder()
        tags_of = self.vocabs.tags.item
        texts, token_lists = work.texts, work.token_lists
        results = [
            Prediction(text, tokens, ["O"] * len(tokens), [], refused)
            for text, tokens, refused in zip(texts, token_lists, work.refusals, strict=True)
        ]
        tag_names = self.vocabs.tags.items
        for chunk, batch, limits, scores in zip(
            work.chunks, work.batches, work.limits, emissions, strict=True
        ):
            allowed = allowed_tags(limits, tag_names)  # (B, T, K)
            paths, chosen = decoder.decode(scores, batch.lengths.tolist(), allowed)
            for i, path, sent_scores in zip(chunk, paths, chosen, strict=True):
                n = work.offsets[i]  # the context's tokens come first: the text's follow
                tags = [tags_of(k) for k in path[n:]]
                sent_scores = sent_scores[n:]
                spans = from_bio(texts[i], token_lists[i], tags, sent_scores)
                if self.min_confidence > 0.0:
                    spans = [s for s in spans if s.confidence >= self.min_confidence]
                # The tags say what the spans say: a joiner trimmed off a span's edge and the
                # tokens of a span under the floor are O.
                tags, _ = to_bio(token_lists[i], [(s.start, s.end, s.label) for s in spans])
                spans = resolve_values(spans, reference_date, self.date_policy, self.places)
                results[i] = Prediction(texts[i], token_lists[i], tags, spans)
        return results


def load_model(
    model_dir: str | Path | None = None, backend: Backend = DEFAULT_BACKEND
) -> LoadedModel:
    """The model at ``model_dir`` (the shipped one when None) as a predictor on ``backend`` needs
    it: on ONNX Runtime, a directory with its exported graph is read without importing torch;
    otherwise the torch tagger is built (and, for ONNX Runtime, exported in memory).

    Raises:
        ModelNotFoundError, IncompatibleModelError, CorruptModelError: see
        :func:`model.artifact.load`.
    """
    path = artifact.DEFAULT_MODEL_DIR if model_dir is None else Path(model_dir)
    with_tagger = backend != "onnx" or not graphs.exists(path)
    # The last model loaded is kept while its files stay as they were: `slot-tagger serve` checks
    # the model before the server starts, and the server's own load is then free (0.2-0.5 s).
    global _last_loaded
    key = (path.resolve(), with_tagger, _files_signature(path))
    last = _last_loaded
    if last is not None and last[0] == key:
        return last[1]
    loaded = artifact.load(path, with_tagger=with_tagger)
    _last_loaded = (key, loaded)
    return loaded


_last_loaded: tuple[Any, LoadedModel] | None = None


def _files_signature(path: Path) -> tuple[tuple[str, int, int, int], ...] | None:
    """Name, size, modification time and inode of each file in ``path`` (None if unreadable):
    a model rewritten in place, or replaced by a rename, has another."""
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
        return tuple(
            (e.name, st.st_size, st.st_mtime_ns, st.st_ino)
            for e in entries
            if e.is_file() and (st := e.stat())
        )
    except OSError:
        return None


def _day(reference_date: date | Today | None) -> date | None:
    return reference_date.day() if isinstance(reference_date, Today) else reference_date


@dataclass(frozen=True, slots=True)
class _Work:
    """Texts on their way through the network: tokens, length-sorted chunks, encoded batches."""

    texts: Sequence[str]
    token_lists: list[list[Token]]
    chunks: list[list[int]]  # indices into texts, one list per batch
    batches: list[Batch]
    limits: list[np.ndarray]  # per batch, (B, T) token_limits flags
    refusals: list[Refusal | None]  # per text: not tagged, and why
    offsets: list[int]  # per text: how many context tokens come before its own
