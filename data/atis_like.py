"""A stand-in for the ATIS slot-filling benchmark: small, lowercase, many labels, BIO files.

The real ATIS split (4,478 / 500 / 893 sentences, ~120 BIO labels) is not in this repository and
cannot be fetched here. This generator writes data of the same shape so that the training
defaults for "little data, many labels" can be chosen and checked: transcribed airline queries
with ATIS's slot names (``fromloc.city_name``, ``depart_date.day_name``, ``round_trip``, ...),
the same split sizes, and test sentences that use cities, airlines and numbers training never
saw. It is *not* ATIS: its sentences are templated and easier, so its scores only compare
settings with each other; they are not a result on the benchmark.

    python -m data.atis_like --seed 0 --out build/atis_like   # train.bio, valid.bio, test.bio
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import typer

from data.date_phrases import MONTHS as CALENDAR_MONTHS
from data.date_phrases import WEEKDAYS, ordinal_words

Tagged = list[tuple[str, str]]  # (token, BIO tag)

SPLIT_SIZES = {"train": 4478, "valid": 500, "test": 893}

CITIES = [
    "boston",
    "denver",
    "pittsburgh",
    "atlanta",
    "baltimore",
    "dallas",
    "philadelphia",
    "washington",
    "oakland",
    "miami",
    "chicago",
    "seattle",
    "houston",
    "detroit",
    "milwaukee",
    "orlando",
    "tampa",
    "phoenix",
    "minneapolis",
    "cleveland",
    "cincinnati",
    "memphis",
    "nashville",
    "indianapolis",
    "montreal",
    "toronto",
    "burbank",
    "columbus",
    "charlotte",
    "newark",
] + [
    "san francisco",
    "new york",
    "los angeles",
    "salt lake city",
    "fort worth",
    "las vegas",
    "kansas city",
    "san jose",
    "san diego",
    "long beach",
    "st. louis",
    "st. paul",
]
# Only in the test split: names the model must tag from their context and characters.
TEST_CITIES = ["tacoma", "albuquerque", "el paso", "sacramento", "st. petersburg", "boise"]
AIRPORTS = ["logan", "love field", "stapleton", "la guardia", "kennedy", "general mitchell"]
AIRPORT_CODES = ["bwi", "dfw", "lax", "jfk", "sfo", "mco", "ord", "iah"]
STATES = ["california", "texas", "florida", "arizona", "colorado", "georgia", "ohio", "utah"]
AIRLINES = [
    "american airlines",
    "delta",
    "united",
    "continental",
    "us air",
    "twa",
    "northwest",
    "eastern",
    "alaska airlines",
    "america west",
]
TEST_AIRLINES = ["lufthansa", "midwest express", "air canada"]
AIRLINE_CODES = ["aa", "dl", "ua", "co", "us", "nw", "tw", "hp"]
DAYS = [day.lower() for day in WEEKDAYS]
MONTHS = [month.lower() for month in CALENDAR_MONTHS]
# Spoken as the ATIS speakers said them: "twenty first", no hyphen.
DAY_NUMBERS = [ordinal_words(n) for n in (*range(1, 13), 15, 20, 21, 22, 31)]
PERIODS = ["morning", "afternoon", "evening", "night", "early morning"]
TODAY_RELATIVE = ["today", "tomorrow", "tonight"]
AIRCRAFT = ["737", "767", "m80", "dc10", "747", "72s"]
FARE_CODES = ["qx", "fn", "bh", "y", "qo", "h"]
MEALS = ["breakfast", "lunch", "dinner", "snack"]
TRANSPORT = ["taxi", "limousine", "rental car", "bus", "car"]


def _span(words: str, label: str) -> Tagged:
    tokens = words.split()
    return [(t, ("B-" if i == 0 else "I-") + label) for i, t in enumerate(tokens)]


def _o(words: str) -> Tagged:
    return [(t, "O") for t in words.split()]


class _Draw:
    """Random choices, with the test split's extra names mixed in for the test split only."""

    def __init__(self, rng: random.Random, test: bool) -> None:
        self.rng, self.test = rng, test

    def pick(self, items: list[str] | tuple[str, ...], extra: list[str] = ()) -> str:
        if self.test and extra and self.rng.random() < 0.3:
            return self.rng.choice(extra)
        return self.rng.choice(items)

    def city(self) -> str:
        return self.pick(CITIES, TEST_CITIES)

    def airline(self) -> str:
        return self.pick(AIRLINES, TEST_AIRLINES)

    def time(self) -> str:
        rng = self.rng
        if rng.random() < 0.2:
            return rng.choice(["noon", "midnight"])
        hour = rng.randint(1, 12)
        if rng.random() < 0.3:
            hour = hour * 100 + rng.choice([0, 15, 30, 45, 38, 10])
        return f"{hour} {rng.choice(['am', 'pm', 'o clock'])}" if rng.random() < 0.8 else str(hour)

    def flight_number(self) -> str:
        if self.test:
            return str(self.rng.randint(1000, 9999))
        return str(self.rng.choice([21, 83, 201, 345, 417, 539, 1291, 1765, 3724]))


