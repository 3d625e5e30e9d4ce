"""Date resolution: a date span's text to a calendar date or range, relative to a reference date.

dateparser reads what it reads well ("in 3 months", "3 months ago"). The glue here covers what it
lacks or gets wrong: ordinal words ("the twenty first"), a bare day of the month ("the 5th",
which dateparser reads as May), weekday phrases with a stated meaning ("this friday", "next
monday"), months and parts of months as ranges ("early march"), weeks and weekends, holidays, "a
week from X", days relative to the previous date in the same text ("the following day"), years
said in words ("twenty twenty six"), chat's "wknd", and date words typed with a slip ("frriday",
"janaury 20th": a word of 5 letters or more at Damerau-Levenshtein distance 1 from exactly one
date word, never one of :data:`REAL_WORDS`), which dateparser cannot read at all. It also reads
what dateparser would read but slowly (ISO dates): dateparser costs 2-3 ms a text, which in
traffic that never repeats is most of a sentence's cost.

Policy (:class:`DatePolicy`): a date without a year is the next one on or after the reference
date (``prefer="future"``, the default), the last one on or before it (``"past"``), or the closer
of the two (``"nearest"``). A bare weekday is the next such day after the reference date; "this
friday" the one in the coming seven days (today included); "next friday" the one in the following
calendar week (weeks start on Monday). Numeric dates read month first (``date_order="MDY"``) or day
first (``"DMY"``). Range ends are inclusive.

The glue is :data:`RULES`, an ordered table of small rules, each a pattern for the whole text with
its name and its examples; dateparser is the last. "Today" is :func:`today_in` a time zone (UTC
unless one is given), and :func:`check_timezone` is the one check of a time zone's name.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, available_timezones

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS["sept"] = 9
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
WEEKDAYS |= {name.lower(): i for i, name in enumerate(calendar.day_abbr)}
WEEKDAYS |= {"tues": 1, "thur": 3, "thurs": 3, "weds": 2}
_ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
NUMBER_WORDS = {w: i for i, w in enumerate(_UNITS, 1)} | {
    "a": 1,
    "an": 1,
    "a couple of": 2,
    "couple of": 2,
    "a few": 3,
    "few": 3,
}


def _ordinal_words() -> dict[str, int]:
    words = {w: i for i, w in enumerate(_ORDINALS, 1)} | {"twentieth": 20, "thirtieth": 30}
    for tens, base in (("twenty", 20), ("thirty", 30)):
        for i, w in enumerate(_ORDINALS[:9], 1):
            words[f"{tens} {w}"] = base + i
            words[f"{tens}-{w}"] = base + i
    return words


ORDINAL_WORDS = _ordinal_words()
_ORDINAL_RE = re.compile(r"\b(" + "|".join(sorted(ORDINAL_WORDS, key=len, reverse=True)) + r")\b")
_MONTH = r"(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
DEFAULT_TIMEZONE = "UTC"  # whose "today" dates are read against unless a time zone is given


@dataclass(frozen=True, slots=True)
class DatePolicy:
    """How to read dates that do not say everything."""

    prefer: Literal["future", "past", "nearest"] = "future"
    date_order: Literal["MDY", "DMY"] = "MDY"


# ----- time zones and today -----


@cache
def timezones() -> frozenset[str]:
    """The IANA time zone names this machine knows."""
    return frozenset(available_timezones())


def check_timezone(name: str) -> str:
    """The one timezone check (the API, the settings, the CLI and :func:`today_in` use it).

    Returns:
        ``name``, a known IANA time zone.

    Raises:
        ValueError: naming ``name``, if it is not one.
    """
    if name not in timezones():
        shown = repr(name) if len(name) <= 40 else f"{name[:40]!r}... ({len(name):,} characters)"
        raise ValueError(f"unknown timezone {shown}; expected an IANA name like 'Asia/Shanghai'")
    return name


def today_in(timezone: str = DEFAULT_TIMEZONE, now: datetime | None = None) -> date:
    """The one rule for "today": the date it is in ``timezone`` (an IANA name; default UTC) at
    ``now`` (default: this moment). Never the server's local date.

    Raises:
        ValueError: for a name that is not a known time zone.
    """
    zone = ZoneInfo(check_timezone(timezone))
    return (now or datetime.now(UTC)).astimezone(zone).date()


@dataclass(frozen=True, slots=True)
class Today:
    """The reference date "today in ``timezone``", read when the texts are tagged, not before.

    What the API, the CLI and the spaCy component hand the predictor when no date is given.

    Raises:
        ValueError: for a name that is not a known time zone (at construction).
    """

    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        check_timezone(self.timezone)

    def day(self, now: datetime | None = None) -> date:
        """The date it is in the time zone at ``now`` (default: this moment)."""
        return today_in(self.timezone, now)


# ----- values and the calendar -----


def day_value(day: date) -> dict[str, Any]:
    return {"type": "date", "date": day.isoformat(), "grain": "day"}


def range_value(start: date, end: date, grain: str) -> dict[str, Any]:
    return {"type": "range", "start": start.isoformat(), "end": end.isoformat(), "grain": grain}


def normalize(text: str) -> str:
    """Lowercase, no commas or final periods, years said in words as numbers ("twenty twenty
    six" -> "2026"), ordinal words as numbers ("first" -> "1th")."""
    text = text.lower().replace(",", " ").replace("’", "'")
    text = re.sub(r"\bmid-", "mid ", text)
    text = re.sub(r"\.(?=\s|$)", " ", text)
    if "twenty" in text or "thousand" in text:
        text = _SPOKEN_YEAR_RE.sub(_spoken_year, text)
    text = _ORDINAL_RE.sub(lambda m: f"{ORDINAL_WORDS[m.group(1)]}th", text)
    return " ".join(text.split())


# A year said in words: "twenty twenty six", "twenty thirty", "two thousand and twenty-six".
_SPOKEN_YEAR_RE = re.compile(
    r"\b(?:twenty|two thousand(?: and)?) (twenty|thirty)(?:[ -](" + "|".join(_UNITS[:9]) + r"))?\b"
)


def _spoken_year(m: re.Match[str]) -> str:
    tens = 20 if m.group(1) == "twenty" else 30
    return str(2000 + tens + (_UNITS.index(m.group(2)) + 1 if m.group(2) else 0))


# The words of date phrases, for reading one typed with a slip ("frriday", "janaury 20th"):
# months and weekdays in full, the ordinal words and the words of the other rules' phrases.
DATE_WORDS = frozenset(
    [name.lower() for name in calendar.month_name if name]
    + [name.lower() for name in calendar.day_name]
    + [word for ordinal in ORDINAL_WORDS for word in ordinal.split()]
    + ["tomorrow", "today", "tonight", "week", "weekend", "weeks", "month", "next", "following"]
    + ["coming", "after", "christmas", "thanksgiving", "easter", "halloween", "memorial"]
    + ["labor", "independence", "valentine's", "twenty", "thirty", "beginning", "middle"]
)
_SHORTEST_SLIP = 5  # shorter words are left as they are: "tody", "nxet" and "net" are too close
# English words one slip from a date word, among the 50,000 most frequent (wordfreq; the test
# tests/model/values/test_dates.py finds them again): a word a person meant, never mended.
# Left out, as in a date phrase they are the slip: "weeknd", "todays", "begining", "comming".
REAL_WORDS = frozenset(
    [
        *("months", "match", "eight", "master", "seconds", "mouth", "eastern", "easier"),
        *("labour", "faster", "teeth", "forth", "fifty", "seeks", "alter", "weekends", "sixty"),
        *("marco", "thirds", "marsh", "coding", "seventy", "eighty", "sundays", "thirsty"),
        *("coping", "monte", "beginnings", "tents", "augusta", "saturdays", "monty", "comin"),
        *("weeds", "fridays", "riddle", "fiddle", "eater", "filth", "mondays", "tuesdays"),
        *("geeks", "thursdays", "memorials", "wednesdays", "merch", "firth", "caster"),
        *("valentines", "ester", "fifths", "combing", "homing", "frida", "tenths", "firsts"),
        *("marcy", "avril", "meddle", "hirst", "meeks", "aster", "labors", "reeks", "auguste"),
        *("muddle", "tabor", "weeps", "fourths", "sundae", "sundry", "augusto", "biddle"),
        *("memoriam", "taster", "leeks", "eights", "libor", "coking", "comings", "raster"),
        *("peeks", "gabor", "rafter"),
    ]
)


def _spelled_right(text: str) -> str:
    """``text`` with each word of 5 letters or more that is one slip from a date word (a letter
    added, dropped, wrong, or two swapped; Damerau-Levenshtein distance 1), and from one only,
    written as that word; a word of :data:`REAL_WORDS` stays as it is."""
    return " ".join(
        _respelling(word) if len(word) >= _SHORTEST_SLIP else word for word in text.split()
    )


_SLIP_LETTERS = "abcdefghijklmnopqrstuvwxyz'"


@lru_cache(maxsize=4096)
def _respelling(word: str) -> str:
    """The date word ``word`` is one slip from, or ``word`` (about 100 µs a new word: its
    neighbours, checked against the date words)."""
    if word in DATE_WORDS or word in REAL_WORDS:
        return word
    cuts = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    near = {a + b[1:] for a, b in cuts if b}  # a letter dropped
    near |= {a + b[1] + b[0] + b[2:] for a, b in cuts if len(b) > 1}  # two swapped
    near |= {a + c + b[1:] for a, b in cuts if b for c in _SLIP_LETTERS}  # a letter wrong
    near |= {a + c + b for a, b in cuts for c in _SLIP_LETTERS}  # a letter added
    found = near & DATE_WORDS
    return next(iter(found)) if len(found) == 1 else word


def _pick_year(month: int, day: int, reference: date, prefer: str) -> date | None:
    candidates = []
    for year in range(reference.year - 4, reference.year + 5):  # 29 February comes every 4 years
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue  # 29 February in a year without one
    future = [d for d in candidates if d >= reference]
    past = [d for d in candidates if d <= reference]
    if prefer == "future":
        return min(future, default=None)
    if prefer == "past":
        return max(past, default=None)
    return min(candidates, key=lambda d: (abs((d - reference).days), d < reference), default=None)


def _day_of_month(day: int, reference: date, prefer: str) -> date | None:
    """The 'the 5th' without a month: the closest month that has that day, per policy."""
    options = []
    for offset in range(-12, 13):
        month_index = reference.month - 1 + offset
        year, month = reference.year + month_index // 12, month_index % 12 + 1
        if day <= calendar.monthrange(year, month)[1]:
            options.append(date(year, month, day))
    if prefer == "future":
        return min((d for d in options if d >= reference), default=None)
    if prefer == "past":
        return max((d for d in options if d <= reference), default=None)
    return min(options, key=lambda d: (abs((d - reference).days), d < reference), default=None)


def _weekday_after(reference: date, weekday: int, include_today: bool) -> date:
    delta = (weekday - reference.weekday()) % 7
    if delta == 0 and not include_today:
        delta = 7
    return reference + timedelta(days=delta)


def _month_range(
    month: int, reference: date, prefer: str, year: int | None, part: str | None
) -> dict[str, Any] | None:
    if year is None:
        first = _pick_year(month, 1, reference.replace(day=1), prefer)
        if first is None:
            return None
        year = first.year
    last_day = calendar.monthrange(year, month)[1]
    start, end = 1, last_day
    if part in ("early", "the beginning of", "beginning of", "the start of", "start of"):
        end = 10
    elif part in ("mid", "the middle of", "middle of"):
        start, end = 11, 20
    elif part in ("late", "the end of", "end of"):
        start = 21
    return range_value(date(year, month, start), date(year, month, end), "month")


def _easter(year: int) -> date:
    """Anonymous Gregorian computus."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - weekday) % 7)


HOLIDAYS = {
    "christmas": lambda y: date(y, 12, 25),
    "christmas day": lambda y: date(y, 12, 25),
    "christmas eve": lambda y: date(y, 12, 24),
    "new year's eve": lambda y: date(y, 12, 31),
    "new year's day": lambda y: date(y, 1, 1),
    "new year's": lambda y: date(y, 1, 1),
    "new years day": lambda y: date(y, 1, 1),
    "new years eve": lambda y: date(y, 12, 31),
    "valentine's day": lambda y: date(y, 2, 14),
    "halloween": lambda y: date(y, 10, 31),
    "independence day": lambda y: date(y, 7, 4),
    "the fourth of july": lambda y: date(y, 7, 4),
    "fourth of july": lambda y: date(y, 7, 4),
    "4th of july": lambda y: date(y, 7, 4),
    "the 4th of july": lambda y: date(y, 7, 4),
    "thanksgiving": lambda y: _nth_weekday(y, 11, 3, 4),
    "memorial day": lambda y: _nth_weekday(y, 5, 0, -1),
    "labor day": lambda y: _nth_weekday(y, 9, 0, 1),
    "easter": _easter,
    "easter sunday": _easter,
}


def _holiday(name: str, reference: date, prefer: str) -> date | None:
    rule = HOLIDAYS[name]
    days = [rule(y) for y in (reference.year - 1, reference.year, reference.year + 1)]
    if prefer == "future":
        return min(d for d in days if d >= reference)
    if prefer == "past":
        return max(d for d in days if d <= reference)
    return min(days, key=lambda d: abs((d - reference).days))


@cache
def load_dateparser() -> Any:
    """dateparser, imported on first use (it takes a third of a second)."""
    import dateparser

    return dateparser


def _count(word: str) -> int | None:
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word)


# ----- reading a date span -----


def resolve_date(
    text: str,
    reference: date,
    policy: DatePolicy = DatePolicy(),
    anchor: date | None = None,
) -> dict[str, Any] | None:
    """The value of a date span, or None when it cannot be read (see :func:`_resolve_date`).

    Date phrases repeat ("tomorrow", "next friday"), and the reading is a pure function of these
    four arguments, so readings are remembered (dateparser costs up to a millisecond); each call
    gets its own copy of the dict.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    value = _resolve_date(text, reference, policy, anchor)
    return dict(value) if value is not None else None


@lru_cache(maxsize=8192)
def _resolve_date(
    text: str, reference: date, policy: DatePolicy, anchor: date | None
) -> dict[str, Any] | None:
    """The reading itself, shared between callers: never hand out its dict uncopied.

    The normalized text (60 characters at most), its slips mended (:func:`_spelled_right`: a
    text dateparser cannot read costs it 2-3 ms), goes through :data:`RULES` in order; the first
    rule whose pattern matches the whole text decides, with a value or with None.

    Args:
        text: the span's text, e.g. "next monday" or "the 2nd of november".
        reference: the day the text was said ("today").
        policy: how to fill in what the text leaves out.
        anchor: the previous date of the same text, for "the following day" and "the same day".

    Returns:
        ``{"type": "date", "date", "grain"}`` or ``{"type": "range", "start", "end", "grain"}``;
        None for a date that cannot be on the calendar (year 0, after 9999-12-31), never an error.
    """
    normalized = normalize(text)
    if len(normalized) > 60:
        return None
    if (mended := _spelled_right(normalized)) != normalized:
        normalized = normalize(mended)  # "december eighteeth" -> "december 18th"
    if not normalized:
        return None
    reading = Reading(normalized, reference, policy, anchor)
    for rule in RULES:
        if m := rule.pattern.fullmatch(reading.text):
            try:
                outcome = rule.read(m, reading)
            except (ValueError, OverflowError):  # off the calendar: "march 0000", 9999-12-31 + 1
                return None
            if not isinstance(outcome, Reading):
                return outcome
            reading = outcome  # a weekday said before a date: the later rules read the rest
    return None


# ----- the rules, in the order they are tried -----


@dataclass(frozen=True, slots=True)
class Reading:
    """What every rule reads: the normalized text and what it is read against.

    ``weekday`` is a weekday said before the date ("monday the 6th"), once a rule has taken it
    off the text.
    """

    text: str
    reference: date
    policy: DatePolicy
    anchor: date | None
    weekday: int | None = None

    @property
    def prefer(self) -> str:
        return self.policy.prefer

    @property
    def week_start(self) -> date:
        """The Monday of the reference date's week."""
        return self.reference - timedelta(days=self.reference.weekday())


# A rule's verdict: a value, None (the text is this rule's, and unreadable: no later rule tries),
# or a Reading for the later rules to go on with.
Outcome = dict[str, Any] | Reading | None


@dataclass(frozen=True, slots=True)
class Rule:
    """One way of saying a date: a pattern for the whole normalized text, and how to read it.

    ``examples`` are texts this rule reads (with a value, given a reference date and an anchor);
    tests/model/values/test_date_rules.py holds every rule to its examples.
    """

    name: str
    pattern: re.Pattern[str]
    read: Callable[[re.Match[str], Reading], Outcome]
    examples: tuple[str, ...]


def _phrases(*phrases: str) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True)))


