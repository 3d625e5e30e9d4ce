"""The training-data generator: templates x real places x date forms x surface styles.

``python -m data.generate --seed 0 --n 30000 --out data/train.jsonl`` writes the same file for the
same seed and package versions. Places of the held-out split never appear unless asked for
(``--places heldout``, used to build the held-out-places test).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path

import typer

from data.dates import (
    MONTH_ABBR,
    MONTHS,
    NOT_DATES,
    TIMED_VEHICLES,
    WEEKDAY_ABBR,
    WEEKDAYS,
    random_date,
)
from data.example import Example, GoldSpan
from data.formats import write_jsonl
from data.places import Place, split_places
from data.templates import MACROS, NEGATIVES, TEMPLATES

_ALTERNATIVES = re.compile(r"\(([^()\[\]]*)\)")
_OPTIONAL = re.compile(r"\[([^()\[\]]*)\]")
_MACRO = re.compile(r"\{(\w+)\}")
# How often each kind of place name is drawn (the registry lists are dominated by small cities).
KIND_WEIGHTS = {
    "city": 46,
    "city_state": 12,
    "city_country": 5,
    "code": 10,
    "airport": 8,
    "alias": 12,
    "state": 4,
    "country": 3,
}
MAJOR_SHARE = 0.55
# Surface styles: (name, weight). lower = speech transcript, chat = typed lowercase with some caps.
STYLES = (("natural", 34), ("lower", 36), ("chat", 22), ("upper", 4), ("title", 4))
TYPO_RATE = 0.07
# Punctuation a speech transcript leaves out: what ends a word ("boston," "st."); "o'hare", "11/02"
# and "6.1.26" keep theirs.
_SPOKEN_DROP = re.compile(r"[,.?!;:]+(?=\s|$)")
_SLOT_LABELS = {
    "dep": "departure",
    "dst": "destination",
    "when": "date",
    "when2": "date",
    "date": "date",
    "date2": "date",
}


class PlaceSplit(StrEnum):
    train = "train"
    heldout = "heldout"


def expand(template: str, rng: random.Random) -> str:
    """Resolve macros, ``(a|b)`` and ``[x]`` until only slots remain."""
    for _ in range(10):
        expanded = _MACRO.sub(lambda m: MACROS.get(m.group(1), m.group(0)), template)
        if expanded == template:
            break
        template = expanded
    while True:
        new = _ALTERNATIVES.sub(lambda m: rng.choice(m.group(1).split("|")), template)
        new = _OPTIONAL.sub(lambda m: m.group(1) if rng.random() < 0.5 else "", new)
        if new == template:
            return " ".join(new.split())
        template = new


class Generator:
    """Draws examples; one instance per seed.

    Args:
        seed: the random seed.
        places: the place names it may use.
    """

    def __init__(self, seed: int, places: Sequence[Place]) -> None:
        self.rng = random.Random(seed)
        self.by_kind: dict[str, tuple[list[Place], list[Place]]] = {}
        for kind in KIND_WEIGHTS:
            of_kind = [p for p in places if p.kind == kind]
            self.by_kind[kind] = (of_kind, [p for p in of_kind if p.major] or of_kind)
        self.kinds = [k for k in KIND_WEIGHTS if self.by_kind[k][0]]
        self.kind_weights = [KIND_WEIGHTS[k] for k in self.kinds]
        self.template_weights = [w for w, _ in TEMPLATES]

    def place(self, avoid: str = "") -> str:
        for _ in range(20):
            kind = self.rng.choices(self.kinds, self.kind_weights)[0]
            every, major = self.by_kind[kind]
            place = self.rng.choice(major if self.rng.random() < MAJOR_SHARE else every)
            if place.key != avoid:
                return place.text
        return place.text

    def example(self) -> Example:
        template = self.rng.choices(TEMPLATES, self.template_weights)[0][1]
        if template == "{negative}":
            template = self.rng.choice(NEGATIVES)
        pieces = self._fill(expand(template, self.rng))
        return self._surface(pieces)

    def _fill(self, template: str) -> list[tuple[str, str | None]]:
        """Pieces of text, each with its label (None for words outside any span)."""
        pieces: list[tuple[str, str | None]] = []
        position, used = 0, ""
        for match in _MACRO.finditer(template):
            pieces.append((template[position : match.start()], None))
            slot = match.group(1)
            if slot in ("dep", "dst"):
                text = self.place(avoid=used)
                used = text.lower()
                pieces.append((text, _SLOT_LABELS[slot]))
            elif slot in ("when", "when2"):
                date = random_date(self.rng)
                if date.preposition and self.rng.random() < (
                    0.55 if date.preposition == "on" else 0.8
                ):
                    pieces.append((f"{date.preposition} ", None))
                pieces.append((date.text, "date"))
            elif slot in ("date", "date2"):
                pieces.append((random_date(self.rng).text, "date"))
            elif slot == "place":
                pieces.append((self.place(), None))
            elif slot == "time":
                pieces.append((self.rng.choice(NOT_DATES), None))
            elif slot == "timed":
                pieces.append((self.rng.choice(TIMED_VEHICLES), None))
            else:
                raise ValueError(f"unknown slot {{{slot}}} in {template!r}")
            position = match.end()
        pieces.append((template[position:], None))
        return [(text, label) for text, label in pieces if text]

    def _surface(self, pieces: list[tuple[str, str | None]]) -> Example:
        style = self.rng.choices([s for s, _ in STYLES], [w for _, w in STYLES])[0]
        out: list[tuple[str, str | None]] = []
        for text, label in pieces:
            if style == "lower" or (style == "chat" and (label is None or self.rng.random() < 0.5)):
                text = text.lower()
            elif style == "upper":
                text = text.upper()
            elif style == "title" or (style == "natural" and label == "date"):
                text = _title_words(text) if style == "title" else _capitalize_names(text)
            if style == "lower" or (style == "chat" and self.rng.random() < 0.5):
                text = _SPOKEN_DROP.sub("", text)
            out.append((text, label))
        if style in ("natural", "chat") and self.rng.random() < 0.15:
            out = self._comma_after_a_span(out)
        if self.rng.random() < TYPO_RATE:
            out = self._typo(out)
        text, spans = _join(out)
        if style == "natural" and text:
            text = _natural_pronouns(text[0].upper() + text[1:])
            if self.rng.random() < 0.6 and text[-1].isalnum():
                text += "?" if text.split()[0].lower() in _QUESTION_WORDS else "."
        return Example(text=text, spans=spans)

    def _comma_after_a_span(
        self, pieces: list[tuple[str, str | None]]
    ) -> list[tuple[str, str | None]]:
        """People write "to Cancun, March 10": a comma right after a span, outside it."""
        inner = [i for i, (_, label) in enumerate(pieces[:-1]) if label is not None]
        if not inner:
            return pieces
        i = self.rng.choice(inner)
        following, label = pieces[i + 1]
        if label is None and following[:1] == " ":
            return [*pieces[: i + 1], ("," + following, None), *pieces[i + 2 :]]
        return pieces

    def _typo(self, pieces: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
        index = self.rng.randrange(len(pieces))
        text, label = pieces[index]
        words = text.split(" ")
        candidates = [i for i, w in enumerate(words) if len(w) > 3 and w.isalpha()]
        if not candidates:
            return pieces
        i = self.rng.choice(candidates)
        w, j = words[i], self.rng.randrange(1, len(words[i]) - 1)
        kind = self.rng.randrange(3)
        words[i] = (w[:j] + w[j + 1 :], w[:j] + w[j + 1] + w[j] + w[j + 2 :], w[:j] + w[j] + w[j:])[
            kind
        ]
        return [*pieces[:index], (" ".join(words), label), *pieces[index + 1 :]]


_QUESTION_WORDS = {"what", "which", "how", "when", "is", "are", "do", "does", "can", "could"}
_NAMES = {w.lower(): w for w in (*MONTHS, *MONTH_ABBR, *WEEKDAYS, *WEEKDAY_ABBR)}


def _capitalize_names(text: str) -> str:
    return " ".join(_NAMES.get(w.lower(), w) for w in text.split(" "))


def _title_words(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def _natural_pronouns(text: str) -> str:
    return re.sub(r"\bi(?=('m|'d|'ll|'ve)?\b)", "I", text)


def _join(pieces: list[tuple[str, str | None]]) -> tuple[str, list[GoldSpan]]:
    """Concatenate pieces, squeezing whitespace, and place the labelled ones as spans."""
    text, spans = "", []
    for piece, label in pieces:
        if label is None:
            piece = re.sub(r"\s+", " ", piece)
            if text.endswith(" ") or not text:
                piece = piece.lstrip()
            text += piece
            continue
        piece = " ".join(piece.split())
        if not piece:
            continue
        if text and not text.endswith(" "):
            text += " "
        spans.append(GoldSpan(start=len(text), end=len(text) + len(piece), label=label))
        text += piece
    stripped = text.rstrip()
    # A space the template left before punctuation ("boston , denver") stays: people type that.
    return stripped, [s for s in spans if s.end <= len(stripped)]


def generate(seed: int, n: int, places: PlaceSplit = PlaceSplit.train) -> Iterator[Example]:
    """``n`` examples drawn with ``seed`` from the chosen place split."""
    train, heldout = split_places()
    generator = Generator(seed, train if places is PlaceSplit.train else heldout)
    for _ in range(n):
        yield generator.example()


def main(
    seed: int = typer.Option(0, help="random seed; the same seed writes the same file"),
    n: int = typer.Option(30000, help="number of examples"),
    out: Path = typer.Option(..., help="output .jsonl file"),
    places: PlaceSplit = typer.Option(PlaceSplit.train, help="which place split to draw from"),
) -> None:
    """Generate a training corpus as JSONL."""
    count = write_jsonl(generate(seed, n, places), out)
    typer.echo(f"wrote {count} examples to {out}", err=True)


if __name__ == "__main__":
    typer.run(main)
