"""Example and GoldSpan: a text and its gold labelled character spans, with offsets checked."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class GoldSpan(BaseModel):
    """A gold span: character offsets into the example's text, ``end`` exclusive."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int = Field(ge=0)
    end: int = Field(ge=1)
    label: str = Field(min_length=1, pattern=r"^[^\s]+$")


class Example(BaseModel):
    """A text with its gold spans, and the conversation's earlier turns if it has any
    (``context``, oldest first: both speakers' words; spans are only ever in ``text``). Other
    keys of a JSONL line (an id, say) are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    text: str
    spans: list[GoldSpan] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)

    @field_validator("context", mode="before")
    @classmethod
    def _one_turn(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def to_json(self) -> dict[str, object]:
        """The example as a JSONL line writes it: ``context`` only when there is one."""
        out: dict[str, object] = {"text": self.text, "spans": [s.model_dump() for s in self.spans]}
        if self.context:
            out["context"] = list(self.context)
        return out

    @model_validator(mode="after")
    def _check_spans(self) -> Example:
        previous_end = -1
        for span in sorted(self.spans, key=lambda s: (s.start, s.end)):
            if not span.start < span.end <= len(self.text):
                raise ValueError(
                    f"expected 0 <= start < end <= {len(self.text)}, got span "
                    f"({span.start}, {span.end}, {span.label!r})"
                )
            if span.start < previous_end:
                raise ValueError(
                    f"span ({span.start}, {span.end}, {span.label!r}) overlaps another"
                )
            if not self.text[span.start : span.end].strip():
                raise ValueError(
                    f"span ({span.start}, {span.end}, {span.label!r}) is only whitespace"
                )
            previous_end = span.end
        return self

    def span_texts(self) -> list[tuple[str, str]]:
        """``(label, text)`` of each span, in text order: handy in tests and error messages."""
        return [
            (s.label, self.text[s.start : s.end]) for s in sorted(self.spans, key=lambda s: s.start)
        ]
