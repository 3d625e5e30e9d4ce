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

from data.date_phrases import (
    MONTH_ABBR,
    MONTHS,
    NOT_DATES,
    TIMED_VEHICLES,
    WEEKDAY_ABBR,
    WEEKDAYS,
    ordinal_suffix,
    random_date,
)
from data.dialogues import (
    ANSWERS,
    ASK,
    CONFIRM,
    CORRECTIONS,
    DATE_ANSWERS,
    DOMAIN_AGENT,
    DOMAIN_ANSWERS,
    EARLIER_USER,
    NO_SLOT,
    OPENERS,
)
from data.example import Example, GoldSpan
from data.formats import write_jsonl
from data.place_names import Place, split_places
from data.templates import MACROS, NEGATIVES, TEMPLATES
from data.turns import (
    AIRLINE_CODES,
    AIRLINES,
    DOMAIN,
    DURATION_NUMBERS,
    DURATION_UNITS,
    EMOJI,
    FICTIONAL_ENDINGS,
    FICTIONAL_PREFIXES,
    FICTIONAL_ROOTS,
    FICTIONAL_SUFFIXES,
    FILLERS,
    FOLLOW_UPS,
    SEPARATORS,
    TAILS,
    VENUE_CHAINS,
    VENUE_PREFIXES,
    VENUE_SUFFIXES,
    ordinary_words,
)
from model.labels import DATE, DEPARTURE, DESTINATION
from model.spans import decodable, from_bio, to_bio, token_limits
from model.tokenize import tokenize

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
# Share of examples that are conversation turns (data/turns.py) rather than one templated sentence,
# how many sentences such a turn has, and what each sentence is.
TURN_SHARE = 0.45
# Share of examples that answer a question of a dialogue (data/dialogues.py), with the agent's
# turns as context; and of the others that get an opening turn as context, which changes nothing.
DIALOGUE_SHARE = 0.15
OPENER_SHARE = 0.05
# Share of dialogue answers whose context holds an earlier question and its answer first: the
# user's last bare place is then context, and only the question just before decides the role.
EARLIER_EXCHANGE_SHARE = 0.35
DIALOGUE_KINDS = (
    ("place", 40), ("date", 12), ("confirm", 14), ("no_slot", 12), ("cued", 10), ("domain", 7),
    ("switch", 5),
)  # fmt: skip
TURN_LENGTHS = ((1, 30), (2, 38), (3, 22), (4, 10))
TURN_PARTS = (("travel", 40), ("domain", 32), ("follow_up", 18), ("filler", 10))
TAIL_RATE = 0.12
LEAD_WORD_RATE = 0.06
# Places drawn as made-up names: chat is full of rare and fictional places that no table has.
FICTIONAL_SHARE = 0.08
MAX_DRAWS = 20
_PART_TEMPLATES = {"domain": DOMAIN, "follow_up": FOLLOW_UPS, "filler": FILLERS}
# Punctuation a speech transcript leaves out: what ends a word ("boston," "st."); "o'hare", "11/02"
# and "6.1.26" keep theirs.
_SPOKEN_DROP = re.compile(r"[,.?!;:]+(?=\s|$)")
_SLOT_LABELS = {
    "dep": DEPARTURE,
    "dst": DESTINATION,
    "dst2": DESTINATION,
    "when": DATE,
    "when2": DATE,
    "date": DATE,
    "date2": DATE,
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
        if self.rng.random() < FICTIONAL_SHARE:
            return self.fictional_place()
        for _ in range(20):
            kind = self.rng.choices(self.kinds, self.kind_weights)[0]
            every, major = self.by_kind[kind]
            place = self.rng.choice(major if self.rng.random() < MAJOR_SHARE else every)
            if place.key != avoid:
                return place.text
        return place.text

    def fictional_place(self) -> str:
        """A made-up place name: "Vexlara", "Puerto Corvinito", "Lake Thornhaven Springs"."""
        rng = self.rng
        name = (rng.choice(FICTIONAL_ROOTS) + rng.choice(FICTIONAL_ENDINGS)).capitalize()
        if rng.random() < 0.15:  # "Mont-Tremblant", "Raleigh-Durham"
            name += "-" + (rng.choice(FICTIONAL_ROOTS) + rng.choice(FICTIONAL_ENDINGS)).capitalize()
        elif rng.random() < 0.4:
            name = f"{rng.choice(FICTIONAL_PREFIXES)} {name}"
        if rng.random() < 0.25:
            name = f"{name} {rng.choice(FICTIONAL_SUFFIXES)}"
        return name

    def example(self) -> Example:
        """One example: a templated sentence or, :data:`TURN_SHARE` of the time, a turn.

        Drawn again when a span would not fall on token boundaries (a typo or a join can glue a
        span to its neighbour) or holds what no span may (a sentence end, a line break), so every
        gold span the model trains on is exactly its tokens and one the decoder can produce.
        """
        for _ in range(MAX_DRAWS):
            draw = self.rng.random()
            if draw < DIALOGUE_SHARE:
                example = self.dialogue()
            elif draw < DIALOGUE_SHARE + TURN_SHARE * (1 - DIALOGUE_SHARE):
                example = self.turn()
            else:
                example = self._surface(self._sentence())
            if draw >= DIALOGUE_SHARE and self.rng.random() < OPENER_SHARE:
                opener = self._context_turn(self.rng.choice(OPENERS))
                example = example.model_copy(update={"context": [opener]})
            if decodable_example(example):
                return example
        raise RuntimeError(f"no decodable example in {MAX_DRAWS} draws")

    def dialogue(self) -> Example:
        """A user's answer in a dialogue, with the agent's question (and what came before) as
        its context: the question decides a bare answer's role (data/dialogues.py)."""
        rng = self.rng
        kind = rng.choices([k for k, _ in DIALOGUE_KINDS], [w for _, w in DIALOGUE_KINDS])[0]
        slot = rng.choice(["dep", "dst"])
        if kind == "place":
            question, answer = rng.choice(ASK[slot]), rng.choice(ANSWERS)
        elif kind == "confirm":
            question, answer = rng.choice(CONFIRM[slot]), rng.choice(CORRECTIONS)
        elif kind == "date":
            question, answer = rng.choice(ASK["date"]), rng.choice(DATE_ANSWERS)
        elif kind in ("domain", "switch"):  # a hotel's, a table's or a taxi's turn
            question, answer = rng.choice(DOMAIN_AGENT), rng.choice(DOMAIN_ANSWERS)
        else:
            asked = rng.choice([*ASK["dep"], *ASK["dst"], *ASK["date"], *CONFIRM[slot]])
            question, answer = asked, rng.choice(NO_SLOT)
        context = [self._context_turn(question)]
        if rng.random() < EARLIER_EXCHANGE_SHARE:  # "Where from?" / "Kuala Lumpur." before it
            asked = rng.choice(["dep", "dst", "date"])
            answered = rng.choice(DATE_ANSWERS if asked == "date" else ANSWERS)
            context[:0] = [
                self._context_turn(rng.choice(ASK[asked])),
                self._context_turn(answered.replace("{ans}", "{place}")),
            ]
        if rng.random() < 0.4:
            context.insert(0, self._context_turn(rng.choice(EARLIER_USER)))
        if rng.random() < 0.3:
            context.insert(0, self._context_turn(rng.choice(OPENERS)))
        if kind in ("cued", "switch"):  # a cue in the answer wins over the question
            pieces = self._sentence()
        else:
            pieces = self._fill(expand(answer.replace("{ans}", "{" + slot + "}"), rng))
        return self._surface(pieces).model_copy(update={"context": context})

    def _context_turn(self, template: str) -> str:
        """An earlier turn as plain text: its places and days are context, never spans."""
        text = "".join(piece for piece, _ in self._fill(expand(template, self.rng)))
        return text.lower() if self.rng.random() < 0.2 else text

    def _sentence(self) -> list[tuple[str, str | None]]:
        template = self.rng.choices(TEMPLATES, self.template_weights)[0][1]
        if template == "{negative}":
            template = self.rng.choice(NEGATIVES)
        return self._fill(expand(template, self.rng))

    def turn(self) -> Example:
        """A conversation turn: one to four sentences (travel requests, other domains, follow-ups)
        joined as people join them, with sentence punctuation, line breaks and emoji."""
        rng = self.rng
        count = rng.choices([n for n, _ in TURN_LENGTHS], [w for _, w in TURN_LENGTHS])[0]
        pieces: list[tuple[str, str | None]] = []
        for i in range(count):
            kind = rng.choices([k for k, _ in TURN_PARTS], [w for _, w in TURN_PARTS])[0]
            if kind == "travel":
                part = self._sentence()
            else:
                part = self._fill(expand(rng.choice(_PART_TEMPLATES[kind]), rng))
            part = self._with_tails(part)
            if rng.random() < LEAD_WORD_RATE:  # "recap: ...", "hubby ...", "BRO the ... deal"
                word = rng.choice(ordinary_words())
                lead = word.upper() if rng.random() < 0.15 else word
                part = [(lead + rng.choice([" ", ", ", ": ", " - "]), None), *part]
            if i:
                separator = rng.choices([s for s, _ in SEPARATORS], [w for _, w in SEPARATORS])[0]
                pieces.append((separator, None))
            pieces += _capitalized(part) if rng.random() < 0.5 else part
        if rng.random() < 0.15:
            pieces.append((f" {rng.choice(EMOJI)}", None))
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
                    preposition = date.preposition
                    if preposition == "on" and date.text.lower() in _WEEKDAYS:
                        # "on a wednesday": the article stays outside (data/README.md)
                        preposition = self.rng.choice(["on", "on", "on a"])
                    pieces.append((f"{preposition} ", None))
                pieces.append((date.text, _SLOT_LABELS[slot]))
            elif slot in ("date", "date2"):
                pieces.append((random_date(self.rng).text, _SLOT_LABELS[slot]))
            elif slot == "dst2":
                text = self.place(avoid=used)
                pieces.append((text, _SLOT_LABELS[slot]))
            elif slot == "place":
                pieces.append((self.place(), None))
            elif slot == "nodate":
                pieces.append((random_date(self.rng).text, None))
            elif slot == "airline":
                pieces.append((self.rng.choice(AIRLINES), None))
            elif slot == "airline_code":
                pieces.append((self.rng.choice(AIRLINE_CODES), None))
            elif slot == "venue":
                pieces.append((self._venue(), None))
            elif slot == "word":
                word = self.rng.choice(ordinary_words())
                pieces.append((word.capitalize() if self.rng.random() < 0.3 else word, None))
            elif slot == "duration":
                pieces.append((self._duration(), None))
            elif slot == "range":
                pieces += self._range()
            elif slot == "time":
                pieces.append((self.rng.choice(NOT_DATES), None))
            elif slot == "clock":
                pieces.append((self._clock(), None))
            elif slot == "timed":
                pieces.append((self.rng.choice(TIMED_VEHICLES), None))
            else:
                raise ValueError(f"unknown slot {{{slot}}} in {template!r}")
            position = match.end()
        pieces.append((template[position:], None))
        return [(text, label) for text, label in pieces if text]

    def _with_tails(self, part: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
        """Now and then a word right after a span, outside it ("Wednesday now", "the Lima deal")."""
        out: list[tuple[str, str | None]] = []
        for i, (text, label) in enumerate(part):
            out.append((text, label))
            following = part[i + 1][0] if i + 1 < len(part) else ""
            if label is not None and self.rng.random() < TAIL_RATE and not following[:1].isalnum():
                tail = self.rng.choice(TAILS)
                out.append((tail if tail.startswith(",") else f" {tail}", None))
        return out

    def _venue(self) -> str:
        """A taxi's end, a hotel or a restaurant: "the Acorn Guest House", "Grafton Centre"."""
        rng = self.rng
        if rng.random() < 0.25:
            return rng.choice(VENUE_CHAINS)
        head = self.place() if rng.random() < 0.4 else rng.choice(ordinary_words()).capitalize()
        if rng.random() < 0.25:  # "Hotel Serenidad", "Casa Blanca"
            venue = f"{rng.choice(VENUE_PREFIXES)} {head}"
        else:
            venue = f"{head} {rng.choice(VENUE_SUFFIXES)}"
        return f"the {venue}" if rng.random() < 0.5 else venue

    def _clock(self) -> str:
        """A departure time that names a service: "8:04", "16:54", "5:59pm", "7.15"."""
        rng = self.rng
        if rng.random() < 0.6:
            text = f"{rng.randint(5, 23)}:{rng.randint(0, 59):02d}"
        else:
            text = f"{rng.randint(1, 12)}{rng.choice([':', ':', '.'])}{rng.randint(0, 59):02d}"
            text += rng.choice(["", "", "am", "pm", " am", " pm"])
        return text

    def _duration(self) -> str:
        number, unit = self.rng.choice(DURATION_NUMBERS), self.rng.choice(DURATION_UNITS)
        joiner = "-" if self.rng.random() < 0.2 and not number.startswith("a ") else " "
        return f"{number}{joiner}{unit}"

    def _range(self) -> list[tuple[str, str | None]]:
        """Two dates written as a range: "june 3-9", "the 4th-12th", "oct 2 to 5", "5-8"."""
        rng = self.rng
        first = rng.randint(1, 25)
        last = rng.randint(first + 1, min(first + 14, 31))
        month = rng.choice([*MONTHS, *MONTH_ABBR]).lower() if rng.random() < 0.7 else ""
        ordinal = rng.random() < 0.35
        a, b = (ordinal_suffix(first), ordinal_suffix(last)) if ordinal else (str(first), str(last))
        dash = rng.choice(["-", "-", "-", " - ", " to ", " till ", " through ", "–"])
        if month and rng.random() < 0.75:
            start = f"{month} {a}" if rng.random() < 0.7 else f"the {a} of {month}"
        elif ordinal or rng.random() < 0.3:
            start = f"the {a}" if ordinal and rng.random() < 0.6 else a
        else:  # a bare "5-8" is a range mostly when a month or "the" says so
            start = f"the {ordinal_suffix(first)}"
        end = f"{month} {b}" if month and rng.random() < 0.15 else b
        return [(start, DATE), (dash, None), (end, DATE)]

    def _surface(self, pieces: list[tuple[str, str | None]]) -> Example:
        style = self.rng.choices([s for s, _ in STYLES], [w for _, w in STYLES])[0]
        out: list[tuple[str, str | None]] = []
        for text, label in pieces:
            if style == "lower" or (style == "chat" and (label is None or self.rng.random() < 0.5)):
                text = text.lower()
            elif style == "upper":
                text = text.upper()
            elif style == "title" or (style == "natural" and label == DATE):
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


def decodable_example(example: Example) -> bool:
    """Every span is exactly its tokens, and the decoder could produce its tags (model.spans)."""
    tokens = tokenize(example.text)
    try:
        tags, expanded = to_bio(tokens, [(s.start, s.end, s.label) for s in example.spans])
    except ValueError:
        return False
    if expanded or not decodable(tags, token_limits(example.text, tokens)):
        return False
    if any(_SPACED_JOINER.search(example.text[s.start : s.end]) for s in example.spans):
        return False  # "Carrasco International /General ...": spaCy keeps "/general" one token
    # and reads back as the same spans: from_bio leaves an edge joiner out ("homyel'" is "homyel")
    gold = sorted((s.start, s.end, s.label) for s in example.spans)
    return gold == [(s.start, s.end, s.label) for s in from_bio(example.text, tokens, tags)]


_SPACED_JOINER = re.compile(r"\s[-–/]|[-–/]\s")
_WEEKDAYS = {w.lower() for w in (*WEEKDAYS, *WEEKDAY_ABBR)}
_QUESTION_WORDS = {"what", "which", "how", "when", "is", "are", "do", "does", "can", "could"}
_NAMES = {w.lower(): w for w in (*MONTHS, *MONTH_ABBR, *WEEKDAYS, *WEEKDAY_ABBR)}


def _capitalize_names(text: str) -> str:
    return " ".join(_NAMES.get(w.lower(), w) for w in text.split(" "))


def _title_words(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))


def _natural_pronouns(text: str) -> str:
    return re.sub(r"\bi(?=('m|'d|'ll|'ve)?\b)", "I", text)


def _capitalized(pieces: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """The sentence with its first letter in capitals, as a new sentence of a turn starts."""
    if not pieces or not pieces[0][0]:
        return pieces
    (text, label), rest = pieces[0], pieces[1:]
    return [(text[0].upper() + text[1:], label), *rest]


def _join(pieces: list[tuple[str, str | None]]) -> tuple[str, list[GoldSpan]]:
    """Concatenate pieces, squeezing spaces (line breaks stay), and place the labelled ones as
    spans; a span follows a word or sentence punctuation after a space, and a dash or a line
    break directly ("june 3-9")."""
    text, spans = "", []
    for piece, label in pieces:
        if label is None:
            piece = re.sub(r"[^\S\n]+", " ", piece)
            if text.endswith((" ", "\n")) or not text:
                piece = piece.lstrip(" ")
            text += piece
            continue
        piece = " ".join(piece.split())
        if not piece:
            continue
        if text and not text.endswith((" ", "\n", "-", "–")):
            text += " "
        spans.append(GoldSpan(start=len(text), end=len(text) + len(piece), label=label))
        text += piece
    stripped = text.rstrip()
    if stripped.lstrip() != stripped:
        raise ValueError(f"a generated text starts with whitespace: {stripped!r}")
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
