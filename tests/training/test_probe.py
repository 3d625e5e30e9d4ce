"""The long-memory probe's sentences: the cue exactly k neutral words from the city, on the
side asked, and the gold span on the city."""

import random

import pytest

from model.tokenize import tokenize
from training.probe import CUES, FILLER, MAX_K, scoring_grid, sentence

CUE_WORDS = {
    w for cues in CUES.values() for pair in cues for phrase in pair for w in phrase.split()
}


@pytest.mark.parametrize("side", ["before", "after"])
@pytest.mark.parametrize("k", [1, 7, MAX_K])
def test_the_cue_stands_k_filler_words_from_the_city(side: str, k: int) -> None:
    rng = random.Random(k)
    for label in ("departure", "destination"):
        s = sentence(rng, k, side, label)
        words = [t.text for t in tokenize(s.example.text)]
        assert words == s.example.text.split()  # one token per word: positions are exact
        [gold] = s.example.spans
        assert gold.label == label
        assert s.example.text[gold.start : gold.end] == words[s.city_at]
        begin, end = s.filler
        assert end - begin == k
        assert " ".join(words[begin:end]) in " ".join(FILLER)  # a window of the passage
        cue = words[end:] if side == "after" else words[:begin]
        assert cue and set(cue) <= CUE_WORDS | {"there"}
        assert not set(words[begin:end]) & CUE_WORDS  # the filler carries no role
        assert s.city_at == (end if side == "before" else begin - 1)


def test_the_scoring_grid_has_every_k_and_side_with_both_labels() -> None:
    grid = scoring_grid(0, per_k=2)
    assert len(grid) == MAX_K * 2 * 2
    for k in range(1, MAX_K + 1):
        for side in ("before", "after"):
            labels = sorted(s.label for s in grid if s.k == k and s.side == side)
            assert labels == ["departure", "destination"]
