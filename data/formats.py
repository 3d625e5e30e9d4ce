"""Reading and writing examples: JSONL (the main format), CoNLL-style BIO, and bracket markup.

* ``.jsonl``: ``{"text": str, "spans": [{"start": int, "end": int, "label": str}]}`` a line.
* ``.conll``/``.bio``/``.tsv``: ``token<TAB>tag`` a line, a blank line between sentences; the text
  is
  the tokens joined by single spaces.
* ``.txt``: the hand-written sets, one example a line, spans in brackets: ``[departure Boston]``;
  ``#`` starts a comment line. Short labels ``dep``, ``dst`` stand for departure and destination.
  The two characters ``\\n`` stand for a line break inside an example (and ``\\`` for a backslash).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from data.example import Example, GoldSpan
from model.spans import from_bio
from model.tokenize import Token

MARKUP_SHORT = {"dep": "departure", "dst": "destination"}
_MARKUP = re.compile(r"\[(\w+) ([^\[\]]+?)\]")


class DataFormatError(ValueError):
    """A data file that cannot be read; the message starts with ``path:line:``."""


def read_examples(path: str | Path) -> list[Example]:
    """Read a data file, its format chosen by suffix.

    Raises:
        DataFormatError: a malformed line, naming the file and line.
        FileNotFoundError: no such file.
    """
    return list(iter_examples(path))


def iter_examples(path: str | Path) -> Iterator[Example]:
    """Like :func:`read_examples`, one example at a time."""
    path = Path(path)
    suffix = path.suffix.lower()
    with open(path, encoding="utf-8") as f:
        if suffix == ".jsonl":
            yield from _read_jsonl(f, path)
        elif suffix in (".conll", ".bio", ".tsv"):
            yield from _read_conll(f, path)
        elif suffix == ".txt":
            yield from _read_markup(f, path)
        else:
            raise DataFormatError(
                f"{path}:0: expected a .jsonl, .conll, .bio, .tsv or .txt file, got {suffix!r}"
            )


def _read_jsonl(lines: Iterable[str], path: Path) -> Iterator[Example]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield Example.model_validate_json(line)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
            raise DataFormatError(f"{path}:{number}: {problems}") from e


def _read_conll(lines: Iterable[str], path: Path) -> Iterator[Example]:
    rows: list[tuple[str, str]] = []

    def flush() -> Example:
        tokens, offset = [], 0
        for token, _ in rows:
            tokens.append(Token(token, offset, offset + len(token)))
            offset += len(token) + 1
        text = " ".join(token for token, _ in rows)
        spans = from_bio(text, tokens, [tag for _, tag in rows])
        return Example(
            text=text, spans=[GoldSpan(start=s.start, end=s.end, label=s.label) for s in spans]
        )

    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line.strip():
            if rows:
                yield flush()
            rows = []
            continue
        parts = line.split("\t")
        tag = parts[-1].strip()
        if len(parts) < 2 or not parts[0] or not (tag == "O" or re.fullmatch(r"[BI]-\S+", tag)):
            raise DataFormatError(
                f"{path}:{number}: expected 'token<TAB>tag' with tag O, B-label or I-label, "
                f"got {line!r}"
            )
        rows.append((parts[0], tag))
    if rows:
        yield flush()


_ESCAPE = re.compile(r"\\(.)")
_UNESCAPE = {"n": "\n", "\\": "\\"}


def parse_markup(line: str) -> Example:
    """Turn ``fly to [dst Denver] [date tomorrow]`` into an example (``\\n``: a line break)."""
    line = _ESCAPE.sub(lambda m: _UNESCAPE.get(m.group(1), m.group(0)), line)
    text, spans, position = [], [], 0
    for match in _MARKUP.finditer(line):
        text.append(line[position : match.start()])
        start = sum(map(len, text))
        label = MARKUP_SHORT.get(match.group(1), match.group(1))
        text.append(match.group(2))
        spans.append(GoldSpan(start=start, end=start + len(match.group(2)), label=label))
        position = match.end()
    text.append(line[position:])
    joined = "".join(text)
    if "[" in joined or "]" in joined:
        raise ValueError(f"unbalanced or malformed bracket in {line!r}")
    return Example(text=joined, spans=spans)


def to_markup(example: Example) -> str:
    """The inverse of :func:`parse_markup` (with long label names)."""
    out, position = [], 0
    for span in sorted(example.spans, key=lambda s: s.start):
        out += [
            example.text[position : span.start],
            f"[{span.label} {example.text[span.start : span.end]}]",
        ]
        position = span.end
    markup = "".join(out) + example.text[position:]
    return markup.replace("\\", "\\\\").replace("\n", "\\n")


def _read_markup(lines: Iterable[str], path: Path) -> Iterator[Example]:
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            yield parse_markup(line)
        except ValueError as e:
            raise DataFormatError(f"{path}:{number}: {e}") from e


def write_jsonl(examples: Iterable[Example], path: str | Path) -> int:
    """Write examples as JSONL atomically (temporary file, then rename). Returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for example in examples:
                f.write(json.dumps(example.to_json(), ensure_ascii=False) + "\n")
                count += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