def _next_month(reference: date) -> tuple[int, int]:
    """(year, month) of the month after the reference date's."""
    year, month = reference.year, reference.month
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _today(m: re.Match[str], r: Reading) -> Outcome:
    return day_value(r.reference)


def _tomorrow(m: re.Match[str], r: Reading) -> Outcome:
    return day_value(r.reference + timedelta(days=1))


def _day_after_tomorrow(m: re.Match[str], r: Reading) -> Outcome:
    return day_value(r.reference + timedelta(days=2))


def _day_after_the_anchor(m: re.Match[str], r: Reading) -> Outcome:
    return day_value(r.anchor + timedelta(days=1)) if r.anchor else None


def _the_anchor(m: re.Match[str], r: Reading) -> Outcome:
    return day_value(r.anchor) if r.anchor else None


def _holiday_day(m: re.Match[str], r: Reading) -> Outcome:
    return day_value(_holiday(m.group(0), r.reference, r.prefer) or r.reference)


def _this_week(m: re.Match[str], r: Reading) -> Outcome:
    """From today to Sunday."""
    return range_value(r.reference, r.week_start + timedelta(days=6), "week")


def _next_week(m: re.Match[str], r: Reading) -> Outcome:
    """The following calendar week, Monday to Sunday."""
    return range_value(r.week_start + timedelta(days=7), r.week_start + timedelta(days=13), "week")


