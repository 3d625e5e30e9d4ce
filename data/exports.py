"""Readers of what annotation tools export: Rasa NLU YAML, Doccano JSONL, Label Studio JSON,
spaCy ``DocBin`` files and the ATIS pair of files (``seq.in`` / ``seq.out``).

Each reader yields :class:`data.example.Example` objects; a malformed file raises
:class:`data.formats.DataFormatError` naming ``path:line:`` and what is wrong. Spans keep the
tool's character offsets; those off token boundaries are widened (and counted) in training, as
for every format. A label's inner spaces become underscores (a BIO tag cannot hold a space).
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from data.example import Example, GoldSpan
from data.formats import ATIS_MARKERS, DataFormatError, is_tag, tagged_example, validation_message

log = logging.getLogger(__name__)

# ----- Rasa NLU YAML (rasa.shared.nlu.training_data.entities_parser.ENTITY_REGEX) -----
# [text](entity) or [text](entity:synonym), [text]{"entity": ..., "role": ...}, and
# [text][{"entity": ...}, {...}] (several entities on one text: the first is read).
_RASA_ENTITY = re.compile(
    r"\[(?P<text>[^\]]+?)\](\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)"
    r"|\{(?P<dict>[^}]+?)\}|\[(?P<list>.*?)\])"
)


def rasa_label(entity: str, role: str | None) -> str:
    """The label of a Rasa entity: its role where it has one (``{"entity": "city", "role":
    "departure"}`` is ``departure``), else the entity itself (``[Boston](city)`` is ``city``)."""
    return role or entity


def parse_rasa_example(line: str) -> Example:
    """One Rasa training example (``fly to [Boston]{"entity": "city", "role": "destination"}``).

    Raises:
        ValueError: an entity annotation that is not Rasa's syntax.
    """
    text, spans, position = [], [], 0
    for match in _RASA_ENTITY.finditer(line):
        text.append(line[position : match.start()])
        start = sum(map(len, text))
        if match.group("entity") is not None:
            label = match.group("entity").strip()
        else:
            label = _rasa_dict_label(match.group("dict"), match.group("list"), match.group(0))
        text.append(match.group("text"))
        spans.append((start, start + len(match.group("text")), label))
        position = match.end()
    text.append(line[position:])
    return _example("".join(text), spans)


def _rasa_dict_label(inner: str | None, listed: str | None, source: str) -> str:
    try:
        raw = json.loads("{" + inner + "}") if inner is not None else json.loads(f"[{listed}]")
    except json.JSONDecodeError as e:
        raise ValueError(f"entity annotation {source!r} is not JSON ({e.msg})") from None
    entity = raw[0] if isinstance(raw, list) and raw else raw
    if not isinstance(entity, dict) or not isinstance(entity.get("entity"), str):
        raise ValueError(f'entity annotation {source!r} has no "entity" name')
    role = entity.get("role")
    return rasa_label(entity["entity"], role if isinstance(role, str) else None)


def read_rasa(path: Path) -> Iterator[Example]:
    """The examples of every ``intent`` of a Rasa NLU YAML file (``nlu:``; synonyms, regexes
    and lookup tables are not sentences and are skipped). An example's line is its own line."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            root = yaml.compose(f, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise DataFormatError(f"{path}:{line}: not YAML ({getattr(e, 'problem', e)})") from None
    except UnicodeDecodeError as e:
        raise DataFormatError(f"{path}:0: not UTF-8 text ({e.reason})") from None
    nlu = _yaml_get(root, "nlu")
    if not isinstance(nlu, yaml.SequenceNode):
        raise DataFormatError(f"{path}:1: expected Rasa NLU data, a list under 'nlu:'; found none")
    for item in nlu.value:
        if not isinstance(item, yaml.MappingNode) or _yaml_get(item, "intent") is None:
            continue
        examples = _yaml_get(item, "examples")
        for line_number, line in _rasa_lines(examples, path, item.start_mark.line + 1):
            try:
                yield parse_rasa_example(line)
            except ValueError as e:
                raise DataFormatError(f"{path}:{line_number}: {e}") from None