def _date(d: _Draw, prefix: str) -> Tagged:
    """A date, labelled ``prefix.day_name`` and the like, with the words ATIS puts around it."""
    rng = d.rng
    kind = rng.random()
    if kind < 0.35:
        out = _o(rng.choice(["on", "", "next"]) if rng.random() < 0.8 else "this")
        if out and out[-1][0] in ("next", "this"):
            out = _span(out[-1][0], f"{prefix}.date_relative")
            out = _o("on") + out if rng.random() < 0.3 else out
        return out + _span(d.pick(DAYS), f"{prefix}.day_name")
    if kind < 0.75:
        month = _span(d.pick(MONTHS), f"{prefix}.month_name")
        day = _span(d.pick(DAY_NUMBERS), f"{prefix}.day_number")
        body = month + day if rng.random() < 0.6 else day + _o("of") + month
        return _o("on") + body if rng.random() < 0.8 else body
    if kind < 0.9:
        return _span(d.pick(TODAY_RELATIVE), f"{prefix}.today_relative")
    return (
        _o("on")
        + _span(d.pick(MONTHS), f"{prefix}.month_name")
        + _span(d.pick(DAY_NUMBERS), f"{prefix}.day_number")
        + _span(str(rng.choice([1991, 1992, 1993])), f"{prefix}.year")
    )


def _time(d: _Draw, prefix: str) -> Tagged:
    rng = d.rng
    kind = rng.random()
    if kind < 0.35:
        rel = rng.choice(["before", "after", "around", "earlier than", "later than", "by"])
        return _span(rel, f"{prefix}.time_relative") + _span(d.time(), f"{prefix}.time")
    if kind < 0.55:
        return _o("at") + _span(d.time(), f"{prefix}.time")
    if kind < 0.7:
        return (
            _o("between")
            + _span(d.time(), f"{prefix}.start_time")
            + _o("and")
            + _span(d.time(), f"{prefix}.end_time")
        )
    out = _o("in the")
    if rng.random() < 0.3:
        out += _span(rng.choice(["early", "late", "mid"]), f"{prefix}.period_mod")
    return out + _span(d.pick(PERIODS), f"{prefix}.period_of_day")


def _place(d: _Draw, role: str) -> Tagged:
    rng = d.rng
    kind = rng.random()
    if kind < 0.8:
        out = _span(d.city(), f"{role}.city_name")
        if rng.random() < 0.1:
            out += _span(d.pick(STATES), f"{role}.state_name")
        return out
    if kind < 0.9:
        return _span(d.pick(AIRPORTS), f"{role}.airport_name") + _o(rng.choice(["airport", ""]))
    return _span(d.pick(AIRPORT_CODES), f"{role}.airport_code")


