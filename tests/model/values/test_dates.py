"""Date resolution, table-driven: expression x reference date -> value (model/dates.py's policy)."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from model.values.dates import DatePolicy, resolve_date, today_in

MON = date(2026, 11, 23)  # a Monday
SUN = date(2026, 11, 29)
DEC31 = date(2026, 12, 31)
LEAP = date(2028, 2, 27)  # 2028 is a leap year


def d(iso: str) -> dict:
    return {"type": "date", "date": iso, "grain": "day"}


def r(start: str, end: str, grain: str) -> dict:
    return {"type": "range", "start": start, "end": end, "grain": grain}


CASES = [
    # absolute dates: a date without a year is the next one on or after the reference
    ("November 2nd", MON, d("2027-11-02")),
    ("november 30th", MON, d("2026-11-30")),
    ("nov 23", MON, d("2026-11-23")),
    ("Nov. 2", MON, d("2027-11-02")),
    ("2 November", MON, d("2027-11-02")),
    ("the 2nd of November", MON, d("2027-11-02")),
    ("the second of november", MON, d("2027-11-02")),
    ("November the second", MON, d("2027-11-02")),
    ("november second", MON, d("2027-11-02")),
    ("december twenty first", MON, d("2026-12-21")),
    ("the thirty first of december", MON, d("2026-12-31")),
    ("11/02", MON, d("2027-11-02")),
    ("12/25", MON, d("2026-12-25")),
    ("25/12", MON, d("2026-12-25")),  # only day-first makes sense
    ("11/02/2026", MON, d("2026-11-02")),
    ("1/5/27", MON, d("2027-01-05")),
    ("2026-11-02", MON, d("2026-11-02")),
    ("June 3rd, 2027", MON, d("2027-06-03")),
    ("Friday, Dec 4", MON, d("2026-12-04")),
    # month and year roll-over
    ("January 3rd", DEC31, d("2027-01-03")),
    ("december 31st", DEC31, d("2026-12-31")),
    ("the 1st", DEC31, d("2027-01-01")),
    ("tomorrow", DEC31, d("2027-01-01")),
    ("next month", DEC31, r("2027-01-01", "2027-01-31", "month")),
    # leap day
    ("feb 29", LEAP, d("2028-02-29")),
    ("feb 29", MON, d("2028-02-29")),
    ("the day after tomorrow", LEAP, d("2028-02-29")),
    ("the 29th", date(2027, 2, 1), d("2027-03-29")),  # February 2027 has no 29th
    # bare day of the month
    ("the 5th", MON, d("2026-12-05")),
    ("the 23rd", MON, d("2026-11-23")),
    ("the twenty fifth", MON, d("2026-11-25")),
    ("monday the 6th", MON, d("2027-09-06")),  # the next 6th that is a Monday
    ("the 11th of this month", MON, d("2026-11-11")),
    ("the 3rd of next month", DEC31, d("2027-01-03")),
    # weekdays: bare = next after today; this = within 7 days (today included); next = next week
    ("monday", MON, d("2026-11-30")),
    ("friday", MON, d("2026-11-27")),
    ("this monday", MON, d("2026-11-23")),
    ("this friday", MON, d("2026-11-27")),
    ("next friday", MON, d("2026-12-04")),
    ("next monday", MON, d("2026-11-30")),
    ("next monday", SUN, d("2026-11-30")),
    ("this coming tuesday", MON, d("2026-11-24")),
    ("wed", MON, d("2026-11-25")),
    ("friday next week", MON, d("2026-12-04")),
    # relative days
    ("today", MON, d("2026-11-23")),
    ("tonight", MON, d("2026-11-23")),
    ("tomorrow", MON, d("2026-11-24")),
    ("day after tomorrow", MON, d("2026-11-25")),
    ("in two weeks", MON, d("2026-12-07")),
    ("in 3 days", MON, d("2026-11-26")),
    ("two weeks from now", MON, d("2026-12-07")),
    ("a week from today", MON, d("2026-11-30")),
    ("a week from tomorrow", MON, d("2026-12-01")),
    # ranges
    ("next week", MON, r("2026-11-30", "2026-12-06", "week")),
    ("this week", date(2026, 11, 25), r("2026-11-25", "2026-11-29", "week")),
    ("this weekend", MON, r("2026-11-28", "2026-11-29", "week")),
    ("this weekend", SUN, r("2026-11-28", "2026-11-29", "week")),
    ("next weekend", MON, r("2026-12-05", "2026-12-06", "week")),
    ("march", MON, r("2027-03-01", "2027-03-31", "month")),
    ("november", MON, r("2026-11-01", "2026-11-30", "month")),
    ("early march", MON, r("2027-03-01", "2027-03-10", "month")),
    ("mid-August", MON, r("2027-08-11", "2027-08-20", "month")),
    ("late december", MON, r("2026-12-21", "2026-12-31", "month")),
    ("the first week of january", MON, r("2027-01-01", "2027-01-07", "week")),
    # holidays
    ("christmas", MON, d("2026-12-25")),
    ("thanksgiving", MON, d("2026-11-26")),
    ("thanksgiving", date(2026, 11, 27), d("2027-11-25")),
    ("new year's day", MON, d("2027-01-01")),
    ("easter", MON, d("2027-03-28")),
    ("memorial day", MON, d("2027-05-31")),
    # a year said in words, ISO 8601 in any date order
    ("may 8th twenty twenty five", MON, d("2025-05-08")),
    ("june 8th two thousand and twenty-six", MON, d("2026-06-08")),
    ("march 22nd, twenty thirty", MON, d("2030-03-22")),
    ("2026-10-03", MON, d("2026-10-03")),
    ("2027-1-5", MON, d("2027-01-05")),
    ("2026-02-30", MON, None),
    # a date word typed with a slip (one letter doubled, dropped, swapped or wrong)
    ("frriday", MON, d("2026-11-27")),
    ("next tuesdy", MON, d("2026-12-01")),
    ("janaury 20th", MON, d("2027-01-20")),
    ("15th of noember", MON, d("2027-11-15")),
    ("the 4th of jully", MON, d("2027-07-04")),
    ("memroial day", MON, d("2027-05-31")),
    ("this wkend", MON, r("2026-11-28", "2026-11-29", "week")),
    ("tomorroow", MON, d("2026-11-24")),
    ("december eighteeth", MON, d("2026-12-18")),
    ("the beginnnig of april", MON, r("2027-04-01", "2027-04-10", "month")),
    # ... but not a word of 4 letters or fewer, not one two slips away, and no English word:
    # "mondays" is every Monday, "night" no "tonight", "fifty" no "fifth"
    ("tody", MON, None),
    ("wedesdy", MON, None),
    ("mondays", MON, None),
    ("tomorrow night", MON, d("2026-11-24")),
    ("fifty days ago", MON, d("2026-10-04")),
    # unreadable: the span keeps value None
    ("gibberish", MON, None),
    ("the 45th", MON, None),
    ("13/45", MON, None),
    ("", MON, None),
]


@pytest.mark.parametrize(("text", "reference", "expected"), CASES)
def test_resolution(text: str, reference: date, expected) -> None:
    assert resolve_date(text, reference) == expected


def test_policy_past_and_nearest() -> None:
    assert resolve_date("november 2nd", MON, DatePolicy(prefer="past")) == d("2026-11-02")
    assert resolve_date("november 2nd", MON, DatePolicy(prefer="nearest")) == d("2026-11-02")
    assert resolve_date("december 1st", MON, DatePolicy(prefer="nearest")) == d("2026-12-01")
    assert resolve_date("monday", date(2026, 11, 25), DatePolicy(prefer="past")) == d("2026-11-23")


def test_day_first_locale_reads_numeric_dates_day_first() -> None:
    assert resolve_date("11/02", MON, DatePolicy(date_order="DMY")) == d("2027-02-11")
    assert resolve_date("11/02/2026", MON, DatePolicy(date_order="DMY")) == d("2026-02-11")


def test_days_relative_to_the_previous_date_need_one() -> None:
    assert resolve_date("the following day", MON, anchor=date(2026, 12, 4)) == d("2026-12-05")
    assert resolve_date("the same day", MON, anchor=date(2026, 12, 4)) == d("2026-12-04")
    assert resolve_date("the following day", MON) is None


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("UTC", date(2026, 11, 23)),
        ("Asia/Shanghai", date(2026, 11, 24)),
        ("America/Los_Angeles", date(2026, 11, 23)),
        ("Pacific/Kiritimati", date(2026, 11, 24)),
    ],
)
def test_today_depends_on_the_timezone_around_midnight(zone: str, expected: date) -> None:
    assert today_in(zone, datetime(2026, 11, 23, 20, 30, tzinfo=UTC)) == expected


def test_unknown_timezone_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Base'"):
        today_in("Mars/Base")


@given(st.text(max_size=80), st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31)))
def test_no_text_makes_resolution_raise(text: str, reference: date) -> None:
    value = resolve_date(text, reference)
    assert value is None or value["type"] in ("date", "range")


def test_remembered_readings_are_copies_a_caller_may_change() -> None:
    """Readings are memoized; a caller editing its value must not change the next caller's."""
    first = resolve_date("next monday", date(2026, 11, 23))
    assert first == {"type": "date", "date": "2026-11-30", "grain": "day"}
    first["date"] = "edited"
    assert resolve_date("next monday", date(2026, 11, 23))["date"] == "2026-11-30"
    assert resolve_date("next monday", date(2026, 11, 30))["date"] == "2026-12-07"


