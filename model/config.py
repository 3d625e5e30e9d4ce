"""TaggerConfig: every hyperparameter of the network; with the vocabularies it rebuilds it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Cell = Literal["lstm", "peephole", "coupled", "gru", "rnn"]
CELLS: tuple[Cell, ...] = ("lstm", "peephole", "coupled", "gru", "rnn")


class TaggerConfig(BaseModel):
    """Sizes and switches of :class:`model.tagger.BiLSTMTagger`.

    Sizes that follow from the data (number of words, characters and tags) live in the vocabularies.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    word_dim: int = Field(64, ge=1, description="word embedding size (lowercased words)")
    char_dim: int = Field(24, ge=0, description="character embedding size; 0 turns characters off")
    char_filters: int = Field(
        48, ge=1, description="character CNN filters (the size of a word's character vector)"
    )
    char_kernel: int = Field(3, ge=1, description="character CNN window")
    shape_dim: int = Field(8, ge=0, description="word shape embedding size; 0 turns it off")
    frequency_dim: int = Field(
        8, ge=0, description="word frequency (model.lexicon) embedding size; 0 turns it off"
    )
    cluster_dim: int = Field(
        0,
        ge=0,
        description="word cluster (model.lexicon) embedding size, per level of the cluster tree; "
        "0 (the default: it did not pay on the dev sets, README) turns it off",
    )
    gazetteer_dim: int = Field(
        16, ge=0, description="place-name match (model.lexicon) embedding size; 0 turns it off"
    )
    hidden_dim: int = Field(128, ge=1, description="recurrent hidden size per direction")
    layers: int = Field(1, ge=1, le=4)
    cell: Cell = Field(
        "lstm",
        description="the recurrent cell: lstm, gru, rnn (torch's fused modules) or peephole, "
        "coupled (model/cells.py)",
    )
    bidirectional: bool = Field(
        True, description="read each sentence both ways (False: left to right)"
    )
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    word_dropout: float = Field(
        0.15, ge=0.0, lt=1.0, description="share of known words replaced by <unk> in training"
    )
    use_crf: bool = True
    max_word_chars: int = Field(
        20, ge=1, le=100, description="characters kept per word for the char CNN"
    )
    context_tokens: int = Field(
        32,
        ge=0,
        le=512,
        description="tokens of dialogue context (the last turns before the text) the network "
        "reads first; 0 ignores context (model/context.py)",
    )
    members: int = Field(
        1,
        ge=1,
        le=8,
        description="networks side by side, each with every input and layer above, whose tag "
        "scores are averaged under one CRF: an ensemble (`slot-tagger train --members K` trains "
        "each alone, then merges them: model/ensemble.py); 1, the default, is one network",
    )
    tokenizer: Literal["spacy", "whitespace"] = Field(
        "spacy",
        description="how a text is cut into tokens, in training and serving alike: spaCy's "
        "English rules, or at whitespace only (a model trained on a pre-tokenized BIO or ATIS "
        "file, whose tokens it keeps; model/tokenize.py)",
    )

    @property
    def uses_lexicon(self) -> bool:
        """Whether the network reads the lexicon's tables (model.lexicon)."""
        return bool(self.frequency_dim or self.cluster_dim or self.gazetteer_dim)
