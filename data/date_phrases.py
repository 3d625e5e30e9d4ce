"""Date expressions for the generator, in every common written and spoken form.

Each form returns the date text and how it attaches to a sentence: absolute dates and weekdays take
"on" or nothing ("on november 2nd", "monday"), relative ones ("tomorrow", "next friday") take
nothing. Times of day, prices and flight numbers are *not* dates; :data:`NOT_DATES` lists such
look-alikes for the generator to put in sentences as plain words.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from model.values.dates import ORDINAL_WORDS

_ORDINAL_BY_NUMBER = {n: w for w, n in reversed(ORDINAL_WORDS.items()) if "-" not in w}

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
MONTH_ABBR = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Sept",
    "Oct",
    "Nov",
    "Dec",
)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAY_ABBR = ("Mon", "Tue", "Tues", "Wed", "Thu", "Thurs", "Fri", "Sat", "Sun")
_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]


def ordinal_suffix(n: int) -> str:
    """1 -> '1st', 22 -> '22nd', 13 -> '13th'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def ordinal_words(n: int) -> str:
    """1 -> 'first', 21 -> 'twenty first', 30 -> 'thirtieth' (1..31), as model.values.dates reads
    them."""
    return _ORDINAL_BY_NUMBER[n]


def cardinal_words(n: int) -> str:
    """0..99 in words: 21 -> 'twenty one'."""
    if n < 20:
        return _UNITS[n]
    tens = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"][
        n // 10 - 2
    ]
    return tens if n % 10 == 0 else f"{tens} {_UNITS[n % 10]}"


@dataclass(frozen=True, slots=True)
class DateText:
    """A date expression and the preposition that may stand before it (outside the span).

    "on" for days ("on november 2nd"), "in" for months ("in early march"), None for relative
    expressions that take none ("tomorrow", "next friday", "in two weeks").
    """

    text: str
    preposition: str | None


def _day(rng: random.Random) -> int:
    return rng.choice([rng.randint(1, 28), rng.randint(1, 31), rng.randint(1, 12)])


def _day_text(rng: random.Random, day: int) -> str:
    return rng.choice([ordinal_suffix(day), ordinal_suffix(day), ordinal_words(day), str(day)])


def _year(rng: random.Random) -> str:
    year = rng.choice([2025, 2026, 2026, 2027])
    return rng.choice([str(year), str(year), f"twenty {cardinal_words(year % 100)}"])


def _absolute(rng: random.Random) -> str:
    month_index = rng.randrange(12)
    month, day = MONTHS[month_index], _day(rng)
    abbr = rng.choice(MONTH_ABBR)
    m, d = month_index + 1, day
    forms = [
        lambda: f"{month} {_day_text(rng, day)}",
        lambda: f"{month} {_day_text(rng, day)}",
        lambda: f"{month} {ordinal_words(day)}",
        lambda: f"{abbr}{rng.choice(['', '.'])} {rng.choice([str(day), ordinal_suffix(day)])}",
        lambda: f"{day} {rng.choice([month, abbr])}",
        lambda: f"{ordinal_suffix(day)} of {month}",
        lambda: f"the {rng.choice([ordinal_suffix(day), ordinal_words(day)])} of {month}",
        lambda: f"{month} the {rng.choice([ordinal_suffix(day), ordinal_words(day)])}",
        lambda: f"{m}/{d}" if rng.random() < 0.5 else f"{m:02d}/{d:02d}",
        lambda: f"{m}/{d}/{rng.choice(['2026', '26', '2027'])}",
        lambda: f"{rng.choice(['2026', '2027'])}-{m:02d}-{d:02d}",
        lambda: f"{month} {_day_text(rng, day)}{rng.choice([',', ''])} {_year(rng)}",
        lambda: f"{rng.choice(WEEKDAYS)}{rng.choice([',', ''])} {month} {_day_text(rng, day)}",
        lambda: (
            f"{rng.choice(WEEKDAYS)} the {rng.choice([ordinal_suffix(day), ordinal_words(day)])}"
        ),
        lambda: f"{rng.choice(WEEKDAYS)}{rng.choice([',', ''])} {abbr} {day}",
        lambda: f"{d}.{m}.{rng.choice(['2026', '26'])}",
    ]
    return rng.choice(forms)()