@given(
    st.sampled_from(
        [
            "in {n} days",
            "in {n} weeks",
            "march {n}",
            "the {n}th",
            "{n}/{n}/{n}",
            "march {n} 0000",
            "{n} weeks from now",
            "tomorrow",
            "next friday",
            "the following day",
            "in {n} months",
        ]
    ),  # fmt: skip
    st.integers(-(10**12), 10**12),
    st.dates(),
)
@example("tomorrow", 0, date(9999, 12, 31))
@example("in {n} days", 10**9, date(2026, 11, 23))
@example("march {n} 0000", 3, date(2026, 11, 23))
def test_no_date_phrase_and_reference_date_raise(template: str, n: int, reference) -> None:
    from model.spans import Span
    from model.values.dates import DatePolicy
    from model.values.resolve import resolve_values

    text = template.format(n=n)
    [span] = resolve_values([Span("date", 0, len(text), text)], reference, DatePolicy(), None)
    assert span.value is None or span.value["type"] in ("date", "range")


NUMBERED_PHRASES = [
    "in {n} days",
    "in {n} weeks",
    "{n} days from tomorrow",
    "march {n}",
    "march {n} {n}",
    "the {n}th",
    "the {n}th of next month",
    "{n}/{n}/{n}",
    "{n}/{n}",
    "the {n}th of march {n}",
    "monday the {n}th",
    "early march {n}",
    "the last week of december",
    "tomorrow",
    "the day after tomorrow",
    "next week",
    "next weekend",
    "next month",
    "next friday",
    "friday next week",
    "christmas",
    "a week from tomorrow",
    "in {n} months",
]


