"""What runs the network: eager torch or ONNX Runtime, behind one small interface.

:func:`network` is the one place a backend is chosen (default :data:`DEFAULT_BACKEND`); both give
a :class:`Network`: a batch in, tag scores out.

- torch (:class:`TorchNetwork`): the tagger itself, eager; it follows the tagger's weights as they
  change, so training scores its dev set with it.
- ONNX Runtime (:class:`OnnxNetwork`): the same emissions, several times sooner per call. At
  inference the network is a fixed function of its weights, so it is exported when a predictor
  is made (in memory, about 0.3 s; nothing extra is saved or loaded from disk, so the model
  directory stays JSON and safetensors only) and run by ONNX Runtime's CPU kernels, as two graphs:

  - token inputs: a token's ids to its BiLSTM input (embeddings, character CNN, shape, frequency).
    These depend on the token alone, so the encoder keeps them per distinct token
    (model/encode.py) and the character CNN runs once per new word;
  - contextual: the token inputs of a padded batch and each sentence's length to tag scores. The
    exported LSTM takes the lengths, so a padded batch gives every sentence the scores it gets
    alone.

Measured on this project's 2-core machine (tests/benchmarks/bench.py): one 8-token sentence's
network 130 µs on ONNX Runtime against 550 µs in eager torch; emissions agree to about 1e-5, and
tags and spans are the same (tests/model/test_runtime.py, tests/test_default_model.py).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Literal, Protocol

import numpy as np
import torch
from torch import nn

from model.encode import Batch, TokenInputs
from model.tagger import BiLSTMTagger

Backend = Literal["torch", "onnx"]
DEFAULT_BACKEND: Backend = "onnx"
_OPSET = 17


class Network(Protocol):
    """What runs a tagger's network: batches in, tag scores out. Safe to call from several threads.

    ``token_inputs`` (None when the network computes them itself) is for the
    :class:`~model.encode.Encoder`: given it, batches arrive with each token's input already
    looked up. ``follows_weights`` says whether later changes to the tagger's weights are seen
    (eager torch) or not (a copy, exported once).
    """

    token_inputs: TokenInputs | None
    follows_weights: bool

    def emissions(self, batch: Batch) -> np.ndarray:
        """(batch, seq_len, num_tags) float32 tag scores."""
        ...


def network(tagger: BiLSTMTagger, backend: Backend = DEFAULT_BACKEND, threads: int = 1) -> Network:
    """The one place a backend is chosen.

    Args:
        tagger: the trained tagger, in eval mode.
        backend: "onnx" (ONNX Runtime on a copy exported now) or "torch" (eager).
        threads: ONNX Runtime's intra-op threads (torch's are set with ``torch.set_num_threads``).

    Raises:
        ValueError: for another backend, naming it.
    """
    if backend == "onnx":
        return OnnxNetwork(tagger, threads)
    if backend == "torch":
        return TorchNetwork(tagger)
    raise ValueError(f"expected backend 'torch' or 'onnx', got {backend!r}")


class TorchNetwork:
    """The tagger itself, in eager torch, under ``torch.inference_mode``."""

    token_inputs: TokenInputs | None = None
    follows_weights = True

    def __init__(self, tagger: BiLSTMTagger) -> None:
        self.tagger = tagger

    @torch.inference_mode()
    def emissions(self, batch: Batch) -> np.ndarray:
        """(batch, seq_len, num_tags) float32 scores."""
        return self.tagger.emissions(batch).numpy()


class _TokenInputs(nn.Module):
    """Graph 1: one token's network input from its ids (embeddings and character CNN)."""

    def __init__(self, tagger: BiLSTMTagger) -> None:
        super().__init__()
        self.tagger = tagger

    def forward(
        self,
        word_ids: torch.Tensor,
        char_ids: torch.Tensor,
        shape_ids: torch.Tensor,
        frequency_ids: torch.Tensor,
    ) -> torch.Tensor:
        x = self.tagger.token_inputs(
            word_ids[:, None], char_ids[:, None, :], shape_ids[:, None], frequency_ids[:, None]
        )
        return x[:, 0]  # (N, I)


class _Contextual(nn.Module):
    """Graph 2: token inputs and lengths in, tag scores out, the BiLSTM always packed."""

    def __init__(self, tagger: BiLSTMTagger) -> None:
        super().__init__()
        self.tagger = tagger

    def forward(
        self, token_inputs: torch.Tensor, lengths: torch.Tensor, gazetteer_ids: torch.Tensor
    ) -> torch.Tensor:
        # Traced on a padded batch, so the trace keeps contextual()'s packed branch only.
        return self.tagger.contextual(token_inputs, lengths, gazetteer_ids)  # (B, T, K)