def _this_weekend(m: re.Match[str], r: Reading) -> Outcome:
    """The coming Saturday and Sunday; on a Sunday, the weekend it is."""
    saturday = _weekday_after(r.reference, 5, include_today=True)
    if r.reference.weekday() == 6:
        saturday = r.reference - timedelta(days=1)
    return range_value(saturday, saturday + timedelta(days=1), "week")


def _next_weekend(m: re.Match[str], r: Reading) -> Outcome:
    """The weekend of the following calendar week."""
    saturday = r.week_start + timedelta(days=12)
    return range_value(saturday, saturday + timedelta(days=1), "week")


def _this_or_next_month(m: re.Match[str], r: Reading) -> Outcome:
    year, month = r.reference.year, r.reference.month
    if m.group(0) == "next month":
        year, month = _next_month(r.reference)
    return _month_range(month, r.reference, r.prefer, year, None)


def _days_or_weeks_away(m: re.Match[str], r: Reading) -> Outcome:
    """'in two weeks', 'three days from tomorrow'; a bare 'two weeks' is a duration, not a date."""
    n = _count(m.group(1))
    if n is None or (not r.text.startswith("in ") and not m.group(3)):
        return None
    base = r.reference + timedelta(days=1 if m.group(3) == "tomorrow" else 0)
    return day_value(base + timedelta(days=n * (7 if m.group(2).startswith("week") else 1)))


