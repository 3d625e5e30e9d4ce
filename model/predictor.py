"""Predictor: text in, tokens, tags and labelled spans out; batches and streams."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import torch

from model import artifact
from model.artifact import LoadedModel, ModelMeta
from model.crf import FastDecoder
from model.dates import DatePolicy, load_dateparser
from model.encode import Encoder
from model.places import PlaceIndex
from model.runtime import Backend, OnnxEmissions
from model.spans import Span, from_bio
from model.tokenize import Token, tokenize
from model.values import resolve_values

DEFAULT_BATCH_SIZE = 128


@dataclass(frozen=True, slots=True)
class Prediction:
    """What the tagger says about one text."""

    text: str
    tokens: list[Token]
    tags: list[str]
    spans: list[Span]


class Predictor:
    """Tags texts with a loaded model. Thread-safe for concurrent ``predict`` calls.

    Args:
        loaded: a model from :func:`model.artifact.load`.
        places: the place table for place values (None: places get no value).
        date_policy: how dates without a year or weekday phrases are read.
        backend: what runs the network: "torch" (eager; follows the tagger's weights as they
            change, so training uses it) or "onnx" (ONNX Runtime on a copy exported now: the
            same tags and spans, several times faster per call; see :mod:`model.runtime`).
        threads: ONNX Runtime's threads (torch's are set with ``torch.set_num_threads``).
    """

    def __init__(
        self,
        loaded: LoadedModel,
        places: PlaceIndex | None = None,
        date_policy: DatePolicy = DatePolicy(),
        backend: Backend = "torch",
        threads: int = 1,
    ) -> None:
        if backend not in ("torch", "onnx"):
            raise ValueError(f"expected backend 'torch' or 'onnx', got {backend!r}")
        self.loaded = loaded
        self.tagger = loaded.tagger.eval()
        self.vocabs = loaded.tagger.vocabs
        self.encoder = Encoder(self.vocabs, loaded.config.max_word_chars)
        self.temperature = float(loaded.meta.calibration.get("temperature", 1.0))
        self.places = places
        self.date_policy = date_policy
        self.backend = backend
        self._onnx = OnnxEmissions(self.tagger, threads) if backend == "onnx" else None

    @classmethod
    def from_dir(
        cls,
        model_dir: str | Path | None = None,
        date_policy: DatePolicy = DatePolicy(),
        backend: Backend = "onnx",
        threads: int = 1,
    ) -> Predictor:
        """Load the model at ``model_dir`` (the shipped default model when None) and the places,
        ready to serve (on ONNX Runtime unless ``backend`` says otherwise)."""
        loaded = artifact.load(artifact.DEFAULT_MODEL_DIR if model_dir is None else model_dir)
        return cls(loaded, PlaceIndex.load(), date_policy, backend, threads)

    def warm_up(self) -> None:
        """Run one sentence through everything, so the first real request pays no first-call costs
        (torch's first pass, dateparser's import)."""
        load_dateparser()
        self.predict(["leave Boston on November 2nd for portland"], reference_date=date.today())

    @property
    def meta(self) -> ModelMeta:
        return self.loaded.meta

    @property
    def labels(self) -> list[str]:
        return list(self.loaded.meta.labels)

    def predict(
        self,
        texts: Sequence[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        reference_date: date | None = None,
    ) -> list[Prediction]:
        """Tag each text and resolve its spans' values.

        Args:
            texts: the texts; empty or whitespace-only ones get no tokens and no spans.
            batch_size: sentences per forward pass (sentences of similar length are grouped).
            reference_date: the "today" dates are read against; None leaves dates unresolved.

        Returns:
            One prediction per text, in input order.
        """
        if isinstance(texts, str):
            raise TypeError("expected a sequence of str, got a single str")
        if batch_size < 1:
            raise ValueError(f"expected batch_size >= 1, got {batch_size}")
        token_lists = [tokenize(text) for text in texts]
        results: list[Prediction | None] = [None] * len(texts)
        order = sorted(
            (i for i, tokens in enumerate(token_lists) if tokens), key=lambda i: len(token_lists[i])
        )
        for chunk_start in range(0, len(order), batch_size):
            chunk = order[chunk_start : chunk_start + batch_size]
            tags, scores = self._tag([[t.text for t in token_lists[i]] for i in chunk])
            for i, sent_tags, sent_scores in zip(chunk, tags, scores, strict=True):
                spans = from_bio(texts[i], token_lists[i], sent_tags, sent_scores)
                spans = resolve_values(spans, reference_date, self.date_policy, self.places)
                results[i] = Prediction(texts[i], token_lists[i], sent_tags, spans)
        return [
            r if r is not None else Prediction(text, [], [], [])
            for r, text in zip(results, texts, strict=True)
        ]

    def predict_iter(
        self,
        texts: Iterable[str],
        batch_size: int = DEFAULT_BATCH_SIZE,
        reference_date: date | None = None,
    ) -> Iterator[Prediction]:
        """Tag a stream of texts lazily, ``batch_size`` at a time, in input order."""
        iterator = iter(texts)
        while chunk := list(itertools.islice(iterator, batch_size)):
            yield from self.predict(chunk, batch_size, reference_date)

    @torch.inference_mode()
    def _tag(self, token_lists: list[list[str]]) -> tuple[list[list[str]], list[list[float]]]:
        batch = self.encoder(token_lists)
        if self._onnx is not None:
            emissions = self._onnx(batch)  # (B, T, K)
        else:
            emissions = self.tagger.emissions(batch).numpy()  # (B, T, K)
        # The decoder copies the CRF's scores, so it is made per call: training evaluates this
        # predictor between epochs while the scores change (a 7x7 copy costs microseconds).
        decoder = FastDecoder(self.tagger.crf, self.temperature)
        paths, chosen = decoder.decode(emissions, batch.lengths.tolist())
        tags_of = self.vocabs.tags.item
        return [[tags_of(k) for k in path] for path in paths], chosen
