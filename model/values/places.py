"""Place resolution: a departure or destination span's text to the place it names.

The table (``model/places.json.gz``) is built offline by ``python -m data.gazetteer`` from cities
of 15,000+ people, airports with IATA codes, US states, countries and reviewed aliases, with each
name's candidates already in rank order (the ranking rule is stated in data/gazetteer.py). Lookup
is by normalized name (:func:`normalize`: "st. louis" = "saint louis"; accents, case and
punctuation ignored); a trailing state or country narrows a city ("Portland, OR", "paris france").

A reviewed alias ("o'hare", "nyc") is the answer on its own; an exact IATA code comes first. When
more than one candidate remains, the value says ``"ambiguous": true`` and lists them (up to
:data:`MAX_CANDIDATES`) instead of presenting a guess as certain.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import orjson

PLACES_FILE = Path(__file__).resolve().parent.parent / "places.json.gz"
MAX_CANDIDATES = 5
# What an airport's name may end in or leave out: "kennedy airport" = "kennedy".
GENERIC_SUFFIX = re.compile(r" (international airport|international|airport|intl)$")


def normalize(name: str) -> str:
    """'St. Louis' -> 'saint louis'; 'São Paulo' -> 'sao paulo'; 'Portland,OR' -> 'portland or'."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[.,()/]", " ", name).replace("-", " ").replace("’", "'")
    name = re.sub(r"\bst\b", "saint", re.sub(r"\bft\b", "fort", name))
    return " ".join(name.split()).removeprefix("the ")


@dataclass(frozen=True, slots=True)
class PlaceIndex:
    """Normalized name -> candidate places. Load the shipped table with :meth:`load`."""

    table: dict[str, Any]
    # text -> candidate ids: place spans repeat, and the lookup is a pure function of the text.
    _memo: dict[str, list[int]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    @cache
    def load(cls, path: Path = PLACES_FILE) -> PlaceIndex:
        return cls(orjson.loads(gzip.decompress(Path(path).read_bytes())))

    def candidates(self, text: str) -> list[dict[str, Any]]:
        """Every place ``text`` may name, best first (see the module's ranking rule)."""
        ids = self._memo.get(text)
        if ids is None:
            ids = self._candidate_ids(text)
            if len(self._memo) >= 65_536:
                self._memo.clear()
            self._memo[text] = ids
        return [self.table["places"][i] for i in ids]

    def _candidate_ids(self, text: str) -> list[int]:
        key = normalize(text)
        table = self.table
        if not key:
            return []
        if key in table["aliases"]:
            return [table["aliases"][key]]
        ids: list[int] = []
        if (
            len(key) == 3
            and key in table["codes"]
            and (text.strip().isupper() or key not in table["names"])
        ):
            ids.append(table["codes"][key])
        ids += (
            table["names"].get(key)
            or self._qualified(key)
            or table["names"].get(GENERIC_SUFFIX.sub("", key), [])
        )
        return list(dict.fromkeys(ids))

    def _qualified(self, key: str) -> list[int]:
        """'portland or', 'paris france', 'newark new jersey': a city narrowed by what follows."""
        words = key.split()
        for cut in range(len(words) - 1, 0, -1):
            qualifier = self.table["qualifiers"].get(" ".join(words[cut:]))
            if qualifier is None:
                continue
            head = " ".join(words[:cut])
            head_ids = self.table["names"].get(head) or (
                [self.table["aliases"][head]] if head in self.table["aliases"] else []
            )
            matches = [i for i in head_ids if _matches(self.table["places"][i], qualifier)]
            if matches:
                return matches
        return []

    def resolve(self, text: str) -> dict[str, Any] | None:
        """A place span's value: the best candidate, flagged and listed when not the only one."""
        candidates = self.candidates(text)
        if not candidates:
            return None
        best = dict(candidates[0])
        if len(candidates) > 1:
            best["ambiguous"] = True
            best["candidates"] = [dict(c) for c in candidates[:MAX_CANDIDATES]]
        return best


def _matches(place: dict[str, Any], qualifier: str) -> bool:
    if qualifier.startswith("US-"):
        return place.get("country") == "US" and place.get("state") == qualifier[3:]
    return place.get("country") == qualifier
