"""One rule for "today": the API, the CLI and the spaCy component read dates against the date in
UTC (or the time zone given), never against the machine's local date."""

import json
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import spacy
from pydantic import ValidationError
from typer.testing import CliRunner

from app.settings import Settings
from model.values.dates import Today, check_timezone, today_in
from training.cli import app as cli

TEXT = "i want to fly from denver to chicago tomorrow"  # in the tiny model's training set


@pytest.fixture()
def local_date_is_not_utcs(monkeypatch: pytest.MonkeyPatch):
    """Make this process's local time zone one whose date is not UTC's at this moment: UTC+14
    from 10:00 UTC on, UTC-12 before noon UTC (so one of them always is)."""
    zone = "Etc/GMT-14" if datetime.now(UTC).hour >= 10 else "Etc/GMT+12"
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    assert date.today() != today_in("UTC")
    yield
    monkeypatch.undo()
    time.tzset()


def tomorrow_in_utc(before: date) -> set[str]:
    """The answer, allowing for the UTC date turning over while the test runs."""
    return {(day + timedelta(days=1)).isoformat() for day in (before, today_in("UTC"))}


def date_values(spans: list[dict]) -> list[str]:
    return [s["value"]["date"] for s in spans if s["label"] == "date"]


def test_api_cli_and_spacy_component_agree_on_today_in_utc(
    local_date_is_not_utcs, tiny_model_dir, client
) -> None:
    before = today_in("UTC")
    [api] = date_values(client.post("/tag", json={"text": TEXT}).json()["spans"])
    result = CliRunner().invoke(cli, ["tag", "--model", str(tiny_model_dir), TEXT])
    assert result.exit_code == 0, result.output
    [line] = date_values(json.loads(result.stdout)["spans"])
    nlp = spacy.blank("en")
    nlp.add_pipe("slot_tagger", config={"model_dir": str(tiny_model_dir)})
    [component] = [e._.slot_value["date"] for e in nlp(TEXT).ents if e.label_ == "date"]
    assert api == line == component
    assert api in tomorrow_in_utc(before)
    assert api != (date.today() + timedelta(days=1)).isoformat()  # not the local date's tomorrow


def test_each_reads_today_in_the_time_zone_it_is_given(tiny_model_dir, client) -> None:
    zone = "Pacific/Kiritimati"  # UTC+14: its date is never behind UTC's
    before = today_in(zone)
    expected = {(d + timedelta(days=1)).isoformat() for d in (before, today_in(zone))}
    [api] = date_values(client.post("/tag", json={"text": TEXT, "timezone": zone}).json()["spans"])
    args = ["tag", "--model", str(tiny_model_dir), "--timezone", zone, TEXT]
    [line] = date_values(json.loads(CliRunner().invoke(cli, args).stdout)["spans"])
    nlp = spacy.blank("en")
    nlp.add_pipe("slot_tagger", config={"model_dir": str(tiny_model_dir), "timezone": zone})
    [component] = [e._.slot_value["date"] for e in nlp(TEXT).ents if e.label_ == "date"]
    assert api == line == component and api in expected


def test_today_is_read_when_asked_not_when_made() -> None:
    today = Today("Asia/Shanghai")
    assert today.day(datetime(2026, 11, 23, 15, 59, tzinfo=UTC)) == date(2026, 11, 23)
    assert today.day(datetime(2026, 11, 23, 16, 0, tzinfo=UTC)) == date(2026, 11, 24)
    assert Today().timezone == "UTC"


def test_one_timezone_check_for_the_model_the_settings_and_the_api(client) -> None:
    message = "unknown timezone 'Mars/Base'; expected an IANA name like 'Asia/Shanghai'"
    for check in (check_timezone, Today, today_in):
        with pytest.raises(ValueError, match=message):
            check("Mars/Base")
    with pytest.raises(ValidationError, match=message):
        Settings(timezone="Mars/Base")
    response = client.post("/tag", json={"text": "hi", "timezone": "Mars/Base"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == f"Value error, {message}"
    assert check_timezone("Asia/Shanghai") == "Asia/Shanghai"
