"""From examples to tensors: tokenize, align gold spans to BIO, build vocabularies, batch."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from data.example import Example
from model.encode import Batch, Encoder, Vocabs, word_key
from model.spans import OUTSIDE, to_bio
from model.tokenize import tokenize
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


def align(examples: Sequence[Example]) -> Aligned:
    """Tokenize every example and tag its tokens from the gold spans."""
    sentences, n_expanded, n_spans, n_empty = [], 0, 0, 0
    for example in examples:
        tokens = tokenize(example.text)
        if not tokens:
            n_empty += 1
            continue
        tags, expanded = to_bio(tokens, [(s.start, s.end, s.label) for s in example.spans])
        n_expanded += expanded
        n_spans += len(example.spans)
        sentences.append(TaggedSentence([t.text for t in tokens], tags))
    return Aligned(sentences, n_expanded, n_spans, n_empty)


def build_vocabs(sentences: Sequence[TaggedSentence], min_word_count: int = 1) -> Vocabs:
    """Vocabularies from the training sentences; tags sorted with O first, then by label."""
    words = Counter(word_key(t) for s in sentences for t in s.tokens)
    chars = Counter(c for s in sentences for t in s.tokens for c in t)
    labels = sorted({tag[2:] for s in sentences for tag in s.tags if tag != OUTSIDE})
    tags = [OUTSIDE] + [f"{p}-{label}" for label in labels for p in ("B", "I")]
    return Vocabs(
        words=Vocab.build(words, min_word_count),
        chars=Vocab.build(chars),
        tags=Vocab(tags, specials=False),
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