@given(
    st.sampled_from(NUMBERED_PHRASES),
    st.one_of(st.integers(0, 10_000), st.integers(-(10**12), 10**12)),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.sampled_from([DatePolicy(), DatePolicy("past"), DatePolicy("nearest", "DMY")]),
)
@example("tomorrow", 0, date(9999, 12, 31), DatePolicy())
@example("next week", 0, date(9999, 12, 31), DatePolicy())
@example("march {n} 0000", 3, date(2026, 11, 23), DatePolicy())
@example("in {n} days", 10**9, date(2026, 11, 23), DatePolicy())
@example("the {n}th", 5, date(1, 1, 1), DatePolicy("past"))
def test_a_date_off_the_calendar_is_none_never_an_error(
    template: str, n: int, reference: date, policy: DatePolicy
) -> None:
    """Any number in a date phrase, against any reference day from year 1 to 9999: a value that
    lies on the calendar, or None."""
    value = resolve_date(template.format(n=n), reference, policy, anchor=reference)
    if value is not None:
        for key in ("date", "start", "end"):
            if key in value:
                date.fromisoformat(value[key])


def test_what_the_rules_read_never_waits_for_dateparser(monkeypatch) -> None:
    """ISO dates and slips are read by the rules: dateparser (2-3 ms a text it cannot read) is
    not asked, so new date phrases in real traffic stay cheap."""
    from model.values import dates

    asked: list[str] = []
    real = dates.load_dateparser

    def watched():
        asked.append("dateparser")
        return real()

    monkeypatch.setattr(dates, "load_dateparser", watched)
    dates._resolve_date.cache_clear()  # readings remembered from other tests would hide a call
    for text in ("2027-04-09", "frriday", "augsut 29th", "february 5th twenty twenty six"):
        assert dates.resolve_date(text, MON) is not None, text
    assert asked == []
    assert dates.resolve_date("in 3 months", MON) is not None
    assert asked == ["dateparser"]  # what only dateparser reads still goes to it


def test_no_common_english_word_is_taken_for_a_slip() -> None:
    """Of the 50,000 most frequent English words, none is mended into a date word but the four
    that in a date phrase are the slip: REAL_WORDS holds every other one that is one slip from a
    date word. Fails when a new date word makes new neighbours."""
    wordfreq = pytest.importorskip("wordfreq")
    from model.values.dates import _spelled_right

    mended = {
        word: _spelled_right(word)
        for word in wordfreq.top_n_list("en", 50_000)
        if word.isalpha() and _spelled_right(word) != word
    }
    slips = {"weeknd": "weekend", "todays": "today", "begining": "beginning", "comming": "coming"}
    assert mended == slips
