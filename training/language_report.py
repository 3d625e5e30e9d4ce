"""The language gate's report: the share of non-English text refused, and the English refused.

``python -m training.language_report --non-english FILE data/dev.txt data/test.txt`` prints a
Markdown table of refusals per language (FILE has ``LANG<TAB>text`` lines), one per English set
(bracket markup, ``[dep Boston]``, is stripped; a literal ``\\n`` is a line break), every English
line refused, and the microseconds :func:`model.language.detect` takes per call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import typer

from data.formats import read_examples
from model.language import detect

# "[dep Boston]" -> "Boston"; the label names of data/dev.txt and data/test.txt, short and long.
TIMING_ROUNDS = 3


def read_non_english(path: Path) -> list[tuple[str, str]]:
    """``(language, text)`` per ``LANG<TAB>text`` line; blank lines are skipped.

    Raises:
        ValueError: a line has no tab, starting with ``path:line:``.
    """
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        language, tab, text = line.partition("\t")
        if not tab:
            raise ValueError(f"{path}:{number}: expected LANG<TAB>text, got {line!r}")
        pairs.append((language, text))
    return pairs


def read_english(path: Path) -> list[str]:
    """The texts of a data file in any format ``data.formats`` reads."""
    return [example.text for example in read_examples(path)]


def refusal_table(pairs: Sequence[tuple[str, str]]) -> str:
    """Markdown: lines and refusals per language, then all languages."""
    refused: dict[str, list[bool]] = {}
    for language, text in pairs:
        refused.setdefault(language, []).append(not detect(text).is_english)
    rows = sorted(refused.items()) + [("all", [r for rs in refused.values() for r in rs])]
    lines = ["| language | lines | refused | share |", "|---|---:|---:|---:|"]
    for language, flags in rows:
        lines.append(
            f"| {language} | {len(flags)} | {sum(flags)} | {sum(flags) / len(flags):.1%} |"
        )
    return "\n".join(lines)


def microseconds_per_call(texts: Sequence[str]) -> float:
    """Mean time of one :func:`detect` call over ``texts``, best of a few rounds (warm)."""
    detect("warm up")
    best = float("inf")
    for _ in range(TIMING_ROUNDS):
        start = time.perf_counter()
        for text in texts:
            detect(text)
        best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1e6


def main(
    english: list[Path] = typer.Argument(..., help="English sets in bracket markup"),  # noqa: B008
    non_english: Path = typer.Option(..., help="LANG<TAB>text lines, none of them English"),
) -> None:
    """Print the share of non-English lines refused, and every English line refused."""
    pairs = read_non_english(non_english)
    typer.echo(f"\n{non_english}\n\n{refusal_table(pairs)}\n")
    typer.echo("| English set | lines | refused |\n|---|---:|---:|")
    sets = {path: read_english(path) for path in english}
    refused = {path: [t for t in texts if not detect(t).is_english] for path, texts in sets.items()}
    for path, texts in sets.items():
        typer.echo(f"| {path} | {len(texts)} | {len(refused[path])} |")
    for path, texts in refused.items():
        for text in texts:
            typer.echo(f"refused in {path}: {text!r} ({detect(text).reason})")
    every = [t for _, t in pairs] + [t for texts in sets.values() for t in texts]
    typer.echo(f"\ndetect: {microseconds_per_call(every):.1f} µs per call ({len(every)} texts)")


if __name__ == "__main__":
    typer.run(main)