def _flight_query(d: _Draw) -> Tagged:
    rng = d.rng
    start = rng.choice(
        [
            "show me",
            "i want",
            "i would like",
            "list",
            "what are",
            "give me",
            "i need",
            "please list",
            "can you show me",
            "find me",
            "please give me",
            "i am looking for",
        ]
    )
    out = _o(start)
    if rng.random() < 0.25:
        out += _span(rng.choice(["cheapest", "lowest", "least expensive"]), "cost_relative")
    elif rng.random() < 0.15:
        out += _span(rng.choice(["first", "last", "earliest", "latest"]), "flight_mod")
    if rng.random() < 0.15:
        out += _span(rng.choice(["nonstop", "direct"]), "flight_stop")
    if rng.random() < 0.15:
        out += _span(rng.choice(["round trip", "one way"]), "round_trip")
    if rng.random() < 0.1:
        out += _span(rng.choice(["first class", "business class", "coach"]), "class_type")
    out += _o(rng.choice(["flights", "flight", "fares", "a flight", "the flights", "airfare"]))
    parts: list[Tagged] = [_o("from") + _place(d, "fromloc"), _o("to") + _place(d, "toloc")]
    if rng.random() < 0.45:
        parts.append(_date(d, "depart_date"))
    if rng.random() < 0.35:
        parts.append(
            _o(rng.choice(["leaving", "departing", ""])) + _time(d, "depart_time")
            if rng.random() < 0.7
            else _o(rng.choice(["arriving", "that arrive"])) + _time(d, "arrive_time")
        )
    if rng.random() < 0.2:
        parts.append(_o(rng.choice(["on", "with", "flying"])) + _span(d.airline(), "airline_name"))
    if rng.random() < 0.1:
        parts.append(
            _o(rng.choice(["with a stop in", "stopping in", "via"])) + _place(d, "stoploc")
        )
    if rng.random() < 0.1:
        parts.append(_o("returning") + _date(d, "return_date"))
    if rng.random() < 0.08:
        parts.append(_o("arriving") + _date(d, "arrive_date"))
    if rng.random() < 0.07:
        parts.append(_o("that serve") + _span(d.pick(MEALS), "meal_description"))
    if rng.random() < 0.06:
        parts.append(
            _o(rng.choice(["for under", "for less than"]))
            + _span(f"{rng.choice([150, 200, 300, 416, 932])} dollars", "fare_amount")
        )
    head, rest = parts[:2], parts[2:]
    if rng.random() < 0.2:
        head.reverse()
    rng.shuffle(rest)
    for part in head + rest:
        out += part
    return out


def _other_query(d: _Draw) -> Tagged:
    rng = d.rng
    kind = rng.randrange(7)
    if kind == 0:
        return (
            _o(rng.choice(["what ground transportation is available in", "is there a", "show"]))
            + (_span(d.pick(TRANSPORT), "transport_type") + _o("in") if rng.random() < 0.3 else [])
            + _span(d.city(), "city_name")
        )
    if kind == 1:
        return _o("what does fare code") + _span(d.pick(FARE_CODES), "fare_basis_code") + _o("mean")
    if kind == 2:
        return (
            _o("what type of aircraft is used on")
            + _span(d.airline(), "airline_name")
            + _o("flight")
            + _span(d.flight_number(), "flight_number")
        )
    if kind == 3:
        return _o("what airline is") + _span(d.pick(AIRLINE_CODES), "airline_code")
    if kind == 4:
        return _o("which airlines fly from") + _place(d, "fromloc") + _o("to") + _place(d, "toloc")
    if kind == 5:
        return _o("what is the capacity of a") + _span(d.pick(AIRCRAFT), "aircraft_code")
    return _o("what airports are in") + _span(d.city(), "city_name")


def sentence(rng: random.Random, test: bool = False) -> Tagged:
    """One tagged query."""
    d = _Draw(rng, test)
    make: Callable[[_Draw], Tagged] = _flight_query if rng.random() < 0.82 else _other_query
    return make(d)


def write_bio(sentences: list[Tagged], path: Path) -> None:
    """CoNLL-style BIO: ``token<TAB>tag`` lines, a blank line after each sentence (atomically)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join("".join(f"{t}\t{g}\n" for t, g in s) + "\n" for s in sentences))
    tmp.replace(path)


def main(
    seed: int = typer.Option(0, help="random seed; the same seed writes the same files"),
    out: Path = typer.Option(..., help="folder for train.bio, valid.bio and test.bio"),
) -> None:
    """Write the ATIS-shaped stand-in data set (not ATIS: see the module docstring)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    for split, size in SPLIT_SIZES.items():
        sentences = [sentence(rng, test=split == "test") for _ in range(size)]
        write_bio(sentences, out / f"{split}.bio")
    typer.echo(f"wrote {sum(SPLIT_SIZES.values())} sentences to {out}", err=True)


if __name__ == "__main__":
    typer.run(main)