def _a_week_from(m: re.Match[str], r: Reading) -> Outcome:
    if m.group(1) in ("today", "now"):
        base = r.reference
    elif m.group(1) == "tomorrow":
        base = r.reference + timedelta(days=1)
    else:
        base = _weekday_after(r.reference, WEEKDAYS[m.group(2)], include_today=False)
    return day_value(base + timedelta(days=7))


_WEEK_OF_MONTH = {"first": 0, "second": 1, "third": 2, "fourth": 3}
_WEEK_OF_MONTH |= {"1th": 0, "2th": 1, "3th": 2, "4th": 3}  # ordinal words come normalized


def _week_of_month(m: re.Match[str], r: Reading) -> Outcome:
    """Seven days from the 1st, 8th, 15th or 22nd; 'the last week' is the month's last seven."""
    month = _month_range(MONTHS[m.group(2)], r.reference, r.prefer, None, None)
    if month is None:
        return None
    n = _WEEK_OF_MONTH.get(m.group(1))
    if n is None:
        end = date.fromisoformat(month["end"])
        return range_value(end - timedelta(days=6), end, "week")
    first = date.fromisoformat(month["start"]) + timedelta(days=7 * n)
    return range_value(first, first + timedelta(days=6), "week")


def _month_or_part(m: re.Match[str], r: Reading) -> Outcome:
    """A month, or its first, middle or last ten days ('late december')."""
    year = int(m.group(3)) if m.group(3) else None
    return _month_range(MONTHS[m.group(2)], r.reference, r.prefer, year, m.group(1))


