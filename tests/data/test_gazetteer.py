"""The place table's builder, on a handful of places: its ranking rule and its aliases."""

from data.gazetteer import compile_table
from model.values.places import PlaceIndex

CITIES = [
    ("Portland", "US", "OR", 650_000),
    ("Portland", "US", "ME", 68_000),
    ("Springfield", "US", "IL", 114_000),
    ("Jacksonville", "US", "FL", 950_000),
    ("Georgia", "US", "VT", 4_500),
]
AIRPORTS = [
    ("PDX", "Portland International Airport", "Portland", "US", "Oregon"),
    ("PWM", "Portland International Jetport", "Portland", "US", "Maine"),
    ("JAX", "Jacksonville International Airport", "Jacksonville", "US", "Florida"),
]
STATES = [("FL", "Florida"), ("GA", "Georgia"), ("ME", "Maine"), ("OR", "Oregon")]
COUNTRIES = [("US", "United States")]
ALIASES = [("pdx town", "Portland", ""), ("the jetport", "Portland", "PWM")]


def index() -> PlaceIndex:
    return PlaceIndex(compile_table(CITIES, AIRPORTS, STATES, COUNTRIES, ALIASES))


def test_cities_rank_by_population_and_airports_serve_their_city() -> None:
    value = index().resolve("portland")
    assert value["ambiguous"] is True
    assert [(c["kind"], c.get("state"), c["iata"]) for c in value["candidates"]] == [
        ("city", "OR", ["PDX"]),
        ("city", "ME", ["PWM"]),
    ]


def test_a_state_outranks_a_small_city_of_its_name() -> None:
    assert [c["kind"] for c in index().candidates("georgia")] == ["state", "city"]


def test_aliases_name_a_city_or_an_airport_alone_and_codes_name_airports() -> None:
    places = index()
    assert places.candidates("pdx town") == [places.candidates("Portland, OR")[0]]
    assert [c["iata"] for c in places.candidates("the jetport")] == [["PWM"]]
    assert places.resolve("JAX")["name"] == "Jacksonville International Airport"
    assert places.resolve("portland maine")["state"] == "ME"
