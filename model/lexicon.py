"""What the network knows about words beyond its training sentences: how common each word is in
English, which words behave alike, and which token runs name a place.

Three per-token inputs, all looked up in tables saved with the model (``lexicon.json.gz``), so
serving needs neither ``wordfreq``, ``spacy-lookups-data`` nor the place table's builders:

- **frequency**: the word's Zipf frequency in English (``wordfreq``'s scale: 7 is "the", 5 is
  "stay" or "holiday", 3 is "stevenage"), in half-Zipf buckets. "stay" and "information" look
  like what they are even when the training sentences never had them.
- **word cluster** (optional, ``cluster_dim``): the word's Brown cluster (``spacy-lookups-data``'s
  English ``lexeme_cluster`` table, the one spaCy's ``Lexeme.cluster`` reads: 190k spellings
  clustered by the words around them in web text; each lower-cased word takes its most frequent
  spelling's, :func:`clusters_by_word`, 100k words): the cluster itself and its ancestors 4, 6 and
  10 branchings from the root, so a word the training sentences never had still shares a vector
  with the words it behaves like ("dine" sits with "stay", "Bali" with "Denver").
- **gazetteer**: whether the token begins, continues, ends or alone makes up the longest run of
  tokens that names a place, and the kind of place (city, airport, state, country, airport code).
  Matching is greedy left to right on the place table's normalized names ("st. louis" =
  "saint louis"). A 3-letter airport code counts in capitals, or in lower case when the word is
  not a common one ("lax" and "sfo" do, "the" and "can" do not).

Training hides a stable share of the names from the gazetteer (``holdout``), so the network also
learns to find places the table lacks from their context.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.spans import JOINERS

# Frequency ids: 0 padding, 1 a word not in the table, then one id per half Zipf from MIN_ZIPF.
MIN_ZIPF = 1.5
ZIPF_STEP = 0.5
FREQUENCY_BUCKETS = 14
NUM_FREQUENCY_IDS = 2 + FREQUENCY_BUCKETS
# Gazetteer ids: 0 padding, 1 no place, then (kind, position) pairs.
PLACE_KINDS = ("city", "airport", "state", "country", "code")
POSITIONS = ("begin", "inside", "end", "single")
NUM_GAZETTEER_IDS = 2 + len(PLACE_KINDS) * len(POSITIONS)
MAX_NAME_TOKENS = 6
# A lower-case 3-letter token is an airport code only if less common than this ("lax" 3.5).
MAX_CODE_ZIPF = 4.0
# A one-word name as common as this is a function word first ("to", "of", "can" are towns).
MAX_NAME_ZIPF = 6.0
# Cluster ids, one column per level: the cluster and its ancestors this many branchings from the
# root. Per column: 0 padding, 1 a word with no cluster, then one id per distinct value.
CLUSTER_PREFIXES = (4, 6, 10)
CLUSTER_COLUMNS = 1 + len(CLUSTER_PREFIXES)
NO_CLUSTER = (1,) * CLUSTER_COLUMNS
FIRST_CLUSTER_ID = 2


def normalize_token(text: str) -> str:
    """A token as place names are compared: ASCII, lower case, no punctuation, "st" = "saint"."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[.,()/\-'’]", "", text)
    return {"st": "saint", "ft": "fort", "mt": "mount"}.get(text, text)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Word frequency buckets, word clusters and place names, with the per-token ids the network
    reads.

    Args:
        frequencies: lower-cased word -> frequency bucket (0 .. FREQUENCY_BUCKETS - 1).
        places: normalized place name (tokens joined by spaces) -> index into PLACE_KINDS.
        codes: lower-cased 3-letter airport codes.
        clusters: lower-cased word -> its Brown cluster as spaCy stores it (``Lexeme.cluster``:
            the path from the root read from the lowest bit up), a positive int; empty in a
            lexicon saved before clusters.
    """

    frequencies: Mapping[str, int]
    places: Mapping[str, int]
    codes: frozenset[str]
    clusters: Mapping[str, int] = field(default_factory=dict)
    _prefixes: frozenset[str] = field(init=False, repr=False, compare=False)
    _normalized: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    # cluster -> its ids (one per column), and the number of ids of each column
    _cluster_rows: dict[int, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    cluster_sizes: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        prefixes = set()
        for name in self.places:
            if " " in name:  # most names are one word: no prefixes
                words = name.split(" ")
                prefixes.update(" ".join(words[:n]) for n in range(1, len(words)))
        object.__setattr__(self, "_prefixes", frozenset(prefixes))
        # Ids follow from the table alone (sorted values), so a saved lexicon gives the same ones.
        distinct = sorted(set(self.clusters.values()))
        whole = -1  # every bit: the cluster itself
        masks = [whole, *((1 << k) - 1 for k in CLUSTER_PREFIXES)]  # then its ancestors
        index = [
            {
                value: FIRST_CLUSTER_ID + i
                for i, value in enumerate(sorted({c & m for c in distinct}))
            }
            for m in masks
        ]
        rows = {
            c: tuple(ids[c & mask] for ids, mask in zip(index, masks, strict=True))
            for c in distinct
        }
        object.__setattr__(self, "_cluster_rows", rows)
        object.__setattr__(
            self, "cluster_sizes", tuple(FIRST_CLUSTER_ID + len(ids) for ids in index)
        )

    @classmethod
    def build(
        cls,
        place_table: Mapping[str, Any],
        words: Iterable[str],
        zipf: Callable[[str], float],
        clusters: Mapping[str, int] | None = None,
    ) -> Lexicon:
        """Tables from the place table (``model/places.json.gz``'s layout), a word list with its
        Zipf frequencies (``wordfreq.top_n_list`` and ``wordfreq.zipf_frequency``) and the
        words' Brown clusters by lower-cased word (:func:`clusters_by_word`)."""
        frequencies = {}
        for word in words:
            bucket = int((zipf(word) - MIN_ZIPF) / ZIPF_STEP)
            if bucket >= 0:
                frequencies[word] = min(bucket, FREQUENCY_BUCKETS - 1)
        kinds = {kind: i for i, kind in enumerate(PLACE_KINDS)}
        records = place_table["places"]
        places: dict[str, int] = {}
        named = [
            *place_table["names"].items(),
            *((k, [v]) for k, v in place_table["aliases"].items()),
        ]
        for name, ids in named:
            key = " ".join(filter(None, (normalize_token(w) for w in name.split())))
            kind = records[ids[0]].get("kind")
            if key and kind in kinds and len(key.split(" ")) <= MAX_NAME_TOKENS:
                places.setdefault(key, kinds[kind])
        codes = frozenset(code for code in place_table["codes"] if len(code) == 3)
        return cls(frequencies, places, codes, dict(clusters or {}))

    def to_json(self) -> dict[str, Any]:
        raw = {
            "frequencies": dict(self.frequencies),
            "places": dict(self.places),
            "codes": sorted(self.codes),
        }
        if self.clusters:  # none: the file stays as it was before clusters (and the version)
            raw["clusters"] = dict(self.clusters)
        return raw

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Lexicon:
        """Raises ValueError (or KeyError/TypeError) on a table that is not a lexicon's."""
        frequencies, places = dict(raw["frequencies"]), dict(raw["places"])
        codes = frozenset(raw["codes"])
        clusters = dict(raw.get("clusters", {}))  # none in a lexicon saved before clusters
        # Checked on the distinct values (a dozen), not on each of the 100k entries.
        buckets, kinds = set(frequencies.values()), set(places.values())
        if not all(type(v) is int and 0 <= v < FREQUENCY_BUCKETS for v in buckets):
            raise ValueError("lexicon frequencies must be buckets 0..13")
        if not all(type(v) is int and 0 <= v < len(PLACE_KINDS) for v in kinds):
            raise ValueError(f"lexicon place kinds must be 0..{len(PLACE_KINDS) - 1}")
        if not all(type(v) is int and v > 0 for v in set(clusters.values())):
            raise ValueError("lexicon clusters must be positive integers")
        return cls(frequencies, places, codes, clusters)

    def frequency_id(self, token: str) -> int:
        """1 for a word not in the table, else 2 + its bucket."""
        bucket = self.frequencies.get(token.lower())
        return 1 if bucket is None else 2 + bucket

    def cluster_ids(self, token: str) -> tuple[int, ...]:
        """The ids of the token's cluster and of its ancestors (see CLUSTER_PREFIXES); all 1 for a
        word with no cluster."""
        cluster = self.clusters.get(token.lower())
        return NO_CLUSTER if cluster is None else self._cluster_rows[cluster]

    def _normalize(self, token: str) -> str:
        key = self._normalized.get(token)
        if key is None:
            key = normalize_token(token)
            if len(self._normalized) >= 100_000:
                self._normalized.clear()
            self._normalized[token] = key
        return key

    def gazetteer_ids(self, tokens: Sequence[str], holdout: float = 0.0) -> list[int]:
        """One gazetteer id per token (see the module docstring).

        Args:
            tokens: the token texts of one sentence.
            holdout: the share of place names treated as unknown (training only), chosen by a
                stable hash of the name, so the same names are hidden in every epoch.
        """
        keys = [self._normalize(t) for t in tokens]
        ids = [1] * len(tokens)
        i = 0
        while i < len(tokens):
            best: tuple[int, int] | None = None  # (end, kind)
            name = ""
            for j in range(i, min(i + MAX_NAME_TOKENS * 2, len(tokens))):
                if not keys[j]:
                    if j == i or tokens[j] not in JOINERS:
                        break  # a name holds no sentence punctuation, bracket or emoji
                    continue  # a comma or hyphen inside a name ("Wilkes-Barre")
                name = f"{name} {keys[j]}" if name else keys[j]
                kind = self.places.get(name)
                if (
                    kind is not None
                    and not (j == i and self._common(keys[i], MAX_NAME_ZIPF))  # one common word
                    and not _hidden(name, holdout)
                ):
                    best = (j + 1, kind)
                if name not in self._prefixes:
                    break
            if best is None and self._is_code(tokens[i], keys[i]) and not _hidden(keys[i], holdout):
                best = (i + 1, PLACE_KINDS.index("code"))
            if best is None:
                i += 1
                continue
            end, kind = best
            base = 2 + kind * len(POSITIONS)
            if end - i == 1:
                ids[i] = base + 3
            else:
                ids[i], ids[end - 1] = base, base + 2
                for k in range(i + 1, end - 1):
                    ids[k] = base + 1
            i = end
        return ids

    def _is_code(self, token: str, key: str) -> bool:
        if len(token) != 3 or key not in self.codes:
            return False
        return token.isupper() or not self._common(key, MAX_CODE_ZIPF)

    def _common(self, word: str, zipf: float) -> bool:
        return self.frequencies.get(word, -1) >= int((zipf - MIN_ZIPF) / ZIPF_STEP)


def clusters_by_word(clusters: Mapping[str, int], log_probs: Mapping[str, float]) -> dict[str, int]:
    """One cluster per lower-cased word: that of its most frequent spelling that has one.

    Brown clusters are of spellings, and a rare spelling clusters with what it looks like, not
    with what it means: "paris" and "PARIS" sit with "THE" and "NOT", "Paris" with "London" and
    "Tokyo". The tagger reads text in any case (lower-case transcripts, ALL CAPS chat), so a word
    gets the cluster of the way it is usually written.

    Args:
        clusters: spelling -> cluster as spaCy stores it (0: none), ``lexeme_cluster``.
        log_probs: spelling -> log probability, ``lexeme_prob`` (a spelling it lacks counts as
            the rarest).
    """
    best: dict[str, tuple[float, int]] = {}
    for spelling, cluster in clusters.items():
        if cluster <= 0:
            continue
        word, prob = spelling.lower(), log_probs.get(spelling, -math.inf)
        if word not in best or prob > best[word][0]:
            best[word] = (prob, cluster)
    return {word: cluster for word, (_, cluster) in best.items()}


def _hidden(name: str, share: float) -> bool:
    if share <= 0.0:
        return False
    digest = hashlib.blake2b(name.encode(), digest_size=8, person=b"gaz-hold").digest()
    return int.from_bytes(digest) / 2**64 < share