def export(tagger: BiLSTMTagger) -> tuple[bytes, bytes]:
    """The tagger's network as two ONNX models (bytes): token ids to token inputs, and token
    inputs to tag scores; batch, length and word-length axes left free."""
    words, shapes = torch.tensor([1, 1]), torch.tensor([1, 1])  # <unk>: in every vocabulary
    frequencies = torch.tensor([1, 1])
    chars = torch.tensor([[1, 1], [1, 0]])
    token_graph = _export(
        _TokenInputs(tagger),
        (words, chars, shapes, frequencies),
        {
            "word_ids": {0: "n"},
            "char_ids": {0: "n", 1: "word_len"},
            "shape_ids": {0: "n"},
            "frequency_ids": {0: "n"},
        },
        "token_inputs",
        {0: "n"},
    )
    with torch.no_grad():
        example = tagger.token_inputs(words[None], chars[None], shapes[None], frequencies[None])
    example = torch.cat([example, example])  # two sentences, of lengths 2 and 1: the packed path
    places = torch.tensor([[1, 1], [1, 0]])  # (2, 2)
    contextual = _export(
        _Contextual(tagger),
        (example, torch.tensor([2, 1]), places),
        {
            "token_inputs": {0: "batch", 1: "seq_len"},
            "lengths": {0: "batch"},
            "gazetteer_ids": {0: "batch", 1: "seq_len"},
        },
        "emissions",
        {0: "batch", 1: "seq_len"},
    )
    return token_graph, contextual


def _export(
    module: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    input_axes: dict[str, dict[int, str]],
    output: str,
    output_axes: dict[int, str],
) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad(), _quiet_stderr():
        # The TorchScript exporter is deprecated in favour of the dynamo one, which cannot take
        # packed sequences; torch is pinned, and the tests hold the two backends to each other.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            inputs,
            buffer,
            dynamo=False,
            input_names=list(input_axes),
            output_names=[output],
            dynamic_axes={**input_axes, output: output_axes},
            opset_version=_OPSET,
        )
    return buffer.getvalue()


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for a moment: the exporter's C++ side prints warnings there
    directly (shape inference of packed sequences, harmless here), past Python's warnings."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class OnnxNetwork:
    """Runs a tagger's exported network on ONNX Runtime. Safe to call from several threads.

    Args:
        tagger: the trained tagger; its weights are copied into the graphs, so later changes to
            them are not seen.
        threads: intra-op threads (1: run in the calling thread, best for a server's workers).
    """

    follows_weights = False

    def __init__(self, tagger: BiLSTMTagger, threads: int = 1) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only
        # Idle pool threads sleep instead of spinning: a spinning pool burns the core the
        # Python work (tokenizing, decoding) needs between two network calls.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        token_graph, contextual = export(tagger)
        self._token_graph = onnxruntime.InferenceSession(
            token_graph, options, providers=["CPUExecutionProvider"]
        )
        self._contextual = onnxruntime.InferenceSession(
            contextual, options, providers=["CPUExecutionProvider"]
        )
        # An input the graph does not use (characters, when char_dim is 0) is pruned by the
        # exporter; feed only what the graph asks for.
        self._token_graph_inputs = [i.name for i in self._token_graph.get_inputs()]
        self._contextual_inputs = [i.name for i in self._contextual.get_inputs()]
        self.token_inputs: TokenInputs | None = self._run_token_graph

    def _run_token_graph(
        self,
        word_ids: np.ndarray,
        char_ids: np.ndarray,
        shape_ids: np.ndarray,
        frequency_ids: np.ndarray,
    ) -> np.ndarray:
        """Network inputs of N tokens: (N,), (N, C), (N,), (N,) ids -> (N, input_dim) float32."""
        given = {
            "word_ids": word_ids,
            "char_ids": char_ids,
            "shape_ids": shape_ids,
            "frequency_ids": frequency_ids,
        }
        feed = {name: np.ascontiguousarray(given[name]) for name in self._token_graph_inputs}
        (token_inputs,) = self._token_graph.run(["token_inputs"], feed)
        return token_inputs

    def emissions(self, batch: Batch) -> np.ndarray:
        """(batch, seq_len, num_tags) float32 scores; token inputs are computed from the ids when
        the batch does not carry them."""
        if batch.token_inputs is not None:
            token_inputs = batch.token_inputs.numpy()  # (B, T, I)
        else:
            size, seq_len, word_len = batch.char_ids.shape
            token_inputs = self._run_token_graph(
                batch.word_ids.reshape(-1).numpy(),
                batch.char_ids.reshape(-1, word_len).numpy(),
                batch.shape_ids.reshape(-1).numpy(),
                batch.frequency_ids.reshape(-1).numpy(),
            ).reshape(size, seq_len, -1)  # (B, T, I)
        given = {
            "token_inputs": token_inputs,
            "lengths": batch.lengths.numpy(),
            "gazetteer_ids": batch.gazetteer_ids.numpy(),
        }
        feed = {name: given[name] for name in self._contextual_inputs}
        (emissions,) = self._contextual.run(["emissions"], feed)
        return emissions
