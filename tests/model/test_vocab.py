import pytest

from model.vocab import PAD, UNK, UNK_ID, Vocab


def test_build_orders_by_frequency_then_text_after_the_specials() -> None:
    vocab = Vocab.build({"b": 2, "a": 2, "c": 5, "rare": 1}, min_count=2)
    assert vocab.items == (PAD, UNK, "c", "a", "b")
    assert vocab.id("rare") == UNK_ID


def test_json_round_trip_is_equal() -> None:
    vocab = Vocab(["x", "y"])
    assert Vocab.from_json(vocab.to_json()) == vocab


def test_tag_vocab_has_no_specials_and_refuses_unknown_tags() -> None:
    tags = Vocab(["O", "B-date", "I-date"], specials=False)
    assert tags.id("O") == 0
    with pytest.raises(KeyError):
        tags.id("B-nope")
