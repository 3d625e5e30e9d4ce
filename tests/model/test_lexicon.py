"""The lexicon: frequency buckets, longest place matches, the training holdout, JSON round trip."""

import pytest

from model.lexicon import FREQUENCY_BUCKETS, PLACE_KINDS, POSITIONS, Lexicon
from model.tokenize import tokenize

TABLE = {
    "places": [
        {"kind": "city"},
        {"kind": "city"},
        {"kind": "airport"},
        {"kind": "state"},
        {"kind": "country"},
        {"kind": "city"},
    ],
    "names": {
        "new york": [0],
        "new york city": [0],
        "saint louis": [1],
        "kennedy airport": [2],
        "oregon": [3],
        "france": [4],
        "wilkes barre": [5],
        "to": [5],
    },
    "aliases": {"the big apple": 0},
    "codes": {"lax": 2, "sfo": 2, "the": 2},
}
ZIPF = {"the": 7.7, "to": 7.6, "stay": 5.3, "lax": 3.5, "new": 6.4, "sfo": 2.7}


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.build(TABLE, ZIPF, ZIPF.__getitem__)


def ids_of(lexicon: Lexicon, text: str, holdout: float = 0.0) -> list[str]:
    """Gazetteer ids as readable names: "-" for no place, else "kind/position"."""
    names = ["<pad>", "-"] + [f"{k}/{p}" for k in PLACE_KINDS for p in POSITIONS]
    tokens = [t.text for t in tokenize(text)]
    return [names[i] for i in lexicon.gazetteer_ids(tokens, holdout)]


def test_the_longest_name_wins_and_is_marked_begin_inside_end(lexicon) -> None:
    assert ids_of(lexicon, "fly New York City") == ["-", "city/begin", "city/inside", "city/end"]
    assert ids_of(lexicon, "new york now") == ["city/begin", "city/end", "-"]


def test_names_match_through_case_abbreviations_and_inner_hyphens(lexicon) -> None:
    assert ids_of(lexicon, "ST. LOUIS") == ["city/begin", "city/end"]
    assert ids_of(lexicon, "Wilkes-Barre") == ["city/begin", "city/inside", "city/end"]
    assert ids_of(lexicon, "to Kennedy Airport") == ["-", "airport/begin", "airport/end"]


def test_codes_count_in_capitals_or_when_the_word_is_rare(lexicon) -> None:
    assert ids_of(lexicon, "LAX sfo lax THE the") == [
        "code/single",
        "code/single",
        "code/single",
        "code/single",
        "-",
    ]


def test_a_very_common_word_is_not_a_one_word_place(lexicon) -> None:
    # "to" names a town in the table, and is a function word first.
    assert ids_of(lexicon, "go to France") == ["-", "-", "country/single"]


def test_holdout_hides_the_same_names_every_time(lexicon) -> None:
    text = "new york city saint louis oregon france kennedy airport wilkes-barre"
    everything = ids_of(lexicon, text)
    assert ids_of(lexicon, text, holdout=0.999) == ["-"] * len(everything)
    half = ids_of(lexicon, text, holdout=0.5)
    assert half == ids_of(lexicon, text, holdout=0.5)
    assert {i for i in half if i != "-"} <= set(everything)
    names = [name for name in TABLE["names"] if name != "to"]
    hidden = [n for n in names if ids_of(lexicon, n, 0.5) == ["-"] * len(tokenize(n))]
    shown = [n for n in names if n not in hidden]
    assert hidden and shown, (hidden, shown)


def test_frequency_ids_are_buckets_and_unknown_words_share_one(lexicon) -> None:
    assert lexicon.frequency_id("zzxq") == lexicon.frequency_id("Bravelport") == 1
    # Zipf 7.7 is bucket (7.7 - 1.5) / 0.5 = 12, id 2 + 12; Zipf 8.5 and up would be the last.
    assert lexicon.frequency_id("THE") == lexicon.frequency_id("the") == 14 < 1 + FREQUENCY_BUCKETS
    assert lexicon.frequency_id("stay") < lexicon.frequency_id("the")


def test_json_round_trip_gives_the_same_ids(lexicon) -> None:
    again = Lexicon.from_json(lexicon.to_json())
    text = "from LAX to New York City via Saint Louis"
    assert ids_of(again, text) == ids_of(lexicon, text)
    assert again.frequency_id("stay") == lexicon.frequency_id("stay")


def test_a_table_with_out_of_range_ids_is_refused(lexicon) -> None:
    raw = lexicon.to_json()
    with pytest.raises(ValueError, match="place kinds"):
        Lexicon.from_json({**raw, "places": {"x": 99}})


def test_a_name_never_matches_across_a_sentence_end(lexicon) -> None:
    assert ids_of(lexicon, "new york. city") == ["city/begin", "city/end", "-", "-"]
