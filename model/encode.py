"""Turning token lists into padded id tensors: words, characters and word shapes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from model.vocab import PAD_ID, Vocab

# Word shape ids (0 is padding): the casing signal survives even when the word itself is unknown.
SHAPES = ("<pad>", "lower", "title", "upper", "digit", "punct", "mixed")
_SHAPE_ID = {name: i for i, name in enumerate(SHAPES)}


def word_key(text: str) -> str:
    """The form a word is looked up under: lowercased, digits folded to 0."""
    return "".join("0" if c.isdigit() else c for c in text.lower())


def shape(text: str) -> int:
    """The shape id of a token's text."""
    if any(c.isdigit() for c in text):
        return _SHAPE_ID["digit"]
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return _SHAPE_ID["punct"]
    if all(c.islower() for c in letters):
        return _SHAPE_ID["lower"]
    if all(c.isupper() for c in letters):
        return _SHAPE_ID["upper"]
    if letters[0].isupper() and all(c.islower() for c in letters[1:]):
        return _SHAPE_ID["title"]
    return _SHAPE_ID["mixed"]


@dataclass(frozen=True, slots=True)
class Vocabs:
    """The three tables a model needs: word keys, characters and tags."""

    words: Vocab
    chars: Vocab
    tags: Vocab


@dataclass(frozen=True, slots=True)
class Batch:
    """Padded inputs for a batch of sentences; padding is id 0 everywhere."""

    word_ids: torch.Tensor  # (batch, seq_len)
    char_ids: torch.Tensor  # (batch, seq_len, word_len)
    shape_ids: torch.Tensor  # (batch, seq_len)
    mask: torch.Tensor  # (batch, seq_len) bool
    lengths: torch.Tensor  # (batch,) int64, on the CPU


class Encoder:
    """Encodes token lists for one model, remembering each distinct token's ids.

    Travel text repeats a small vocabulary, so after warm-up encoding is a dictionary lookup per
    token. The memory is bounded: past ``cache_size`` distinct tokens it starts afresh.

    Args:
        vocabs: the model's vocabularies.
        max_word_chars: characters kept per word.
        cache_size: most distinct tokens remembered (0: none).
    """

    def __init__(self, vocabs: Vocabs, max_word_chars: int, cache_size: int = 200_000) -> None:
        self.vocabs = vocabs
        self.max_word_chars = max_word_chars
        self.cache_size = cache_size
        self._cache: dict[str, tuple[int, int, list[int]]] = {}

    def _features(self, token: str) -> tuple[int, int, list[int]]:
        found = self._cache.get(token)
        if found is None:
            found = (
                self.vocabs.words.id(word_key(token)),
                shape(token),
                self.vocabs.chars.ids(token[: self.max_word_chars]),
            )
            if self.cache_size:
                if len(self._cache) >= self.cache_size:
                    self._cache = {}
                self._cache[token] = found
        return found

    def __call__(self, token_lists: Sequence[Sequence[str]]) -> Batch:
        """Encode token texts as a batch padded to the longest sentence (each must be non-empty)."""
        if not token_lists or any(len(tokens) == 0 for tokens in token_lists):
            raise ValueError("expected a non-empty list of non-empty token lists")
        seq_len = max(len(tokens) for tokens in token_lists)
        features = [[self._features(t) for t in tokens] for tokens in token_lists]
        word_len = max(len(chars) for sentence in features for _, _, chars in sentence)
        pad_chars = [PAD_ID] * word_len
        words, shapes, chars = [], [], []
        for sentence in features:
            pad = [PAD_ID] * (seq_len - len(sentence))
            words.append([w for w, _, _ in sentence] + pad)
            shapes.append([s for _, s, _ in sentence] + pad)
            rows = [c + [PAD_ID] * (word_len - len(c)) for _, _, c in sentence]
            chars.append(rows + [pad_chars] * (seq_len - len(sentence)))
        lengths = torch.tensor([len(tokens) for tokens in token_lists], dtype=torch.long)  # (B,)
        mask = torch.arange(seq_len)[None, :] < lengths[:, None]  # (B, T)
        return Batch(
            word_ids=torch.tensor(words, dtype=torch.long),  # (B, T)
            char_ids=torch.tensor(chars, dtype=torch.long),  # (B, T, C)
            shape_ids=torch.tensor(shapes, dtype=torch.long),  # (B, T)
            mask=mask,
            lengths=lengths,
        )