def _weekday(m: re.Match[str], r: Reading) -> Outcome:
    """Bare: the next one after today (the last one before it, preferring the past); 'this':
    within seven days, today included; 'next': in the following calendar week."""
    weekday, which, suffix = WEEKDAYS[m.group(2)], m.group(1), (m.group(3) or "").strip()
    if which == "next" or suffix == "next week":
        return day_value(r.week_start + timedelta(days=7 + weekday))
    if suffix == "this week":
        return day_value(r.week_start + timedelta(days=weekday))
    if which in ("this", "this coming", "coming"):
        return day_value(_weekday_after(r.reference, weekday, include_today=which == "this"))
    after = _weekday_after(r.reference, weekday, include_today=False)
    return day_value(after - timedelta(days=7) if r.prefer == "past" else after)


def _weekday_before_a_date(m: re.Match[str], r: Reading) -> Outcome:
    """Takes the weekday off: before a full date it adds nothing ('friday, dec 4'); before a bare
    day it picks the month ('monday the 6th': the next 6th that is a Monday)."""
    return dataclasses.replace(r, text=m.group("rest"), weekday=WEEKDAYS[m.group(1)])


def _day_of_this_or_next_month(m: re.Match[str], r: Reading) -> Outcome:
    year, month = r.reference.year, r.reference.month
    if m.group(2) == "next":
        year, month = _next_month(r.reference)
    try:
        return day_value(date(year, month, int(m.group(1))))
    except ValueError:
        return None


