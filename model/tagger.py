"""The network: each token's inputs (word, characters, shape, frequency, word cluster) and
the gazetteer ids into a recurrent layer (a BiLSTM by default; the cell is the config's), its
emissions into a CRF.

This file knows nothing of training loops, files or HTTP.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from model.cells import OWN_CELLS, CellRNN
from model.config import TaggerConfig
from model.crf import CRF, allowed_transitions
from model.encode import SHAPES, Batch, Vocabs
from model.lexicon import CLUSTER_COLUMNS, NUM_FREQUENCY_IDS, NUM_GAZETTEER_IDS
from model.vocab import PAD_ID, UNK_ID


class CharEncoder(nn.Module):
    """A character CNN with max-pooling: one vector per word, so unseen words still get one."""

    def __init__(self, num_chars: int, char_dim: int, filters: int, kernel: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_chars, char_dim, padding_idx=PAD_ID)
        self.conv = nn.Conv1d(char_dim, filters, kernel, padding=kernel // 2)
        self.filters = filters

    def forward(self, char_ids: torch.Tensor) -> torch.Tensor:
        """(batch, seq_len, word_len) -> (batch, seq_len, filters)."""
        batch, seq_len, word_len = char_ids.shape
        flat = char_ids.reshape(batch * seq_len, word_len)  # (B*T, C)
        x = self.embedding(flat).transpose(1, 2)  # (B*T, char_dim, C)
        x = torch.relu(self.conv(x))  # (B*T, filters, C')
        x = x[:, :, :word_len].masked_fill((flat == PAD_ID)[:, None, :], 0.0)  # (B*T, filters, C)
        return x.max(dim=2).values.reshape(batch, seq_len, self.filters)  # (B, T, filters)


class BiLSTMTagger(nn.Module):
    """A BiLSTM-CRF sequence tagger.

    With ``config.members`` K > 1 it is an ensemble: K networks (``members``, each a tagger of
    one network without a CRF of its own) read the same tokens side by side, and their tag scores
    are averaged under one CRF (model/ensemble.py makes one from K trained taggers).

    Args:
        config: the hyperparameters.
        vocabs: word, character and tag vocabularies (they fix the embedding and output sizes).
        crf: give it a CRF (an ensemble's members have none: the ensemble has one for all).
    """

    def __init__(self, config: TaggerConfig, vocabs: Vocabs, *, crf: bool = True) -> None:
        super().__init__()
        self.config = config
        self.vocabs = vocabs
        num_tags = len(vocabs.tags)
        self.members: nn.ModuleList | None = None
        if config.members > 1:
            one = config.model_copy(update={"members": 1})
            networks = [BiLSTMTagger(one, vocabs, crf=False) for _ in range(config.members)]
            self.members = nn.ModuleList(networks)
            self.member_input_dim = networks[0].input_dim  # each member's part of token_inputs
            self.dropout = nn.Dropout(config.dropout)
            self._add_crf(config, vocabs)
            return
        self.word_embedding = nn.Embedding(len(vocabs.words), config.word_dim, padding_idx=PAD_ID)
        input_dim = config.word_dim
        self.char_encoder: CharEncoder | None = None
        if config.char_dim > 0:
            self.char_encoder = CharEncoder(
                len(vocabs.chars), config.char_dim, config.char_filters, config.char_kernel
            )
            input_dim += config.char_filters
        self.shape_embedding: nn.Embedding | None = None
        if config.shape_dim > 0:
            self.shape_embedding = nn.Embedding(len(SHAPES), config.shape_dim, padding_idx=PAD_ID)
            input_dim += config.shape_dim
        if config.uses_lexicon and vocabs.lexicon is None:
            raise ValueError(
                "frequency_dim, cluster_dim and gazetteer_dim need vocabularies with a lexicon"
            )
        self.frequency_embedding: nn.Embedding | None = None
        if config.frequency_dim > 0:
            self.frequency_embedding = nn.Embedding(
                NUM_FREQUENCY_IDS, config.frequency_dim, padding_idx=PAD_ID
            )
            input_dim += config.frequency_dim
        self.cluster_embeddings: nn.ModuleList | None = None
        if config.cluster_dim > 0:
            assert vocabs.lexicon is not None
            if not vocabs.lexicon.clusters:
                raise ValueError("cluster_dim needs a lexicon with word clusters")
            # One table per level of the cluster tree, zero at first: the rows of clusters no
            # training word belongs to stay zero, adding nothing for the words that have them.
            self.cluster_embeddings = nn.ModuleList(
                nn.Embedding(size, config.cluster_dim, padding_idx=PAD_ID)
                for size in vocabs.lexicon.cluster_sizes
            )
            for table in self.cluster_embeddings:
                nn.init.zeros_(table.weight)
            input_dim += CLUSTER_COLUMNS * config.cluster_dim
        self.gazetteer_embedding: nn.Embedding | None = None
        if config.gazetteer_dim > 0:
            # Looked up per sentence (a match spans tokens), so it joins after the token inputs.
            self.gazetteer_embedding = nn.Embedding(
                NUM_GAZETTEER_IDS, config.gazetteer_dim, padding_idx=PAD_ID
            )
        self.input_dim = input_dim  # what token_inputs gives per token
        rnn_input_dim = input_dim + config.gazetteer_dim
        between_layers = config.dropout if config.layers > 1 else 0.0
        self.rnn: nn.Module
        if config.cell in OWN_CELLS:
            self.rnn = CellRNN(
                config.cell,
                rnn_input_dim,
                config.hidden_dim,
                config.layers,
                config.bidirectional,
                between_layers,
            )
        else:
            fused = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[config.cell]
            self.rnn = fused(
                rnn_input_dim,
                config.hidden_dim,
                num_layers=config.layers,
                bidirectional=config.bidirectional,
                batch_first=True,
                dropout=between_layers,
            )
        self.dropout = nn.Dropout(config.dropout)
        directions = 2 if config.bidirectional else 1
        self.output = nn.Linear(directions * config.hidden_dim, num_tags)
        if crf:
            self._add_crf(config, vocabs)

    def _add_crf(self, config: TaggerConfig, vocabs: Vocabs) -> None:
        allowed, allowed_start = allowed_transitions(vocabs.tags.items)
        self.crf = CRF(len(vocabs.tags), allowed, allowed_start)
        if not config.use_crf:
            # Without a learned CRF the transition scores stay zero: decoding is then the best
            # per-token path that is still well-formed BIO (constrained decoding).
            self.crf.requires_grad_(False)

    def token_inputs(
        self,
        word_ids: torch.Tensor,
        char_ids: torch.Tensor,
        shape_ids: torch.Tensor,
        frequency_ids: torch.Tensor,
        cluster_ids: torch.Tensor,
    ) -> torch.Tensor:
        """What each token brings on its own: (B, T), (B, T, C), (B, T), (B, T), (B, T, L) ->
        (B, T, I); an ensemble's members' inputs side by side, member after member."""
        if self.members is not None:
            return torch.cat(
                [
                    m.token_inputs(word_ids, char_ids, shape_ids, frequency_ids, cluster_ids)
                    for m in self.members
                ],
                dim=2,
            )  # (B, T, K * I)
        parts = [self.word_embedding(word_ids)]  # [(B, T, word_dim)]
        if self.char_encoder is not None:
            parts.append(self.char_encoder(char_ids))  # (B, T, filters)
        if self.shape_embedding is not None:
            parts.append(self.shape_embedding(shape_ids))  # (B, T, shape_dim)
        if self.frequency_embedding is not None:
            parts.append(self.frequency_embedding(frequency_ids))  # (B, T, frequency_dim)
        if self.cluster_embeddings is not None:
            for level, table in enumerate(self.cluster_embeddings):
                parts.append(table(cluster_ids[:, :, level]))  # (B, T, cluster_dim)
        return torch.cat(parts, dim=2)  # (B, T, input_dim)

    def contextual(
        self, x: torch.Tensor, lengths: torch.Tensor, gazetteer_ids: torch.Tensor
    ) -> torch.Tensor:
        """Recurrent states then tag scores: (B, T, I), (B,), (B, T) -> (B, T, num_tags); an
        ensemble's, the mean of its members' scores, each on its own part of ``x``."""
        if self.members is not None:
            parts = x.split(self.member_input_dim, dim=2)  # one (B, T, I / members) each
            scores = [
                m.contextual(p, lengths, gazetteer_ids)
                for m, p in zip(self.members, parts, strict=True)
            ]
            return torch.stack(scores).mean(dim=0)  # (B, T, num_tags)
        return self.output(self.dropout(self.states(x, lengths, gazetteer_ids)))  # (B, T, K)

    def rnn_inputs(self, x: torch.Tensor, gazetteer_ids: torch.Tensor) -> torch.Tensor:
        """Token inputs and the place-name matches: (B, T, I), (B, T) -> (B, T, I + G)."""
        if self.gazetteer_embedding is None:
            return x
        places = self.dropout(self.gazetteer_embedding(gazetteer_ids))  # (B, T, gazetteer_dim)
        return torch.cat([x, places], dim=2)  # (B, T, I + gazetteer_dim)

    def states(
        self, x: torch.Tensor, lengths: torch.Tensor, gazetteer_ids: torch.Tensor
    ) -> torch.Tensor:
        """The recurrent layer's outputs: (B, T, I), (B,), (B, T) -> (B, T, D*H); of one network
        (an ensemble's are its members')."""
        x = self.rnn_inputs(x, gazetteer_ids)  # (B, T, I + G)
        if isinstance(self.rnn, CellRNN):
            return self.rnn(x, lengths)  # (B, T, D*H): padding handled by the cells themselves
        if not self.training and bool((lengths == x.shape[1]).all()):
            # (B, T, D*H): no padding, so no packing (one sentence, say). Inference only: the
            # unpacked kernel rounds differently, and training must stay bit-reproducible.
            h, _ = self.rnn(x)
        else:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, _ = self.rnn(packed)
            h, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])  # (B, T, DH)
        return h  # (B, T, D*H)

    def emissions(self, batch: Batch) -> torch.Tensor:
        """Per-token tag scores: -> (batch, seq_len, num_tags)."""
        # The encoder's NumPy arrays become tensors sharing their memory (tensors stay as they are,
        # on their device); lengths stay on the CPU, as packing wants them.
        word_ids = torch.as_tensor(batch.word_ids)  # (B, T)
        if self.training and self.config.word_dropout > 0:
            drop = torch.rand(word_ids.shape) < self.config.word_dropout  # (B, T)
            mask = torch.as_tensor(batch.mask, device=word_ids.device)  # (B, T)
            word_ids = word_ids.masked_fill(drop & mask, UNK_ID)  # (B, T)
        x = self.token_inputs(
            word_ids,
            torch.as_tensor(batch.char_ids),
            torch.as_tensor(batch.shape_ids),
            torch.as_tensor(batch.frequency_ids),
            torch.as_tensor(batch.cluster_ids),
        )
        x = self.dropout(x)  # (B, T, I)
        lengths = torch.as_tensor(batch.lengths, device="cpu")  # (B,)
        return self.contextual(x, lengths, torch.as_tensor(batch.gazetteer_ids))  # (B, T, K)

    def loss(self, batch: Batch, tag_ids: torch.Tensor) -> torch.Tensor:
        """Training loss for gold ``tag_ids`` of shape (batch, seq_len); a scalar."""
        emissions = self.emissions(batch)  # (B, T, K)
        mask = torch.as_tensor(batch.mask, device=emissions.device)  # (B, T)
        if self.config.use_crf:
            return self.crf.nll(emissions, tag_ids, mask)
        logits = emissions[mask]  # (N, K)
        return nn.functional.cross_entropy(logits, tag_ids[mask])
