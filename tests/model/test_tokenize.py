from hypothesis import given
from hypothesis import strategies as st

from model.tokenize import TOKENIZERS, Token, split_whitespace, tokenize


@given(st.text())
def test_tokens_index_the_original_text(text: str) -> None:
    for token in tokenize(text):
        assert text[token.start : token.end] == token.text
        assert token.text.strip()


def test_whitespace_is_never_a_token() -> None:
    assert tokenize("   ") == []
    assert [t.text for t in tokenize("  boston   to denver ")] == ["boston", "to", "denver"]


def test_place_abbreviations_keep_their_period_in_every_casing() -> None:
    assert [t.text for t in tokenize("st. louis at 5pm")] == ["st.", "louis", "at", "5", "pm"]
    assert [t.text for t in tokenize("to d.c. now")] == ["to", "d.c.", "now"]
    assert [t.text for t in tokenize("FT. MYERS")] == ["FT.", "MYERS"]


def test_sentence_punctuation_without_a_space_still_ends_the_word() -> None:
    assert [t.text for t in tokenize("to miami.i need")] == ["to", "miami", ".", "i", "need"]
    assert [t.text for t in tokenize("Denver!Could")] == ["Denver", "!", "Could"]
    assert [t.text for t in tokenize("a.m. or 3.5")] == ["a.m.", "or", "3.5"]


def test_period_after_a_final_abbreviation_is_its_own_token() -> None:
    assert tokenize("on 9 Oct.")[-2:] == [Token("Oct", 5, 8), Token(".", 8, 9)]


def test_non_str_input_is_a_type_error() -> None:
    import pytest

    with pytest.raises(TypeError, match="expected str, got int"):
        tokenize(3)  # type: ignore[arg-type]


def test_a_number_then_a_period_then_a_capital_ends_the_sentence() -> None:
    assert [t.text for t in tokenize("june 5.Then what")] == ["june", "5", ".", "Then", "what"]


def _prefix_suffix_characters() -> str:
    """The single characters spaCy's English prefix and suffix rules strip off a word."""
    from spacy.lang import char_classes

    rules = [
        *char_classes.LIST_PUNCT,
        *char_classes.LIST_QUOTES,
        *char_classes.LIST_CURRENCY,
        *char_classes.LIST_ICONS,
        *char_classes.LIST_ELLIPSES,
    ]
    found = {c for rule in rules for c in rule.replace("\\", "") if not c.isalnum() and c != " "}
    return "".join(sorted(found | set("%°'s-…😀🇫🇷")))


AFFIXES = _prefix_suffix_characters()


@given(st.text(alphabet=st.sampled_from([*AFFIXES, "a", "7", " ", "\n"]), max_size=2500))
def test_texts_of_prefix_and_suffix_characters_keep_their_offsets(text: str) -> None:
    tokens = tokenize(text)
    for token in tokens:
        assert text[token.start : token.end] == token.text and token.text.strip()
    assert all(a.end <= b.start for a, b in zip(tokens, tokens[1:], strict=False))
    # every character that is not whitespace is in exactly one token
    covered = "".join(t.text for t in tokens)
    assert covered == "".join(text.split())


def test_spacy_never_sees_a_long_run_of_punctuation_at_once(monkeypatch) -> None:
    """spaCy is quadratic in a whitespace-free run (2,000 characters of '.,!?;:' took 0.25-0.55
    s); the tokenizer hands it long runs in pieces, so tokenizing is linear in the text."""
    import re

    from model import tokenize as module

    real, seen = module._tokenizer(), []

    def spy():
        def call(text):
            seen.append(max((len(r) for r in re.findall(r"\S+", text)), default=0))
            return real(text)

        return call

    monkeypatch.setattr(module, "_tokenizer", spy)
    text = ".,!?;:" * 334 + " then 😀😀😀 " + "%" * 2000
    tokens = tokenize(text)
    assert max(seen) <= 2 * module.PIECE
    assert "".join(t.text for t in tokens) == "".join(text.split())
    assert [t.text for t in tokens[:6]] == [".", ",", "!", "?", ";", ":"]


def test_normal_text_gets_exactly_spacys_tokens() -> None:
    """Every line of the hand-written and conversation sets: the same tokens as one spaCy call."""
    from pathlib import Path

    from model import tokenize as module

    data = Path(__file__).resolve().parents[2] / "data"
    lines = [
        line
        for name in ("dev.txt", "test.txt", "conv_dev.txt", "conv_test.txt")
        for line in (data / name).read_text(encoding="utf-8").splitlines()
    ]
    assert len(lines) > 1000
    for line in lines:
        whole = [(start, start + n) for start, n in module._rows(line, 0)]
        pieces = [(t.start, t.end) for t in tokenize(line)]
        if pieces != whole:  # only the split-off period of a final abbreviation differs
            assert pieces[:-2] == whole[:-1] and pieces[-1][1] == whole[-1][1], line


@given(st.lists(st.text(st.characters(blacklist_categories=["Zs", "Cc"]), min_size=1), max_size=8))
def test_whitespace_tokens_of_joined_words_are_those_words(words: list[str]) -> None:
    words = [w for w in words if w.split() == [w]]
    text = " ".join(words)
    tokens = split_whitespace(text)
    assert [t.text for t in tokens] == words
    assert all(text[t.start : t.end] == t.text for t in tokens)


def test_atis_tokens_spacy_would_cut_stay_whole_at_whitespace() -> None:
    text = "can't fly from d/fw at 6pm to washington's airport"
    assert [t.text for t in tokenize(text)][:2] == ["ca", "n't"]  # spaCy cuts these
    assert [t.text for t in split_whitespace(text)] == text.split()
    assert TOKENIZERS["whitespace"] is split_whitespace and TOKENIZERS["spacy"] is tokenize
