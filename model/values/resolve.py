"""A span's value: dates through :mod:`model.values.dates`, places through :mod:`.places`.

Resolution never fails a request: a span whose value cannot be found keeps ``value=None``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from model.labels import DATE_LABELS, PLACE_LABELS
from model.values.dates import DatePolicy, resolve_date
from model.values.places import PlaceIndex

if TYPE_CHECKING:  # model.spans imports spaCy, which imports torch: not at run time here
    from model.spans import Span


def resolve_values(
    spans: Sequence[Span],
    reference_date: date | None,
    policy: DatePolicy,
    places: PlaceIndex | None,
) -> list[Span]:
    """New spans with ``value`` filled in where it can be.

    Dates are read in text order, each relative to ``reference_date`` and, for "the following
    day", to the previous date of the same text; with no reference date they get no value.
    """
    out: list[Span] = []
    anchor: date | None = None
    for span in spans:
        value = None
        if span.label in DATE_LABELS and reference_date is not None:
            try:
                value = resolve_date(span.text, reference_date, policy, anchor)
            except (ValueError, OverflowError):  # off the calendar: "march 0000", year 9999 + 1
                value = None
            if value is not None:
                anchor = date.fromisoformat(value.get("date") or value["start"])
        elif span.label in PLACE_LABELS and places is not None:
            value = places.resolve(span.text)
        if value is not None:  # Span is frozen: a span without a value is returned as it is
            span = dataclasses.replace(span, value=value)
        out.append(span)
    return out