def random_date(rng: random.Random) -> DateText:
    """One date expression in a random common form."""
    kind = rng.random()
    if kind < 0.45:
        return DateText(_absolute(rng), "on")
    if kind < 0.62:
        day = rng.choice([rng.choice(WEEKDAYS), rng.choice(WEEKDAYS), rng.choice(WEEKDAY_ABBR)])
        return DateText(day, "on")
    if kind < 0.72:
        day = _day(rng)
        return DateText(f"the {rng.choice([ordinal_suffix(day), ordinal_words(day)])}", "on")
    if kind < 0.76:
        month = rng.choice(MONTHS)
        forms = [
            month,
            month,
            f"early {month}",
            f"mid {month}",
            f"mid-{month}",
            f"late {month}",
            f"the end of {month}",
            f"the beginning of {month}",
            f"{month} {_year(rng)}",
        ]
        return DateText(rng.choice(forms), "in")
    weekday = rng.choice(WEEKDAYS)
    relative = [
        "today",
        "tomorrow",
        "tomorrow",
        "tomorrow",
        "the day after tomorrow",
        "day after tomorrow",
        f"next {weekday}",
        f"next {weekday}",
        f"this {weekday}",
        f"this coming {weekday}",
        f"{weekday} next week",
        f"this {weekday}",
        "next week",
        "this weekend",
        "next weekend",
        "next month",
        "tonight",
        "this week",
        f"a week from {rng.choice(['today', 'tomorrow', weekday])}",
        f"{rng.choice(['two', 'three', '2', '3'])} weeks from now",
        f"in {rng.choice(['two', 'three', 'a few', '2', '10', 'ten'])} days",
        f"in {rng.choice(['two', 'a couple of', '2', 'three'])} weeks",
        "the following day",
        "the next day",
        "the same day",
        "same day",
        "later today",
        f"the {rng.choice(['first', 'second', 'last'])} week of {rng.choice(MONTHS)}",
        f"this {rng.choice(['monday', 'friday', 'saturday', 'sunday'])}",
        "christmas",
        "christmas eve",
        "new year's eve",
        "new year's day",
        "thanksgiving",
        "easter",
        "labor day",
        "memorial day",
        "the fourth of july",
        "independence day",
        "valentine's day",
        "the weekend",
        "this coming weekend",
        "later this week",
        f"the weekend of the {ordinal_suffix(_day(rng))}",
        "tomorrow",
        "today",
        rng.choice(["tmrw", "tmr", "2morrow", "tomorow"]),
        rng.choice(["labor day weekend", "memorial day weekend", "thanksgiving weekend"]),
    ]
    return DateText(rng.choice(relative), None)


NOT_DATES = (
    "at 5 pm",
    "at 5pm",
    "at 10:30",
    "at 7:45 am",
    "at noon",
    "around noon",
    "before 9 am",
    "after 6 pm",
    "by 3 o'clock",
    "in the morning",
    "in the afternoon",
    "in the evening",
    "at night",
    "early in the morning",
    "late at night",
    "around 8",
    "at 11 in the morning",
    "between 2 and 4 pm",
    "leaving after 17:30",
    "arriving by 14:00",
    "before noon",
    "in the late afternoon",
    "at eight a m",
    "at six thirty p m",
    "around seven o'clock",
    "after 10:15",
    "by 20:45",
    "in the early morning",
    "at 0900",
    "at midnight",
    "by 14 00",
    "at 14 30",
    "this evening",
    "this morning",
    "this afternoon",
    "in the evening",
    "around 5",
    "at 6am",
    "by 9:30 am",
    "before 11",
    "after lunch",
    "at dinner time",
    "by the afternoon",
)
# Times as modifiers of a vehicle: "the 6am flight", "the 7:15 train" (never dates).
TIMED_VEHICLES = (
    "the 6am flight",
    "the 7:15 train",
    "the 9 am bus",
    "the 10:30 flight",
    "the 5 o'clock train",
    "the 8pm flight",
    "the 11:45 bus",
    "the noon flight",
    "the 6 30 train",
    "the 1 pm flight",
    "the red eye",
    "the 7am",
    "the 4:50 train",
    "the midnight bus",
)
