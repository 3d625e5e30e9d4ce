"""Spans and the one BIO codec: labelled character ranges to per-token tags and back."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from spacy.lang.tokenizer_exceptions import emoticons

from model.tokenize import Token

OUTSIDE = "O"
# What a token may be tagged (bit flags; see token_limits): NO_BEGIN, it cannot start a span;
# NO_INSIDE, it cannot continue one; both, it is outside every span.
NO_BEGIN = 1
NO_INSIDE = 2
OUTSIDE_ONLY = NO_BEGIN | NO_INSIDE
# Punctuation a name may have inside it, never at its edges: "Portland, OR", "Wilkes-Barre",
# "2026-11-02", "Hartsfield–Jackson", "Trinidad & Tobago". Any other punctuation, a symbol or an
# emoji ends a span: a sentence end (". ! ? ; ..."), brackets, quotes; so does a dash or slash
# with a space beside it, which separates ("Lyon - Paris", "3 - 9", "LAX / SFO").
JOINERS = frozenset({",", "-", "–", "&", "/", "'", "’"})
_TIGHT_JOINERS = frozenset({"-", "–", "/"})
# A contraction's second half never starts a span ("it['s friday]" is "it's [friday]"); it may
# continue one ("[St. John's]").
_CLITICS = frozenset(a + rest for a in ("'", "’") for rest in ("s", "re", "ve", "ll", "d", "m")) | {
    "n't",
    "n’t",
}
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_EMOTICONS = frozenset(emoticons)


@dataclass(frozen=True, slots=True)
class Span:
    """A labelled character range of a text (``end`` exclusive).

    ``value`` is for resolvers (normalized dates and places) to fill; the tagger leaves it None.
    """

    label: str
    start: int
    end: int
    text: str
    confidence: float = 1.0
    value: dict[str, Any] | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        """The span as the API and the CLI write it (confidence to 4 decimals)."""
        return {
            "label": self.label,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "confidence": round(self.confidence, 4),
            "value": self.value,
        }


def to_bio(tokens: Sequence[Token], spans: Sequence[tuple[int, int, str]]) -> tuple[list[str], int]:
    """Tag each token B-label, I-label or O from character spans.

    A span that does not start and end on token boundaries is expanded to the tokens that cover it.

    Args:
        tokens: the text's tokens.
        spans: ``(start, end, label)`` character ranges, end exclusive, not overlapping.

    Returns:
        ``(tags, n_expanded)``: one tag per token, and how many spans had to be expanded.

    Raises:
        ValueError: if a span is empty, covers no token, or overlaps another.
    """
    tags = [OUTSIDE] * len(tokens)
    n_expanded = 0
    for start, end, label in sorted(spans):
        if not start < end:
            raise ValueError(f"expected start < end, got span ({start}, {end}, {label!r})")
        covered = [i for i, t in enumerate(tokens) if t.start < end and start < t.end]
        if not covered:
            raise ValueError(f"span ({start}, {end}, {label!r}) covers no token")
        if any(tags[i] != OUTSIDE for i in covered):
            raise ValueError(f"span ({start}, {end}, {label!r}) overlaps another span")
        if tokens[covered[0]].start != start or tokens[covered[-1]].end != end:
            n_expanded += 1
        tags[covered[0]] = f"B-{label}"
        for i in covered[1:]:
            tags[i] = f"I-{label}"
    return tags, n_expanded


def token_limits(text: str, tokens: Sequence[Token]) -> list[int]:
    """Which tags each token may take, so that no span crosses a sentence or a line break.

    A token with no letter or digit (or an emoticon) is outside every span, except the
    :data:`JOINERS`, which may only continue one, as may a contraction's second half ("'s",
    "n't"); a token on a new line may not continue a span.

    Returns:
        One set of flags (:data:`NO_BEGIN`, :data:`NO_INSIDE`) per token.
    """
    limits = []
    previous_end = 0
    for token in tokens:
        flags = 0
        word = token.text
        if word in _TIGHT_JOINERS and (
            text[token.start - 1 : token.start].isspace()
            or text[token.end : token.end + 1].isspace()
        ):
            flags |= OUTSIDE_ONLY
        elif word in JOINERS:
            flags |= NO_BEGIN
        elif word in _EMOTICONS or not (word.isalnum() or any(c.isalnum() for c in word)):
            flags |= OUTSIDE_ONLY
        elif word.lower() in _CLITICS:
            flags |= NO_BEGIN
        gap = text[previous_end : token.start]
        if gap and gap != " " and not _LINE_BREAKS.isdisjoint(gap):  # one space: the usual gap
            flags |= NO_INSIDE
        limits.append(flags)
        previous_end = token.end
    return limits


def allowed_tags(limits: np.ndarray | Sequence[int], tags: Sequence[str]) -> np.ndarray:
    """May each token take each tag, given its :func:`token_limits`: limits of any shape (a
    sentence (T,) or a padded batch (B, T)) -> bool of that shape plus (K,)."""
    return _allowed_by_flags(tuple(tags))[np.asarray(limits, dtype=np.intp)]  # (..., K)


@functools.lru_cache(maxsize=16)
def _allowed_by_flags(tags: tuple[str, ...]) -> np.ndarray:
    """(OUTSIDE_ONLY + 1, K): may a token of each set of flags take each tag (one lookup per
    batch instead of building the answer from the tag names each time: 14 -> 3 µs)."""
    begins = np.array([t.startswith("B-") for t in tags])  # (K,)
    insides = np.array([t.startswith("I-") for t in tags])  # (K,)
    flags = np.arange(OUTSIDE_ONLY + 1)[:, None]  # (F, 1)
    blocked = (begins & (flags & NO_BEGIN > 0)) | (insides & (flags & NO_INSIDE > 0))  # (F, K)
    table = ~blocked
    table.setflags(write=False)  # shared by every caller; indexing it gives each its own copy
    return table


def decodable(tags: Sequence[str], limits: Sequence[int]) -> bool:
    """Whether the decoder could give these tags, under these :func:`token_limits` (the rule of
    :func:`allowed_tags`, applied to each token's own tag)."""
    return not any(
        (tag.startswith("B-") and flags & NO_BEGIN) or (tag.startswith("I-") and flags & NO_INSIDE)
        for tag, flags in zip(tags, limits)  # noqa: B905 - as the diagonal of allowed_tags was
    )


def from_bio(
    text: str,
    tokens: Sequence[Token],
    tags: Sequence[str],
    scores: Sequence[float] | None = None,
) -> list[Span]:
    """Read spans back from BIO tags.

    An ``I-x`` that does not continue an ``x`` span starts a new one (the lenient reading), so any
    tag sequence gives well-formed, non-overlapping spans. A :data:`JOINERS` token at either edge
    of a span is left out of it ("Cancun," gives "Cancun").

    Args:
        text: the text the tokens index.
        tokens: its tokens.
        tags: one tag per token.
        scores: optional per-token confidence; a span's confidence is the lowest of its tokens'.

    Returns:
        The spans in text order.
    """
    if len(tags) != len(tokens):
        raise ValueError(f"expected one tag per token ({len(tokens)}), got {len(tags)}")
    spans: list[Span] = []
    current: tuple[str, int, int] | None = None  # label, first token, last token

    def close() -> None:
        if current is not None:
            label, first, last = current
            while first <= last and tokens[first].text in JOINERS:
                first += 1
            while last >= first and tokens[last].text in JOINERS:
                last -= 1
            if first <= last:  # the confidence of the tokens kept, not of a trimmed comma
                conf = 1.0 if scores is None else min(float(x) for x in scores[first : last + 1])
                start, end = tokens[first].start, tokens[last].end
                spans.append(Span(label, start, end, text[start:end], conf))

    for i, tag in enumerate(tags):
        if tag == "O" and current is None:
            continue
        prefix, _, label = tag.partition("-")
        if prefix == "I" and current is not None and current[0] == label:
            current = (label, current[1], i)
            continue
        close()
        current = (label, i, i) if prefix in ("B", "I") else None
    close()
    return spans