def _day_alone(m: re.Match[str], r: Reading) -> Outcome:
    """The closest month that has the day, per policy (and falls on the weekday said, if one)."""
    day = int(m.group(1))
    if not 1 <= day <= 31:
        return None
    found = _day_of_month(day, r.reference, r.prefer)
    if r.weekday is not None:
        for _ in range(14):
            if found is None or found.weekday() == r.weekday:
                break
            found = _day_of_month(day, found + timedelta(days=1), "future")
    return day_value(found) if found else None


def _day_and_month(day: int, month: int, year: str | None, r: Reading) -> Outcome:
    try:
        if year:
            return day_value(date(int(year), month, day))
        found = _pick_year(month, day, r.reference, r.prefer)
        return day_value(found) if found else None
    except ValueError:
        return None


def _day_then_month(m: re.Match[str], r: Reading) -> Outcome:
    return _day_and_month(int(m.group(1)), MONTHS[m.group(2)], m.group(3), r)


def _month_then_day(m: re.Match[str], r: Reading) -> Outcome:
    return _day_and_month(int(m.group(2)), MONTHS[m.group(1)], m.group(3), r)


def _numeric(m: re.Match[str], r: Reading) -> Outcome:
    """Month first or day first per policy, unless only one of them can be a month."""
    a, b = int(m.group(1)), int(m.group(2))
    month, day = (a, b) if r.policy.date_order == "MDY" else (b, a)
    if month > 12 and day <= 12:
        month, day = day, month  # "25/12" can only be day first
    year = m.group(3)
    if year and len(year) == 2:
        year = str(int(year) + 2000)
    return _day_and_month(day, month, year, r)


def _year_month_day(m: re.Match[str], r: Reading) -> Outcome:
    """ISO 8601's order, whatever the policy."""
    return _day_and_month(int(m.group(3)), int(m.group(2)), m.group(1), r)


def _dateparser(m: re.Match[str], r: Reading) -> Outcome:
    """Everything else, told the reference date and the policy."""
    settings = {
        "RELATIVE_BASE": datetime(r.reference.year, r.reference.month, r.reference.day, 12),
        "PREFER_DATES_FROM": {"nearest": "current_period"}.get(r.prefer, r.prefer),
        "DATE_ORDER": r.policy.date_order,
        "STRICT_PARSING": False,
        "REQUIRE_PARTS": ["day"],
    }
    try:
        parsed = load_dateparser().parse(r.text, languages=["en"], settings=settings)
    except Exception:  # noqa: BLE001 - dateparser raises many types on odd input; unreadable is None
        return None
    return day_value(parsed.date()) if parsed is not None else None


