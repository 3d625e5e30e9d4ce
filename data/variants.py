"""Variants of hand-written examples for robustness tests: other surface forms and unseen places.

* :func:`spoken` lowercases and drops punctuation (speech transcripts); :func:`shouted` shouts.
* :func:`with_heldout_places` swaps every departure and destination for a held-out city,
  so the sentences are real hand-written phrasing around places the model never saw in training.
  ``python -m data.variants --seed 0 --out data/heldout_places.jsonl`` writes that test set.
"""

from __future__ import annotations

import random
from pathlib import Path

import typer

from data.example import Example, GoldSpan
from data.formats import read_examples, write_jsonl
from data.generate import MAX_DRAWS, decodable_example
from data.place_names import split_places
from model.labels import PLACE_LABELS

SPOKEN_DROP = set(',.?!;:"()')
HELDOUT_KINDS = {"city": 6, "city_state": 2, "code": 1, "airport": 1}


def _rebuild(example: Example, chars: list[str | None]) -> Example:
    """Apply a per-character rewrite (None deletes) and move the spans with their characters."""
    new_index: list[int] = []  # position in the new text of each old character (or of the next one)
    out: list[str] = []
    for c in chars:
        new_index.append(len(out))
        if c is None or (c == " " and (not out or out[-1] == " ")):
            continue
        out.append(c)
    new_index.append(len(out))
    text = "".join(out)
    spans = []
    for span in example.spans:
        start, end = new_index[span.start], new_index[span.end]
        while start < end and text[start] == " ":
            start += 1
        while end > start and text[end - 1] == " ":
            end -= 1
        if start < end:
            spans.append(GoldSpan(start=start, end=end, label=span.label))
    stripped = text.rstrip()
    return Example(text=stripped, spans=[s for s in spans if s.end <= len(stripped)])


def _same_length(c: str, new: str) -> str:
    return new if len(new) == 1 else c


def spoken(example: Example) -> Example:
    """Lowercase, without punctuation: 'Leave Boston, please.' -> 'leave boston please'."""
    return _rebuild(
        example, [None if c in SPOKEN_DROP else _same_length(c, c.lower()) for c in example.text]
    )


def shouted(example: Example) -> Example:
    """ALL CAPS."""
    return _rebuild(example, [_same_length(c, c.upper()) for c in example.text])


def _cased_like(original: str, replacement: str) -> str:
    if original.islower():
        return replacement.lower()
    if original.isupper() and len(original) > 3:
        return replacement.upper()
    return replacement


def with_heldout_places(examples: list[Example], seed: int) -> list[Example]:
    """Each departure and destination replaced by a held-out city, cased like the original.

    A registry name that cannot be one span under the label conventions ("Diamond Head /
    Kapahulu", "Augusto C. Sandino (Managua) International Airport": a spaced slash or a bracket
    separates names) is redrawn, by the rule the generator's training examples follow
    (:func:`data.generate.decodable_example`), so every gold span is one the conventions allow.
    """
    rng = random.Random(seed)
    _, heldout = split_places()
    by_kind = {k: [p for p in heldout if p.kind == k] for k in HELDOUT_KINDS}
    kinds, weights = list(HELDOUT_KINDS), list(HELDOUT_KINDS.values())
    result = []
    for example in examples:
        for _ in range(MAX_DRAWS):
            text, spans, position = "", [], 0
            for span in sorted(example.spans, key=lambda s: s.start):
                text += example.text[position : span.start]
                piece = example.text[span.start : span.end]
                if span.label in PLACE_LABELS:
                    place = rng.choice(by_kind[rng.choices(kinds, weights)[0]])
                    piece = _cased_like(piece, place.text)
                spans.append(
                    GoldSpan(start=len(text), end=len(text) + len(piece), label=span.label)
                )
                text += piece
                position = span.end
            rewritten = Example(text=text + example.text[position:], spans=spans)
            if decodable_example(rewritten):
                break
        else:
            raise RuntimeError(f"no held-out places fit {example.text!r} in {MAX_DRAWS} draws")
        result.append(rewritten)
    return result


def main(
    seed: int = typer.Option(0, help="random seed for the place choice"),
    source: Path = typer.Option(Path("data/test.txt"), help="hand-written examples to rewrite"),
    out: Path = typer.Option(..., help="output .jsonl"),
) -> None:
    """Write the held-out-places test set: hand-written sentences, places never seen in training."""
    examples = [e for e in read_examples(source) if any(s.label in PLACE_LABELS for s in e.spans)]
    count = write_jsonl(with_heldout_places(examples, seed), out)
    typer.echo(f"wrote {count} examples to {out}", err=True)


if __name__ == "__main__":
    typer.run(main)