def _yaml_get(node: Any, key: str) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _rasa_lines(examples: Any, path: Path, intent_line: int) -> Iterator[tuple[int, str]]:
    """(line, example) of an intent's ``examples``: a block of ``- example`` lines, or a list of
    ``text:`` entries (the form with metadata)."""
    import yaml

    if isinstance(examples, yaml.ScalarNode):
        # A block scalar ("examples: |") starts on the line after its indicator.
        first = examples.start_mark.line + (2 if examples.style in ("|", ">") else 1)
        for i, line in enumerate(examples.value.splitlines()):
            if not line.strip():
                continue
            if not line.lstrip().startswith("- "):
                raise DataFormatError(
                    f"{path}:{first + i}: expected an example line '- text', got {line.strip()!r}"
                )
            yield first + i, line.lstrip()[2:].strip()
    elif isinstance(examples, yaml.SequenceNode):
        for entry in examples.value:
            text = _yaml_get(entry, "text")
            if not isinstance(text, yaml.ScalarNode):
                raise DataFormatError(
                    f"{path}:{entry.start_mark.line + 1}: expected an example with 'text:'"
                )
            block = 1 if text.style in ("|", ">") else 0  # the text starts a line below
            yield text.start_mark.line + 1 + block, text.value.strip()
    else:
        raise DataFormatError(f"{path}:{intent_line}: an intent without 'examples:'")


# ----- Doccano (sequence labelling JSONL export) -----


