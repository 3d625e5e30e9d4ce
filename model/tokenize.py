"""The one tokenizer: spaCy's English rules, keeping each token's character offsets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import spacy
from spacy.attrs import IDX, IS_SPACE, LENGTH, ORTH
from spacy.tokenizer import Tokenizer

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Token:
    """A token and its place in the original text (``end`` exclusive)."""

    text: str
    start: int
    end: int


# Sentence punctuation typed with no space after it ("to miami.i need", "Denver!Could") still ends
# the word before it, so a span can stop there; "D.C.", "a.m." and "U.S." are special cases or
# have one letter before the period, and keep theirs.
_SENTENCE_INFIX = r"(?<=[^\W\d_]{2})[.!?;]+(?=[^\W\d_])|(?<=\d)[.!?;]+(?=[A-Z][a-z])"
# A dash before a number splits too, so each end of a range is a token of its own ("4th-12th",
# "3–9"; spaCy splits a hyphen between two digits only).
_RANGE_INFIX = r"(?<=[^\W_])[-–—](?=\d)"
# Abbreviations in place names that spaCy splits in some casings ("st. louis", "Ft. Lauderdale",
# "d.c."), kept as one token in every casing: the period is the name's own and ends no sentence.
_ABBREVIATIONS = (
    *("St.", "Mt.", "Ft.", "Pt.", "Ste.", "Sta.", "Intl.", "Mtn.", "Hts.", "Jct."),
    *("D.C.", "U.S.", "U.K.", "L.A.", "N.Y."),
    # and in dates ("AUG. 3RD", "sept. 5"): the period belongs to the month
    *("Jan.", "Feb.", "Mar.", "Apr.", "Jun.", "Jul.", "Aug.", "Sep.", "Sept.", "Oct."),
    *("Nov.", "Dec."),
)


# spaCy strips prefixes and suffixes off a whitespace-free run one at a time, each a regex search
# of what is left: quadratic in the run ("!?" * 1000 costs 0.2-0.6 s; 32 characters, 80 µs). A run
# longer than LONG_RUN is tokenized in pieces of about PIECE characters, cut where the character
# before or after is not a word character (a cut never splits a word: a long run of letters or
# digits is linear for spaCy), so cost is linear in the text. Normal text has no such runs, and
# its tokens are exactly spaCy's.
LONG_RUN = 64
PIECE = 32
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN + 1},}}")
_WORD_CHAR = re.compile(r"\w")


def _pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) of consecutive pieces covering ``text``, cut only inside long runs."""
    cuts = [0]
    for run in _LONG_RUN.finditer(text):
        cuts.append(run.start())
        last = run.start()
        for i in range(run.start() + PIECE, run.end()):
            word_on_both_sides = _WORD_CHAR.match(text[i - 1]) and _WORD_CHAR.match(text[i])
            if i - last >= PIECE and not word_on_both_sides:
                cuts.append(i)
                last = i
        cuts.append(run.end())
    cuts.append(len(text))
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if a < b]


def _rows(piece: str, offset: int) -> list[tuple[int, int]]:
    """(start, length) of each non-space token spaCy finds in ``piece``, shifted by ``offset``."""
    # Offsets straight from the Doc's arrays: twice as fast as making a spaCy Token per token.
    rows = _tokenizer()(piece).to_array([IDX, LENGTH, IS_SPACE]).tolist()
    return [(offset + i, n) for i, n, space in rows if not space]


@cache
def _tokenizer() -> Tokenizer:
    # A blank pipeline is only the rule-based tokenizer: no model download, built once per process.
    nlp = spacy.blank("en")
    tokenizer = nlp.tokenizer
    infixes = [*nlp.Defaults.infixes, _SENTENCE_INFIX, _RANGE_INFIX]
    tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer
    for abbreviation in _ABBREVIATIONS:
        for form in {abbreviation, abbreviation.lower(), abbreviation.upper()}:
            tokenizer.add_special_case(form, [{ORTH: form}])
    return tokenizer


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; whitespace is never a token.

    Args:
        text: any string.

    Returns:
        The tokens in order, with ``text[t.start:t.end] == t.text`` for each.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    # spaCy cannot hash an unpaired surrogate; a same-length stand-in keeps every offset.
    safe = text if text.isascii() else _SURROGATE.sub("\ufffd", text)
    tokens = [
        Token(text[i : i + n], i, i + n)
        for start, end in _pieces(safe)
        for i, n in _rows(safe[start:end], start)
    ]
    # spaCy keeps the period of an abbreviation that ends the text ("on 23 Aug."): split it off,
    # since it ends the sentence and is never part of a span. "D.C." keeps its inner periods.
    if (
        tokens
        and len(tokens[-1].text) > 1
        and tokens[-1].text[:-1].isalpha()
        and tokens[-1].text[-1] == "."
    ):
        last = tokens.pop()
        tokens += [
            Token(last.text[:-1], last.start, last.end - 1),
            Token(".", last.end - 1, last.end),
        ]
    return tokens


def split_whitespace(text: str) -> list[Token]:
    """Split ``text`` at whitespace only: the tokens of a pre-tokenized file (BIO, ATIS) joined by
    spaces come back exactly as the file has them ("6pm", "d/fw", "can't" stay one token each).

    Args:
        text: any string.

    Returns:
        The tokens in order, with ``text[t.start:t.end] == t.text`` for each.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    return [Token(m.group(), m.start(), m.end()) for m in _NON_SPACE.finditer(text)]


_NON_SPACE = re.compile(r"\S+")
# What a model's config.json may name as its tokenizer (TaggerConfig.tokenizer).
TOKENIZERS = {"spacy": tokenize, "whitespace": split_whitespace}
