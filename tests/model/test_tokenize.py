from hypothesis import given
from hypothesis import strategies as st

from model.tokenize import Token, tokenize


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
