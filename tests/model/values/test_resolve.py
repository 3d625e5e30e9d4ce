"""What resolves a span: by its label, dates in text order, and without loading the network."""

import subprocess
import sys
from datetime import date

from model.labels import DATE, DEPARTURE, DESTINATION
from model.spans import Span
from model.values.dates import DatePolicy
from model.values.places import PlaceIndex
from model.values.resolve import resolve_values

MON = date(2026, 11, 23)


def test_importing_the_values_loads_neither_torch_nor_safetensors() -> None:
    code = (
        "import sys, model.values.resolve, model.values.dates, model.values.places\n"
        "heavy = sorted({'torch', 'safetensors', 'spacy', 'onnxruntime'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_each_label_gets_its_kind_of_value_and_dates_follow_the_previous_one() -> None:
    text = "boston to denver monday returning the following day on united"
    spans = [
        Span(DEPARTURE, 0, 6, "boston"),
        Span(DESTINATION, 10, 16, "denver"),
        Span(DATE, 17, 23, "monday"),
        Span(DATE, 34, 51, "the following day"),
        Span("airline", 55, 61, "united"),
    ]
    assert [text[s.start : s.end] for s in spans] == [s.text for s in spans]
    resolved = resolve_values(spans, MON, DatePolicy(), PlaceIndex.load())
    assert [(s.label, s.text) for s in resolved] == [(s.label, s.text) for s in spans]
    assert [s.value["name"] for s in resolved[:2]] == ["Boston", "Denver"]
    assert [s.value["date"] for s in resolved[2:4]] == ["2026-11-30", "2026-12-01"]
    assert resolved[4] is spans[4]  # no value: the span itself, not a copy


def test_without_a_reference_date_or_a_place_table_values_stay_none() -> None:
    spans = [Span(DEPARTURE, 0, 6, "boston"), Span(DATE, 7, 13, "monday")]
    assert resolve_values(spans, None, DatePolicy(), None) == spans
