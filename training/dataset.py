"""From examples to tensors: tokenize, align gold spans to BIO, build vocabularies, batch."""

from __future__ import annotations

import gzip
import importlib
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import ModuleType

import orjson
import torch

from data.example import Example
from model.context import context_prefix
from model.encode import Batch, Encoder, Vocabs, word_key
from model.lexicon import Lexicon, clusters_by_word
from model.spans import OUTSIDE, to_bio
from model.tokenize import TOKENIZERS
from model.vocab import Vocab


@dataclass(frozen=True, slots=True)
class TaggedSentence:
    tokens: list[str]
    tags: list[str]


@dataclass(frozen=True, slots=True)
class Aligned:
    """Examples as token and tag lists; ``n_expanded`` counts gold spans widened to token edges."""

    sentences: list[TaggedSentence]
    n_expanded: int
    n_spans: int
    n_empty: int


def align(
    examples: Sequence[Example], context_budget: int = 0, tokenizer: str = "spacy"
) -> Aligned:
    """Tokenize every example and tag its tokens from the gold spans. With a ``context_budget``
    (``TaggerConfig.context_tokens``), an example's context tokens come first, tagged O, as the
    predictor reads them (model/context.py). ``tokenizer`` is ``TaggerConfig.tokenizer``: the
    predictor cuts texts the same way."""
    tokenize = TOKENIZERS[tokenizer]
    sentences, n_expanded, n_spans, n_empty = [], 0, 0, 0
    for example in examples:
        tokens = tokenize(example.text)
        if not tokens:
            n_empty += 1
            continue
        tags, expanded = to_bio(tokens, [(s.start, s.end, s.label) for s in example.spans])
        n_expanded += expanded
        n_spans += len(example.spans)
        prefix = context_prefix(example.context, context_budget)
        sentences.append(
            TaggedSentence([*prefix, *(t.text for t in tokens)], [OUTSIDE] * len(prefix) + tags)
        )
    return Aligned(sentences, n_expanded, n_spans, n_empty)


# Words whose English frequency the lexicon keeps (wordfreq's most common; Zipf 2 and up).
LEXICON_WORDS = 100_000


def build_lexicon(clusters: bool = False) -> Lexicon:
    """The lexicon a new model saves: English word frequencies from ``wordfreq``, the names in the
    shipped place table and, for a network that reads them, Brown clusters from
    ``spacy-lookups-data`` (training-only dependencies, in the ``data`` and ``clusters``
    extras). Built once per process for each value of ``clusters``."""
    return _lexicon(bool(clusters))


@cache
def _lexicon(clusters: bool) -> Lexicon:
    wordfreq = _training_package("wordfreq", "frequency or gazetteer inputs", "data")
    from model.values.places import PlaceIndex

    words = wordfreq.top_n_list("en", LEXICON_WORDS)
    return Lexicon.build(
        PlaceIndex.load().table,
        words,
        lambda w: wordfreq.zipf_frequency(w, "en"),
        _brown_clusters() if clusters else None,
    )


def _brown_clusters() -> dict[str, int]:
    """Lower-cased word -> Brown cluster, from the tables spaCy's English lexemes read their
    ``cluster`` and ``prob`` from (1M spellings, 190k of them with a cluster; each word takes the
    cluster of its most frequent spelling, :func:`model.lexicon.clusters_by_word`)."""
    lookups = _training_package("spacy_lookups_data", "word clusters", "clusters")
    data = resources.files(lookups) / "data"
    clusters, log_probs = (
        orjson.loads(gzip.decompress((data / f"en_lexeme_{name}.json.gz").read_bytes()))
        for name in ("cluster", "prob")
    )
    return clusters_by_word(clusters, log_probs)


def _training_package(module: str, needed_for: str, extra: str) -> ModuleType:
    """A package only training needs, or an error saying which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:  # pragma: no cover - the dev install has them all
        package = module.replace("_", "-")
        raise RuntimeError(
            f"training a model with {needed_for} needs {package}: "
            f"pip install 'slot-tagger[{extra}]'"
        ) from e


def build_vocabs(
    sentences: Sequence[TaggedSentence], min_word_count: int = 1, lexicon: Lexicon | None = None
) -> Vocabs:
    """Vocabularies from the training sentences; tags sorted with O first, then by label."""
    words = Counter(word_key(t) for s in sentences for t in s.tokens)
    chars = Counter(c for s in sentences for t in s.tokens for c in t)
    labels = sorted({tag[2:] for s in sentences for tag in s.tags if tag != OUTSIDE})
    tags = [OUTSIDE] + [f"{p}-{label}" for label in labels for p in ("B", "I")]
    return Vocabs(
        words=Vocab.build(words, min_word_count),
        chars=Vocab.build(chars),
        tags=Vocab(tags, specials=False),
        lexicon=lexicon,
    )


def batches(
    sentences: Sequence[TaggedSentence],
    encoder: Encoder,
    batch_size: int,
    rng: random.Random | None = None,
) -> Iterator[tuple[Batch, torch.Tensor]]:
    """Batches of similar length (shuffled when ``rng`` is given) with tag ids (batch, seq_len).

    The caller keeps one ``encoder`` for the whole run, so each distinct token is looked up once.
    """
    tags = encoder.vocabs.tags
    order = list(range(len(sentences)))
    if rng is not None:
        rng.shuffle(order)
    # Sort within windows of 50 batches: little padding, still random batch composition.
    window = batch_size * 50
    order = [
        i
        for w in range(0, len(order), window)
        for i in sorted(order[w : w + window], key=lambda i: len(sentences[i].tokens))
    ]
    chunks = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(chunks)
    for chunk in chunks:
        batch = encoder([sentences[i].tokens for i in chunk])
        tag_ids = torch.zeros(batch.word_ids.shape, dtype=torch.long)  # (B, T)
        for b, i in enumerate(chunk):
            ids = [tags.id(t) for t in sentences[i].tags]
            tag_ids[b, : len(ids)] = torch.tensor(ids)
        yield batch, tag_ids
