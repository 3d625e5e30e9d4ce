"""Turning token lists into padded id arrays: words, characters, word shapes and the lexicon's
frequency, word cluster and gazetteer ids. NumPy only: the tagger takes them as torch tensors
(``torch.as_tensor`` shares their memory), ONNX Runtime as they are."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from model.lexicon import CLUSTER_COLUMNS, Lexicon
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


# (word ids (N,), char ids (N, C), shape ids (N,), frequency ids (N,), cluster ids (N, L))
# -> token inputs (N, I)
TokenInputs = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True, slots=True)
class Vocabs:
    """The tables a model needs: word keys, characters and tags, and (for models with frequency,
    cluster or gazetteer inputs) the lexicon."""

    words: Vocab
    chars: Vocab
    tags: Vocab
    lexicon: Lexicon | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """Padded inputs for a batch of sentences, NumPy arrays; padding is id 0 everywhere."""

    word_ids: np.ndarray  # (batch, seq_len) int64
    char_ids: np.ndarray  # (batch, seq_len, word_len) int64
    shape_ids: np.ndarray  # (batch, seq_len) int64
    frequency_ids: np.ndarray  # (batch, seq_len) int64; all padding without a lexicon
    cluster_ids: np.ndarray  # (batch, seq_len, CLUSTER_COLUMNS) int64; likewise
    gazetteer_ids: np.ndarray  # (batch, seq_len) int64; all padding without a lexicon
    mask: np.ndarray  # (batch, seq_len) bool
    lengths: np.ndarray  # (batch,) int64
    # Each token's network input, when the encoder was given a way to compute them (see Encoder).
    token_inputs: np.ndarray | None = None  # (batch, seq_len, input_dim) float32


class Encoder:
    """Encodes token lists for one model, remembering each distinct token's ids.

    Travel text repeats a small vocabulary, so after warm-up encoding is a dictionary lookup per
    token: each token seen gets a row in three tables (word id, shape id, padded character ids),
    and a batch is those tables indexed by a (batch, seq_len) matrix of rows, one NumPy call
    each. The memory is bounded: past ``cache_size`` distinct tokens the tables start afresh.

    Given ``token_inputs``, the encoder also keeps each token's network input (its word,
    character, shape, frequency and cluster vectors, which depend on the token alone at inference),
    computing it once per distinct token, so the character CNN runs once per new word instead of
    once per occurrence.

    Args:
        vocabs: the model's vocabularies.
        max_word_chars: characters kept per word.
        cache_size: most distinct tokens remembered between calls (0: none).
        token_inputs: maps (word ids (N,), char ids (N, C), shape ids (N,), frequency ids (N,),
            cluster ids (N, L)) to inputs (N, input_dim), e.g. ``OnnxNetwork.token_inputs``
            (model/runtime.py).
        place_holdout: share of place names the gazetteer ids pretend not to know (training).
    """

    def __init__(
        self,
        vocabs: Vocabs,
        max_word_chars: int,
        cache_size: int = 50_000,
        token_inputs: TokenInputs | None = None,
        place_holdout: float = 0.0,
    ) -> None:
        self.vocabs = vocabs
        self.place_holdout = place_holdout
        self.max_word_chars = max_word_chars
        self.cache_size = cache_size
        self.token_inputs = token_inputs
        self._lock = threading.Lock()
        self._reset(capacity=1024)

    def _reset(self, capacity: int) -> None:
        assert PAD_ID == 0, "the tables are zero-filled: padding must be id 0"
        self._rows: dict[str, int] = {}  # token -> its row; row 0 is padding (all PAD_ID)
        self._words = np.zeros(capacity, dtype=np.int64)  # (N,)
        self._shapes = np.zeros(capacity, dtype=np.int64)  # (N,)
        self._frequencies = np.zeros(capacity, dtype=np.int64)  # (N,)
        self._clusters = np.zeros((capacity, CLUSTER_COLUMNS), dtype=np.int64)  # (N, L)
        self._chars = np.zeros((capacity, self.max_word_chars), dtype=np.int64)  # (N, C)
        self._char_counts = np.zeros(capacity, dtype=np.int64)  # (N,)
        self._input_table: np.ndarray | None = None  # (N, input_dim), filled up to the row below
        self._rows_with_inputs = 0

    def _row(self, token: str) -> int:
        row = self._rows.get(token)
        if row is None:
            row = len(self._rows) + 1
            if row == len(self._words):
                self._grow()
            chars = self.vocabs.chars.ids(token[: self.max_word_chars])
            self._words[row] = self.vocabs.words.id(word_key(token))
            self._shapes[row] = shape(token)
            if (lexicon := self.vocabs.lexicon) is not None:
                self._frequencies[row] = lexicon.frequency_id(token)
                if lexicon.clusters:  # else no network reads them: padding ids
                    self._clusters[row] = lexicon.cluster_ids(token)
            self._chars[row, : len(chars)] = chars
            self._char_counts[row] = len(chars)
            self._rows[token] = row
        return row

    def _grow(self) -> None:
        size = 2 * len(self._words)
        self._words = np.resize(self._words, size)
        self._shapes = np.resize(self._shapes, size)
        self._frequencies = np.resize(self._frequencies, size)
        self._char_counts = np.resize(self._char_counts, size)
        self._clusters = _grown(self._clusters, size)
        self._chars = _grown(self._chars, size)
        if self._input_table is not None:
            self._input_table = _grown(self._input_table, size)

    def _token_inputs_of(self, rows: np.ndarray) -> np.ndarray:
        """The network inputs of the rows (B, T), computing those of rows added since last time."""
        assert self.token_inputs is not None
        first, last = self._rows_with_inputs + 1, len(self._rows)
        if last >= first:
            new = np.arange(first, last + 1)  # (N,)
            word_len = max(int(self._char_counts[new].max()), 1)
            inputs = self.token_inputs(
                self._words[new],
                self._chars[new, :word_len],
                self._shapes[new],
                self._frequencies[new],
                self._clusters[new],
            )  # (N, I)
            if self._input_table is None:
                shape = (len(self._words), inputs.shape[1])
                self._input_table = np.zeros(shape, dtype=np.float32)
            self._input_table[new] = inputs
            self._rows_with_inputs = last
        assert self._input_table is not None
        return self._input_table[rows]  # (B, T, I)

    def __call__(self, token_lists: Sequence[Sequence[str]]) -> Batch:
        """Encode token texts as a batch padded to the longest sentence (each must be non-empty)."""
        if not token_lists or any(len(tokens) == 0 for tokens in token_lists):
            raise ValueError("expected a non-empty list of non-empty token lists")
        with self._lock:  # a reset or new row between two calls' lookups would mix them up
            return self._encode(token_lists)

    def _encode(self, token_lists: Sequence[Sequence[str]]) -> Batch:
        if len(self._rows) > self.cache_size:  # between calls only: rows below are in use
            self._reset(capacity=len(self._words))
        seq_len = max(len(tokens) for tokens in token_lists)
        row = self._row
        rows = np.array(
            [[row(t) for t in tokens] + [0] * (seq_len - len(tokens)) for tokens in token_lists],
            dtype=np.intp,
        )  # (B, T)
        word_len = max(int(self._char_counts[rows].max()), 1)
        lengths = np.array([len(tokens) for tokens in token_lists], dtype=np.int64)  # (B,)
        gazetteer = np.zeros(rows.shape, dtype=np.int64)  # (B, T)
        if (lexicon := self.vocabs.lexicon) is not None:
            for b, tokens in enumerate(token_lists):
                gazetteer[b, : len(tokens)] = lexicon.gazetteer_ids(tokens, self.place_holdout)
        return Batch(  # NumPy: a third of the cost of torch ops here
            word_ids=self._words[rows],  # (B, T)
            char_ids=self._chars[:, :word_len][rows],  # (B, T, C)
            shape_ids=self._shapes[rows],  # (B, T)
            frequency_ids=self._frequencies[rows],  # (B, T)
            cluster_ids=self._clusters[rows],  # (B, T, L)
            gazetteer_ids=gazetteer,  # (B, T)
            mask=np.arange(seq_len)[None, :] < lengths[:, None],  # (B, T)
            lengths=lengths,  # (B,)
            token_inputs=self._token_inputs_of(rows) if self.token_inputs is not None else None,
        )


def _grown(table: np.ndarray, rows: int) -> np.ndarray:
    """A 2-D table with more rows: the old ones first, zeros after."""
    grown = np.zeros((rows, table.shape[1]), dtype=table.dtype)
    grown[: len(table)] = table
    return grown
