"""The lexicon: frequency buckets, longest place matches, the training holdout, JSON round trip."""

import pytest

from model.lexicon import (
    CLUSTER_PREFIXES,
    FREQUENCY_BUCKETS,
    NO_CLUSTER,
    PLACE_KINDS,
    POSITIONS,
    Lexicon,
    clusters_by_word,
)
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
# Brown clusters of spellings as spaCy stores them: the path from the root read from the lowest
# bit up (spacy-lookups-data's real values for these words; 0 is a spelling with no cluster), and
# how common each spelling is (log probabilities).
CLUSTERS = {
    "stay": 0b10110001010,
    "Stay": 0b10010111110,
    "dine": 0b10110001010,
    "Denver": 0b10100110,
    "Bali": 0b10100110,
    "Boston": 0b11010100110,
    "Monday": 0b1101101010,
    "paris": 0b111011110,  # with "THE" and "NOT"
    "Paris": 0b1010100110,  # with "London" and "Tokyo"
    "PARIS": 0b111011110,
    "lol": 0,
}
LOG_PROBS = {"stay": -9.0, "Stay": -11.2, "paris": -14.3, "Paris": -11.8, "PARIS": -17.0}


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.build(TABLE, ZIPF, ZIPF.__getitem__, clusters_by_word(CLUSTERS, LOG_PROBS))


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


def test_words_of_one_cluster_share_every_cluster_id_in_any_case(lexicon) -> None:
    assert lexicon.cluster_ids("dine") == lexicon.cluster_ids("stay") == lexicon.cluster_ids("STAY")
    assert lexicon.cluster_ids("denver") == lexicon.cluster_ids("BALI")
    assert len(lexicon.cluster_ids("stay")) == 1 + len(CLUSTER_PREFIXES)


def test_a_word_takes_the_cluster_of_its_most_frequent_spelling(lexicon) -> None:
    # "Paris" is how the word is written: lower-case "paris" gets its cluster, not the one of
    # the rare spelling "paris"; "stay" is written in lower case, so "Stay" and "STAY" get that.
    assert lexicon.cluster_ids("paris") == lexicon.cluster_ids("PARIS")
    assert lexicon.clusters["paris"] == CLUSTERS["Paris"]
    assert lexicon.clusters["stay"] == CLUSTERS["stay"]
    # a spelling without a probability counts as the rarest, and 0 is no cluster at all
    assert clusters_by_word({"Zzx": 5, "zzx": 7, "qq": 0}, {"zzx": -20.0}) == {"zzx": 7}


def test_clusters_with_a_common_ancestor_share_its_ids_only(lexicon) -> None:
    # Denver's and Boston's paths agree on their first 9 branchings and part at the 10th.
    denver, boston = lexicon.cluster_ids("Denver"), lexicon.cluster_ids("Boston")
    shared = [a == b for a, b in zip(denver, boston, strict=True)]
    assert shared == [False, *(k < 10 for k in CLUSTER_PREFIXES)]
    monday = lexicon.cluster_ids("Monday")  # "0101011011": another branch from the second on
    assert [a == b for a, b in zip(denver, monday, strict=True)] == [False] * len(monday)


def test_a_word_without_a_cluster_gets_the_no_cluster_ids(lexicon) -> None:
    assert lexicon.cluster_ids("lol") == lexicon.cluster_ids("zzxq") == NO_CLUSTER
    assert all(i >= 2 for i in lexicon.cluster_ids("stay"))  # 0 padding, 1 no cluster
    assert all(
        i < size for i, size in zip(lexicon.cluster_ids("stay"), lexicon.cluster_sizes, strict=True)
    )


def test_json_round_trip_gives_the_same_ids(lexicon) -> None:
    again = Lexicon.from_json(lexicon.to_json())
    text = "from LAX to New York City via Saint Louis"
    assert ids_of(again, text) == ids_of(lexicon, text)
    assert again.frequency_id("stay") == lexicon.frequency_id("stay")
    words = ["stay", "Denver", "boston", "Monday", "lol"]
    assert [again.cluster_ids(w) for w in words] == [lexicon.cluster_ids(w) for w in words]
    assert again.cluster_sizes == lexicon.cluster_sizes


def test_a_lexicon_saved_before_clusters_loads_without_them(lexicon) -> None:
    raw = lexicon.to_json()
    del raw["clusters"]
    old = Lexicon.from_json(raw)
    assert old.cluster_ids("stay") == NO_CLUSTER
    assert old.frequency_id("stay") == lexicon.frequency_id("stay")


def test_a_table_with_out_of_range_ids_is_refused(lexicon) -> None:
    raw = lexicon.to_json()
    with pytest.raises(ValueError, match="place kinds"):
        Lexicon.from_json({**raw, "places": {"x": 99}})
    with pytest.raises(ValueError, match="clusters must be positive"):
        Lexicon.from_json({**raw, "clusters": {"x": -3}})


def test_a_name_never_matches_across_a_sentence_end(lexicon) -> None:
    assert ids_of(lexicon, "new york. city") == ["city/begin", "city/end", "-", "-"]
