"""The rules every span obeys (data/README.md, "Every span"), checked from the text itself."""

from __future__ import annotations

import re

from model.spans import JOINERS, Span
from model.tokenize import tokenize

# A period followed by a space inside a span is only ever a name's own abbreviation ("St. Louis",
# "Dr. Antonio Agostinho Neto Airport").
_ABBREVIATION = re.compile(
    r"\b(st|mt|ft|pt|ste|sta|intl|mtn|hts|jct|dr|gen|pres|gov|capt|d\.c|u\.s|u\.k|l\.a|n\.y"
    r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.$",
    re.I,
)


def assert_clean(text: str, spans: list[Span]) -> None:
    """No span holds a line break or a sentence end, and each starts and ends with a word."""
    tokens = tokenize(text)
    for span in spans:
        inside = [t for t in tokens if span.start <= t.start and t.end <= span.end]
        assert inside and inside[0].start == span.start and inside[-1].end == span.end
        assert not any(c in span.text for c in "\n\r\u2028\u2029\x85\v\f"), (text, span)
        assert not re.search(r"[!?;…](\s|$)", span.text), (text, span)
        for m in re.finditer(r"(\S+)\.(?=\s)", span.text):  # "St. Louis", "d.c. now", "a. b"
            word = m.group(1)
            assert _ABBREVIATION.search(m.group(0)) or "." in word or len(word) == 1, (text, span)
        assert re.search(r"[^\W_]", inside[0].text) and re.search(r"[^\W_]", inside[-1].text)
        assert inside[0].text not in JOINERS and inside[-1].text not in JOINERS
        assert not re.fullmatch(r"['’](s|re|ve|ll|d|m)|n['’]t", inside[0].text, re.I), (text, span)
        assert not re.search(r"\s[-–/]|[-–/]\s", span.text), (text, span)  # a spaced dash
