"""Request and response bodies of the HTTP API (pydantic), with the examples /docs shows."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from model.context import as_turns
from model.values.dates import check_timezone, timezones

TIMEZONES = sorted(timezones())


class ResolveOptions(BaseModel):
    """How spans' values are resolved and which spans are returned."""

    reference_date: date | None = Field(
        None, description="the day dates are read against (default: today in `timezone`)"
    )
    timezone: str | None = Field(
        None,
        description="IANA zone whose today is the default reference date, e.g. Asia/Shanghai",
        json_schema_extra={"enum": TIMEZONES},
    )
    min_confidence: float = Field(
        0.0, ge=0.0, le=1.0, strict=True, description="drop spans below this"
    )

    @field_validator("reference_date", mode="before")
    @classmethod
    def _date_is_a_string(cls, value: object) -> object:
        # JSON has no date: only an ISO string is one (pydantic would read 0 as 1970-01-01).
        if value is not None and not isinstance(value, str):
            raise ValueError(f"expected an ISO date string like '2026-11-23', got {_kind(value)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        return value if value is None else check_timezone(value)


def _kind(value: object) -> str:
    """A JSON value's kind, for a message that does not echo the value."""
    names = {bool: "a boolean", int: "a number", float: "a number", list: "an array"}
    return names.get(type(value), "an object" if isinstance(value, dict) else "another type")


def _valid_unicode(text: str) -> str:
    """JSON can escape half a UTF-16 pair ("\\ud800"); such text cannot be answered in UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(
            f"text contains an unpaired surrogate at character {e.start}; send valid Unicode"
        ) from None
    return text


# The earlier turns of the conversation, oldest first (a single string is one turn).
ContextIn = list[str] | str | None


def _valid_context(value: ContextIn) -> list[str]:
    return [_valid_unicode(turn) for turn in as_turns(value)]


_CONTEXT_DESCRIPTION = (
    "the conversation's earlier turns, oldest first, the turn just before `text` last: both "
    "speakers' words as plain text (a single string is one turn). They decide roles the text "
    "alone cannot ('Where will you be flying from?' / 'Boston.'); spans are only ever returned "
    "for `text`. A model trained without context ignores it."
)


class BatchItem(BaseModel):
    """A text with its dialogue context: one item of a batch, and the body of /tag with its
    resolve options."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="the text to tag; whitespace-only text gives no spans")
    context: ContextIn = Field(None, description=_CONTEXT_DESCRIPTION)

    @field_validator("text")
    @classmethod
    def _text_is_unicode(cls, value: str) -> str:
        return _valid_unicode(value)

    @field_validator("context")
    @classmethod
    def _context_is_unicode(cls, value: ContextIn) -> list[str]:
        return _valid_context(value)


class TagRequest(ResolveOptions, BatchItem):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "i need a flight from boston to denver next monday"},
                {
                    "text": "leave Beijing on November 2nd",
                    "reference_date": "2026-11-23",
                    "timezone": "Asia/Shanghai",
                    "min_confidence": 0.5,
                },
                {
                    "text": "Boston.",
                    "context": ["I need a flight to Denver.", "Where will you be flying from?"],
                },
            ]
        },
    )


class BatchTagRequest(ResolveOptions):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "texts": ["leave Beijing on November 2nd", "arrive Beijing on November 2nd"],
                    "reference_date": "2026-11-23",
                },
                {
                    "texts": [
                        {"text": "Boston.", "context": ["Where will you be flying from?"]},
                        {"text": "Boston.", "context": ["And where to?"]},
                        "leave Beijing on November 2nd",
                    ]
                },
            ]
        },
    )

    texts: list[str | BatchItem] = Field(
        description="texts to tag, answered in the same order: each a string, or an object with "
        "its `text` and the `context` of its conversation"
    )

    @field_validator("texts")
    @classmethod
    def _texts_are_unicode(cls, value: list[str | BatchItem]) -> list[str | BatchItem]:
        return [_valid_unicode(item) if isinstance(item, str) else item for item in value]

    def split(self) -> tuple[list[str], list[list[str]] | None]:
        """(texts, contexts): the contexts are None when no item has one."""
        texts = [item if isinstance(item, str) else item.text for item in self.texts]
        contexts = [[] if isinstance(item, str) else (item.context or []) for item in self.texts]
        return texts, contexts if any(contexts) else None


class TokenOut(BaseModel):
    text: str
    start: int = Field(description="character offset of the first character")
    end: int = Field(description="character offset after the last character (exclusive)")
    tag: str = Field(description="the BIO tag, e.g. B-departure")


class SpanOut(BaseModel):
    label: str = Field(description="departure, destination, date, or another label the model knows")
    text: str = Field(description="exactly text[start:end]")
    start: int
    end: int
    confidence: float = Field(ge=0.0, le=1.0, description="the model's probability for this span")
    value: dict[str, Any] | None = Field(None, description="normalized value, when resolved")


class ModelRef(BaseModel):
    name: str
    version: str


class RefusalOut(BaseModel):
    reason: str = Field(description="why the text got no spans, in words")
    language: str = Field(description="the language the text reads as (ISO 639-1)")
    confidence: float = Field(ge=0.0, le=1.0, description="the language identifier's probability")


class TagResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "leave Beijing on November 2nd",
                    "tokens": [
                        {"text": "leave", "start": 0, "end": 5, "tag": "O"},
                        {"text": "Beijing", "start": 6, "end": 13, "tag": "B-departure"},
                        {"text": "on", "start": 14, "end": 16, "tag": "O"},
                        {"text": "November", "start": 17, "end": 25, "tag": "B-date"},
                        {"text": "2nd", "start": 26, "end": 29, "tag": "I-date"},
                    ],
                    "spans": [
                        {
                            "label": "departure",
                            "text": "Beijing",
                            "start": 6,
                            "end": 13,
                            "confidence": 0.99,
                            "value": {
                                "type": "place",
                                "kind": "city",
                                "name": "Beijing",
                                "country": "CN",
                                "iata": ["PEK", "PKX", "NAY"],
                            },
                        },
                        {
                            "label": "date",
                            "text": "November 2nd",
                            "start": 17,
                            "end": 29,
                            "confidence": 0.99,
                            "value": {"type": "date", "date": "2027-11-02", "grain": "day"},
                        },
                    ],
                    "refused": None,
                    "model": {"name": "slot-tagger-default", "version": "3f2a9c0d1b7e"},
                }
            ]
        }
    )

    text: str
    tokens: list[TokenOut]
    spans: list[SpanOut]
    refused: RefusalOut | None = Field(
        None,
        description="set when the text was not tagged at all: it is not English (the model "
        "reads English only); null otherwise",
    )
    model: ModelRef


class BatchTagResponse(BaseModel):
    results: list[TagResponse]


class HealthResponse(BaseModel):
    status: str
    model: ModelRef


class ModelInfo(BaseModel):
    name: str
    version: str
    created_at: str
    labels: list[str]
    format_version: int
    config: dict[str, Any]
    dev_metrics: dict[str, Any]
    versions: dict[str, str]
