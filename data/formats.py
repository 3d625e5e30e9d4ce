"""Reading and writing examples: JSONL (the main format), CoNLL-style BIO, and bracket markup;
the format of a file named or guessed, and the annotation tools' exports (data/exports.py).

* ``jsonl``: ``{"text": str, "spans": [{"start": int, "end": int, "label": str}]}`` a line.
* ``bio`` (``.conll``/``.bio``/``.tsv``/``.iob``): ``token<TAB or spaces>tag`` a line (the tag in
  the last column, so CoNLL-2003's four columns read too), a blank line between sentences; the
  text is the tokens joined by single spaces. Tags are O, B-label, I-label (an I- after O starts a
  span, as conlleval reads it; BIOES/BILOU's S-, E-, U-, L- read as B- and I-). ``-DOCSTART-``
  lines and the ATIS markers ``BOS``/``EOS`` (tagged O, or EOS carrying the intent) are skipped.
* ``txt``: the hand-written sets, one example a line, spans in brackets: ``[departure Boston]``;
  ``#`` starts a comment line. Short labels ``dep``, ``dst`` stand for departure and destination.
  The two characters ``\\n`` stand for a line break inside an example (and ``\\`` for a backslash).
* ``rasa``, ``doccano``, ``label-studio``, ``spacy``, ``atis``: see data/exports.py.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from data.example import Example, GoldSpan
from model.spans import to_bio
from model.tokenize import TOKENIZERS, Token

MARKUP_SHORT = {"dep": "departure", "dst": "destination"}
_MARKUP = re.compile(r"\[(\w+) ([^\[\]]+?)\]")
# Every format read; the ones whose examples are tokens joined by spaces (the file's own
# tokenization, kept by a model trained on them: TaggerConfig.tokenizer "whitespace").
FORMATS = ("jsonl", "bio", "txt", "rasa", "doccano", "label-studio", "spacy", "atis")
PRETOKENIZED = frozenset({"bio", "atis"})
WRITTEN = {".jsonl": "jsonl", ".bio": "bio", ".conll": "bio", ".tsv": "bio", ".iob": "bio"}
_BIO_SUFFIXES = (".conll", ".bio", ".tsv", ".iob")
_TAG = re.compile(r"(?:[BIESLU]-\S+|O)")
ATIS_MARKERS = ("BOS", "EOS")


class DataFormatError(ValueError):
    """A data file that cannot be read; the message starts with ``path:line:``."""


def guess_format(path: str | Path) -> str:
    """The format of a data file (one of :data:`FORMATS`), from its suffix and, where a suffix
    is shared, its first lines.

    Raises:
        DataFormatError: no format fits.
        FileNotFoundError: no such file.
    """
    from data import exports

    path = Path(path)
    if path.is_dir():
        return exports.guess_directory(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    suffix = path.suffix.lower()
    if suffix == ".spacy":
        return "spacy"
    if suffix in (".yml", ".yaml"):
        return "rasa"
    if suffix in (".in", ".out") or path.name in ("seq.in", "seq.out"):
        return "atis"
    if suffix == ".txt":
        return "txt"
    if suffix in _BIO_SUFFIXES:
        return "atis" if exports.is_atis_line(_first_line(path)) else "bio"
    if suffix == ".jsonl":
        first = _first_line(path)
        try:
            keys = set(json.loads(first)) if first else set()
        except (json.JSONDecodeError, TypeError):
            keys = set()
        return (
            "doccano" if keys & {"label", "labels", "entities"} and "spans" not in keys else "jsonl"
        )
    if suffix == ".json":
        return exports.guess_json(path)
    raise DataFormatError(
        f"{path}:0: cannot tell the format from the suffix {suffix!r}; name it with --from "
        f"({', '.join(FORMATS)})"
    )


def _first_line(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.strip():
                return line.rstrip("\n")
    return ""


def read_examples(path: str | Path, fmt: str | None = None) -> list[Example]:
    """Read a data file in format ``fmt`` (one of :data:`FORMATS`; None: :func:`guess_format`).

    Raises:
        DataFormatError: a malformed line, naming the file and line.
        FileNotFoundError: no such file.
    """
    return list(iter_examples(path, fmt))


def iter_examples(path: str | Path, fmt: str | None = None) -> Iterator[Example]:
    """Like :func:`read_examples`, one example at a time."""
    from data import exports

    path = Path(path)
    fmt = guess_format(path) if fmt is None else fmt
    readers: dict[str, Callable[[Path], Iterator[Example]]] = {
        "jsonl": lambda p: _read_text(p, _read_jsonl),
        "bio": lambda p: _read_text(p, _read_conll),
        "txt": lambda p: _read_text(p, _read_markup),
        "rasa": exports.read_rasa,
        "doccano": exports.read_doccano,
        "label-studio": exports.read_label_studio,
        "spacy": exports.read_docbin,
        "atis": exports.read_atis,
    }
    if fmt not in readers:
        raise DataFormatError(
            f"{path}:0: expected a format among {', '.join(FORMATS)}, got {fmt!r}"
        )
    yield from readers[fmt](path)


def _read_text(
    path: Path, reader: Callable[[Iterable[str], Path], Iterator[Example]]
) -> Iterator[Example]:
    if path.is_dir():
        raise DataFormatError(f"{path}:0: expected a file, got a directory")
    with open(path, encoding="utf-8") as f:
        try:
            yield from reader(f, path)
        except UnicodeDecodeError as e:
            raise DataFormatError(f"{path}:0: not UTF-8 text ({e.reason})") from None


def _read_jsonl(lines: Iterable[str], path: Path) -> Iterator[Example]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield Example.model_validate_json(line)
        except ValidationError as e:
            raise DataFormatError(f"{path}:{number}: {validation_message(e)}") from e


def validation_message(error: ValidationError) -> str:
    """A pydantic error in one line: ``where: what`` for each problem."""
    problems = []
    for x in error.errors():
        what = x["msg"].removeprefix("Value error, ")
        problems.append(f"{'.'.join(map(str, x['loc']))}: {what}" if x["loc"] else what)
    return "; ".join(problems)


def tagged_example(tokens: Sequence[str], tags: Sequence[str]) -> Example:
    """The example of a tokenized, tagged sentence: the tokens joined by single spaces, a span
    per chunk of tags (B-x, then I-x; an I-x that continues no x starts one, as conlleval reads
    it; S-/U- are B-, E-/L- are I-). Tags are assumed checked (``O`` or ``P-label``)."""
    text = " ".join(tokens)
    spans: list[GoldSpan] = []
    current: tuple[str, int, int] | None = None  # label, start, end
    offset = 0
    for token, tag in zip(tokens, tags, strict=True):
        start, end = offset, offset + len(token)
        offset = end + 1
        prefix, _, label = tag.partition("-")
        if prefix in ("I", "E", "L") and current is not None and current[0] == label:
            current = (label, current[1], end)
        else:
            if current is not None:
                spans.append(GoldSpan(start=current[1], end=current[2], label=current[0]))
            current = (label, start, end) if tag != "O" else None
    if current is not None:
        spans.append(GoldSpan(start=current[1], end=current[2], label=current[0]))
    return Example(text=text, spans=spans)


def is_tag(tag: str) -> bool:
    """Whether ``tag`` is O or a prefixed label (B-, I-, and BIOES/BILOU's E-, S-, L-, U-)."""
    return _TAG.fullmatch(tag) is not None


def _read_conll(lines: Iterable[str], path: Path) -> Iterator[Example]:
    rows: list[tuple[str, str]] = []

    def flush() -> Iterator[Example]:
        while rows and rows[0][0] in ATIS_MARKERS and rows[0][1] == "O":
            rows.pop(0)
        # ATIS's closing EOS is tagged O, or carries the sentence's intent ("EOS atis_flight")
        while rows and rows[-1][0] in ATIS_MARKERS:
            rows.pop()
        if rows:
            yield tagged_example([t for t, _ in rows], [tag for _, tag in rows])
        rows.clear()

    for number, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        parts = line.split()
        if not parts:
            yield from flush()
            continue
        if parts[0] == "-DOCSTART-":
            continue
        tag = parts[-1]
        if len(parts) >= 2 and parts[0] == "EOS" and not is_tag(tag):
            tag = "O"  # the sentence's intent, on ATIS's closing marker
        if len(parts) < 2 or not is_tag(tag):
            raise DataFormatError(
                f"{path}:{number}: expected 'token<TAB>tag' with tag O, B-label or I-label, "
                f"got {line!r}"
            )
        rows.append((parts[0], tag))
    yield from flush()


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
    return _write_atomic(
        path, (json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in examples)
    )


def bio_lines(example: Example, tokenize: Callable[[str], list[Token]]) -> tuple[str, int]:
    """An example as BIO lines (``token<TAB>tag``, then a blank line) and how many of its spans
    did not fall on token boundaries (widened to the tokens covering them, as training does).
    An example without tokens gives no lines."""
    tokens = tokenize(example.text)
    if not tokens:
        return "", 0
    tags, expanded = to_bio(tokens, [(s.start, s.end, s.label) for s in example.spans])
    return "".join(
        f"{t.text}\t{tag}\n" for t, tag in zip(tokens, tags, strict=True)
    ) + "\n", expanded


def write_bio(
    examples: Iterable[Example], path: str | Path, tokenize: Callable[[str], list[Token]]
) -> tuple[int, int]:
    """Write examples as BIO atomically, tokenized by ``tokenize`` (``model.tokenize.TOKENIZERS``;
    a context is not written). Returns ``(examples written, spans widened to token edges)``."""
    expanded = 0

    def lines() -> Iterator[str]:
        nonlocal expanded
        for example in examples:
            text, n = bio_lines(example, tokenize)
            expanded += n
            if text:
                yield text

    count = _write_atomic(path, lines())
    return count, expanded


def _write_atomic(path: str | Path, chunks: Iterable[str]) -> int:
    """Write ``chunks`` to ``path`` through a temporary file and a rename; returns their count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for chunk in chunks:
                f.write(chunk)
                count += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


@dataclass(frozen=True, slots=True)
class Converted:
    """What :func:`convert` read and wrote."""

    source: Path
    target: Path
    fmt: str
    examples: int
    spans: int
    labels: int
    expanded: int

    def summary(self) -> str:
        """One line for people: counts, and the spans off token boundaries."""
        line = (
            f"{self.source} ({self.fmt}) -> {self.target}: {self.examples:,} examples, "
            f"{self.spans:,} spans, {self.labels:,} labels"
        )
        if self.expanded:
            line += (
                f"; {self.expanded:,} spans do not fall on token boundaries and are widened to "
                "the tokens covering them"
            )
        return line


def convert(
    source: str | Path, target: str | Path, fmt: str | None = None, tokenizer: str = "spacy"
) -> Converted:
    """Read ``source`` (format ``fmt``, guessed when None) and write ``target`` as JSONL or BIO,
    chosen by its suffix (:data:`WRITTEN`); BIO tokens come from ``tokenizer``
    (``model.tokenize.TOKENIZERS``), and so does the count of spans off token boundaries.

    Raises:
        DataFormatError: ``source`` is malformed, or ``target`` has a suffix written by no format.
    """
    source, target = Path(source), Path(target)
    kind = WRITTEN.get(target.suffix.lower())
    if kind is None:
        raise DataFormatError(
            f"{target}:0: expected an output file ending in {', '.join(WRITTEN)}, "
            f"got {target.suffix or 'no suffix'!r}"
        )
    fmt = guess_format(source) if fmt is None else fmt
    examples = read_examples(source, fmt)  # read whole first: a bad line leaves no output
    tokenize = TOKENIZERS[tokenizer]
    if kind == "bio":
        count, expanded = write_bio(examples, target, tokenize)
    else:
        count = write_jsonl(examples, target)
        expanded = sum(bio_lines(e, tokenize)[1] for e in examples)
    return Converted(
        source,
        target,
        fmt,
        count,
        sum(len(e.spans) for e in examples),
        len({s.label for e in examples for s in e.spans}),
        expanded,
    )