RULES: tuple[Rule, ...] = (
    Rule(
        "today",
        _phrases("today", "tonight", "later today", "this day"),
        _today,
        ("today", "tonight"),
    ),
    Rule(
        "tomorrow",
        _phrases("tomorrow", "tmrw", "tmr", "2morrow", "tomorow"),
        _tomorrow,
        ("tomorrow", "tmrw"),
    ),
    Rule(
        "the day after tomorrow",
        _phrases("the day after tomorrow", "day after tomorrow"),
        _day_after_tomorrow,
        ("the day after tomorrow",),
    ),
    Rule(
        "the day after the previous date",
        _phrases("the following day", "the next day", "the day after", "next day", "following day"),
        _day_after_the_anchor,
        ("the following day", "the next day"),
    ),
    Rule(
        "the previous date",
        _phrases("the same day", "same day", "that day", "that same day"),
        _the_anchor,
        ("the same day", "that day"),
    ),
    Rule("holiday", _phrases(*HOLIDAYS), _holiday_day, ("christmas", "thanksgiving", "easter")),
    Rule("this week", _phrases("this week", "later this week"), _this_week, ("this week",)),
    Rule("next week", _phrases("next week"), _next_week, ("next week",)),
    Rule(
        "this weekend",
        _phrases(
            *("this weekend", "the weekend", "this coming weekend", "weekend"),
            *("this wkend", "this wknd", "the wkend", "wkend", "wknd"),
        ),
        _this_weekend,
        ("this weekend", "the weekend"),
    ),
    Rule(
        "next weekend",
        _phrases("next weekend", "next wkend", "next wknd"),
        _next_weekend,
        ("next weekend", "next wknd"),
    ),
    Rule(
        "this or next month",
        _phrases("this month", "next month"),
        _this_or_next_month,
        ("this month", "next month"),
    ),
    Rule(
        "days or weeks away",
        re.compile(
            r"(?:in )?(a|an|\w+|a couple of|couple of|a few) (day|days|week|weeks)"
            r"(?: from (now|today|tomorrow))?"
        ),
        _days_or_weeks_away,
        ("in two weeks", "in 3 days", "two weeks from now", "a couple of days from tomorrow"),
    ),
    Rule(
        "a week from",
        re.compile(r"a week from (today|tomorrow|now|" + _WEEKDAY + r")"),
        _a_week_from,
        ("a week from friday", "a week from sat"),
    ),
    Rule(
        "a week of a month",
        re.compile(r"the (first|1th|second|2th|third|3th|last|fourth|4th) week of " + _MONTH),
        _week_of_month,
        ("the first week of january", "the last week of june"),
    ),
    Rule(
        "a month or part of one",
        re.compile(
            r"(early|mid|late|the beginning of|beginning of|the start of|start of"
            r"|the middle of|middle of|the end of|end of)? ?" + _MONTH + r"(?: (\d{4}))?"
        ),
        _month_or_part,
        ("march", "early march", "mid-August", "the end of june 2027"),
    ),
    Rule(
        "weekday",
        re.compile(
            r"(this coming|this|next|coming|on)? ?" + _WEEKDAY + r"( next week| this week)?"
        ),
        _weekday,
        ("monday", "this friday", "next friday", "this coming tuesday", "friday next week"),
    ),
    Rule(
        "weekday before a date",
        re.compile(_WEEKDAY + r" (?=the |\d|" + _MONTH + r")(?P<rest>.*)"),
        _weekday_before_a_date,
        ("monday the 6th", "friday, dec 4", "sunday 12/6"),
    ),
    Rule(
        "day of this or next month",
        re.compile(r"(?:the )?" + _DAY + r" of (this|next) month"),
        _day_of_this_or_next_month,
        ("the 11th of this month", "the 3rd of next month"),
    ),
    Rule("day alone", re.compile(r"(?:the )?" + _DAY), _day_alone, ("the 5th", "the twenty fifth")),
    Rule(
        "day then month",
        re.compile(r"(?:the )?" + _DAY + r" (?:of )?" + _MONTH + r"(?: (\d{4}))?"),
        _day_then_month,
        ("2 november", "the 2nd of november", "the second of november 2027"),
    ),
    Rule(
        "month then day",
        re.compile(_MONTH + r" (?:the )?" + _DAY + r"(?: (\d{4}))?"),
        _month_then_day,
        ("November 2nd", "nov. 2", "november the second", "June 3rd, 2027"),
    ),
    Rule(
        "numeric date",
        re.compile(r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2}|\d{4}))?"),
        _numeric,
        ("11/02", "25/12", "11/02/2026", "1/5/27"),
    ),
    Rule(
        "year-month-day",
        re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
        _year_month_day,
        ("2026-11-02", "2027-1-5"),
    ),
    Rule("anything else", re.compile(r".*"), _dateparser, ("in 3 months", "3 months ago")),
)