def read_doccano(path: Path) -> Iterator[Example]:
    """A Doccano export, one JSON object a line: ``{"text": ..., "label": [[start, end, tag]]}``
    (``"data"`` for the text and ``"labels"`` in older releases), or the newer shape
    ``{"text": ..., "entities": [{"label": ..., "start_offset": ..., "end_offset": ...}]}``."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataFormatError(f"{path}:{number}: not JSON ({e.msg})") from None
            try:
                yield _doccano_example(obj)
            except ValueError as e:
                raise DataFormatError(f"{path}:{number}: {e}") from None


def _doccano_example(obj: Any) -> Example:
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text", obj.get("data"))
    if not isinstance(text, str):
        raise ValueError('expected a string "text"')
    spans: list[tuple[Any, Any, Any]] = []
    if "entities" in obj:
        entities = obj["entities"]
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise ValueError('expected "entities" to be a list of objects')
        spans = [(e.get("start_offset"), e.get("end_offset"), e.get("label")) for e in entities]
    else:
        labels = obj.get("label", obj.get("labels", []))
        if not isinstance(labels, list):
            raise ValueError(f'expected "label" to be a list, got {type(labels).__name__}')
        for item in labels:
            if not (isinstance(item, list) and len(item) == 3):
                raise ValueError(
                    f'expected "label" entries [start, end, "tag"], got {json.dumps(item)} '
                    "(a text classification export has no spans)"
                )
            spans.append(tuple(item))  # type: ignore[arg-type]
    return _example(text, spans)


# ----- Label Studio (JSON export: "labels" results over text) -----


def read_label_studio(path: Path) -> Iterator[Example]:
    """A Label Studio JSON export: a list of tasks, ``data`` holding the text and each
    annotation's ``result`` its ``labels`` regions (``value.start``/``end``/``labels``); the
    first annotation not cancelled is read, and a task without one is skipped (and counted).
    The JSON-MIN export (``{"text": ..., "label": [{"start", "end", "labels"}]}``) reads too."""
    skipped = 0
    for line, task in _json_array(path):
        try:
            example = _label_studio_example(task)
        except ValueError as e:
            raise DataFormatError(f"{path}:{line}: {e}") from None
        if example is None:
            skipped += 1
        else:
            yield example
    if skipped:
        log.warning("%s: %d task(s) without an annotation were skipped", path, skipped)


def _label_studio_example(task: Any) -> Example | None:
    if not isinstance(task, dict):
        raise ValueError(f"expected a task object, got {type(task).__name__}")
    if "annotations" not in task and "data" not in task:  # JSON-MIN: the regions beside the text
        text = task.get("text")
        regions = [
            r for v in task.values() if isinstance(v, list) for r in v if isinstance(r, dict)
        ]
        return _label_studio_spans(text, [{"type": "labels", "value": r} for r in regions])
    data = task.get("data")
    if not isinstance(data, dict):
        raise ValueError('expected the task\'s "data" to be an object')
    strings = [v for v in data.values() if isinstance(v, str)]
    text = data["text"] if "text" in data else (strings[0] if len(strings) == 1 else None)
    annotations = [
        a
        for a in task.get("annotations") or []
        if isinstance(a, dict) and not a.get("was_cancelled", False)
    ]
    if not annotations:
        return None
    result = annotations[0].get("result")
    if not isinstance(result, list):
        raise ValueError('expected the annotation\'s "result" to be a list')
    return _label_studio_spans(text, result)


def _label_studio_spans(text: Any, result: Sequence[Any]) -> Example:
    if not isinstance(text, str):
        raise ValueError('expected the text in "data.text" (or the one string of "data")')
    spans = []
    for region in result:
        if not isinstance(region, dict) or region.get("type") != "labels":
            continue  # choices, relations, text areas: not spans
        value = region.get("value")
        labels = value.get("labels") if isinstance(value, dict) else None
        if not isinstance(labels, list) or not labels:
            raise ValueError(f"expected a region with labels, got {json.dumps(region)[:80]}")
        if len(labels) > 1:
            raise ValueError(
                f"region {value.get('text', '')!r} has {len(labels)} labels {labels}; "  # type: ignore[union-attr]
                "slot-tagger gives a span one label"
            )
        spans.append((value.get("start"), value.get("end"), labels[0]))  # type: ignore[union-attr]
    return _example(text, spans)


def _json_array(path: Path) -> Iterator[tuple[int, Any]]:
    """The items of a top-level JSON array, each with the line it starts on."""
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise DataFormatError(f"{path}:0: not UTF-8 text ({e.reason})") from None
    decoder = json.JSONDecoder()
    space = re.compile(r"[ \t\n\r]*")
    i = space.match(content, 0).end()  # type: ignore[union-attr]
    if content[i : i + 1] != "[":
        line = content.count("\n", 0, i) + 1
        raise DataFormatError(f"{path}:{line}: expected a JSON list of tasks")
    i = space.match(content, i + 1).end()  # type: ignore[union-attr]
    while content[i : i + 1] != "]":
        line = content.count("\n", 0, i) + 1
        try:
            item, i = decoder.raw_decode(content, i)
        except json.JSONDecodeError as e:
            raise DataFormatError(f"{path}:{e.lineno}: not JSON ({e.msg})") from None
        yield line, item
        i = space.match(content, i).end()  # type: ignore[union-attr]
        if content[i : i + 1] == ",":
            i = space.match(content, i + 1).end()  # type: ignore[union-attr]
        elif content[i : i + 1] != "]":
            line = content.count("\n", 0, i) + 1
            raise DataFormatError(f"{path}:{line}: expected ',' or ']' after a task")


# ----- spaCy DocBin -----


def read_docbin(path: Path) -> Iterator[Example]:
    """A spaCy ``DocBin`` (``.spacy``, as ``spacy convert`` and spaCy's training use): each
    doc's text and its entities (``doc.ents``)."""
    import spacy
    from spacy.tokens import DocBin

    try:
        docs = list(DocBin().from_disk(path).get_docs(spacy.blank("en").vocab))
    except Exception as e:  # noqa: BLE001 - msgpack, zlib and spaCy all raise their own
        raise DataFormatError(f"{path}:0: not a spaCy DocBin file ({type(e).__name__})") from None
    for number, doc in enumerate(docs, 1):
        try:
            yield _example(doc.text, [(e.start_char, e.end_char, e.label_) for e in doc.ents])
        except ValueError as e:
            raise DataFormatError(f"{path}:{number}: doc {number}: {e}") from None


# ----- ATIS: seq.in (a sentence a line) and seq.out (its tags) -----


def is_atis_line(line: str) -> bool:
    """Whether a line is ATIS's one-file form: ``BOS words EOS<TAB>O tags intent``."""
    parts = line.split("\t")
    if len(parts) != 2:
        return False
    words, tags = parts[0].split(), parts[1].split()
    return len(words) >= 2 and len(tags) >= len(words) and all(map(is_tag, tags[:-1]))


def guess_directory(path: Path) -> str:
    """A directory is read as the ATIS pair (JointBERT's layout: ``seq.in``, ``seq.out``)."""
    if (path / "seq.in").is_file() and (path / "seq.out").is_file():
        return "atis"
    raise DataFormatError(
        f"{path}:0: a directory is read as the ATIS pair seq.in and seq.out, which it lacks"
    )


def guess_json(path: Path) -> str:
    """``.json``: a Label Studio export (a list of tasks), or JSON lines (Doccano or ours)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        head = f.read(4096).lstrip()
    if head.startswith("["):
        return "label-studio"
    if head.startswith("{"):
        first = head.splitlines()[0]
        return "jsonl" if '"spans"' in first else "doccano"
    raise DataFormatError(f"{path}:1: expected a JSON list of tasks or JSON lines")


def read_atis(path: Path) -> Iterator[Example]:
    """The ATIS pair: ``path`` a directory with ``seq.in`` and ``seq.out``, or either file of a
    pair ``X.in``/``X.out``; one sentence a line and its tags on the same line of the other,
    as many tags as tokens. A line may also carry JointBERT's and the original ATIS habits: the
    ``BOS``/``EOS`` markers, and the intent after the last tag. A single file of
    ``BOS words EOS<TAB>O tags intent`` lines (``atis.train.w-intent.iob``) reads too."""
    if path.is_dir():
        words, tags = path / "seq.in", path / "seq.out"
    elif path.suffix in (".in", ".out"):
        words, tags = path.with_suffix(".in"), path.with_suffix(".out")
    else:
        yield from _read_atis_one_file(path)
        return
    for missing in (words, tags):
        if not missing.is_file():
            raise DataFormatError(
                f"{missing}:0: no such file: the ATIS pair needs {words.name} "
                f"and {tags.name} side by side"
            )
    with open(words, encoding="utf-8") as w, open(tags, encoding="utf-8") as t:
        for number, (line, tag_line) in enumerate(itertools.zip_longest(w, t), 1):
            if line is None or tag_line is None:
                longer, shorter = (words, tags) if tag_line is None else (tags, words)
                raise DataFormatError(
                    f"{longer}:{number}: {longer.name} has more lines than {shorter.name} "
                    f"({number - 1})"
                )
            yield from _atis_sentence(line.split(), tag_line.split(), f"{tags}:{number}")


def _read_atis_one_file(path: Path) -> Iterator[Example]:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            if "\t" not in line:
                raise DataFormatError(
                    f"{path}:{number}: expected 'BOS words EOS<TAB>O tags intent', got "
                    f"{line.strip()[:80]!r}"
                )
            left, right = line.split("\t", 1)
            yield from _atis_sentence(left.split(), right.split(), f"{path}:{number}")


def _atis_sentence(tokens: list[str], tags: list[str], where: str) -> Iterator[Example]:
    if not tokens and not tags:
        return
    if len(tags) == len(tokens) + 1 and not is_tag(tags[-1]):
        tags = tags[:-1]  # the intent, after the last tag
    if tokens and tokens[0] == ATIS_MARKERS[0] and tags:
        tokens, tags = tokens[1:], tags[1:]
    if tokens and tokens[-1] == ATIS_MARKERS[1] and len(tags) == len(tokens):
        tokens, tags = tokens[:-1], tags[:-1]  # EOS, tagged O or with the intent
    if len(tags) != len(tokens):
        raise DataFormatError(f"{where}: {len(tags)} tags for {len(tokens)} tokens")
    for tag in tags:
        if not is_tag(tag):
            raise DataFormatError(f"{where}: expected tags O, B-label or I-label, got {tag!r}")
    if tokens:
        yield tagged_example(tokens, tags)


# ----- shared -----


def _example(text: str, spans: Sequence[tuple[Any, Any, Any]]) -> Example:
    """An example from a tool's ``(start, end, label)`` triples, checked."""
    gold = []
    for start, end, label in spans:
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
            raise ValueError(f"expected integer span offsets, got ({start!r}, {end!r})")
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"expected a label name, got {label!r} at ({start}, {end})")
        try:
            gold.append(GoldSpan(start=start, end=end, label=re.sub(r"\s+", "_", label.strip())))
        except ValidationError as e:
            raise ValueError(f"span ({start}, {end}, {label!r}): {validation_message(e)}") from None
    try:
        return Example(text=text, spans=gold)
    except ValidationError as e:
        raise ValueError(validation_message(e)) from None
