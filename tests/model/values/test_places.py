"""Place resolution against the shipped table: aliases, codes, qualifiers, ambiguity, unknowns."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.values.places import PlaceIndex, normalize


@pytest.fixture(scope="module")
def places() -> PlaceIndex:
    return PlaceIndex.load()


@pytest.mark.parametrize(
    ("text", "kind", "name", "iata"),
    [
        ("Beijing", "city", "Beijing", ["PEK", "PKX", "NAY"]),
        ("JFK", "airport", "John F Kennedy International Airport", ["JFK"]),
        ("jfk", "airport", "John F Kennedy International Airport", ["JFK"]),
        ("kennedy", "airport", "John F Kennedy International Airport", ["JFK"]),
        ("Kennedy Airport", "airport", "John F Kennedy International Airport", ["JFK"]),
        ("o'hare", "airport", "Chicago O'Hare International Airport", ["ORD"]),
        ("la guardia", "airport", "Laguardia Airport", ["LGA"]),
        ("Heathrow", "airport", "London Heathrow Airport", ["LHR"]),
        ("nyc", "city", "New York City", ["JFK", "SWF", "ISP", "LGA"]),
        ("la", "city", "Los Angeles", ["LAX", "WHP"]),
        ("Washington, D.C.", "city", "Washington", ["IAD", "DCA", "MNZ"]),
        ("Portland, OR", "city", "Portland", ["PDX", "HIO", "TTD"]),
        ("portland maine", "city", "Portland", ["PWM"]),
        ("newark new jersey", "city", "Newark", ["EWR"]),
        ("St. Louis", "city", "St. Louis", ["STL", "SUS"]),
        ("saint louis", "city", "St. Louis", ["STL", "SUS"]),
        ("Paris, France", "city", "Paris", ["CDG", "LBG", "ORY"]),
        (
            "general mitchell international",
            "airport",
            "General Mitchell International Airport",
            ["MKE"],
        ),
    ],
)
def test_known_places(places: PlaceIndex, text: str, kind: str, name: str, iata: list[str]) -> None:
    value = places.resolve(text)
    assert value is not None
    assert (value["kind"], value["name"], value["iata"]) == (kind, name, iata)


def test_ambiguous_names_list_every_candidate_biggest_city_first(places: PlaceIndex) -> None:
    value = places.resolve("portland")
    assert value["ambiguous"] is True
    states = [c.get("state") for c in value["candidates"] if c["country"] == "US"]
    assert states[:2] == ["OR", "ME"]  # Portland, Oregon is the bigger city
    assert value["candidates"][0] == {
        k: v for k, v in value.items() if k not in ("ambiguous", "candidates")
    }


def test_states_and_countries(places: PlaceIndex) -> None:
    assert places.resolve("Japan") == {
        "type": "place",
        "kind": "country",
        "name": "Japan",
        "country": "JP",
    }
    florida = places.resolve("florida")
    assert (florida["kind"], florida["state"]) == ("state", "FL")  # not the town in Cuba
    assert places.resolve("new york")["name"] == "New York City"  # the alias, not the state


def test_unknown_places_have_no_value(places: PlaceIndex) -> None:
    assert places.resolve("Xyzzyville") is None
    assert places.resolve("") is None
    assert places.resolve("   ") is None


def test_normalize_folds_case_accents_punctuation_and_saint() -> None:
    assert normalize("São Paulo") == "sao paulo"
    assert normalize("St. Louis") == normalize("saint louis") == "saint louis"
    assert normalize("Ft. Lauderdale") == "fort lauderdale"
    assert normalize("The Big Apple") == "big apple"


@given(st.text(max_size=60))
def test_no_text_makes_place_resolution_raise(places: PlaceIndex, text: str) -> None:
    value = places.resolve(text)
    assert value is None or value["type"] == "place"


def test_remembered_lookups_give_fresh_values(places: PlaceIndex) -> None:
    """Lookups are memoized per text; each value is still a new dict a caller may change."""
    first = places.resolve("portland")
    first["name"] = "edited"
    first["candidates"].clear()
    again = places.resolve("portland")
    assert again["name"] == "Portland" and len(again["candidates"]) > 1
    assert places.resolve("Portland, OR")["state"] == "OR"
