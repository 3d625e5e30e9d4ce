"""What runs the network: eager torch or ONNX Runtime, behind one small interface.

:func:`network` is the one place a backend is chosen (default :data:`DEFAULT_BACKEND`); both give
a :class:`Network`: a batch in, tag scores out.

- torch (:class:`TorchNetwork`): the tagger itself, eager; it follows the tagger's weights as they
  change, so training scores its dev set with it.
- ONNX Runtime (:class:`OnnxNetwork`): the same emissions, several times sooner per call. At
  inference the network is a fixed function of its weights, so it runs as exported graphs
  (model/graph.py): the ones saved in the model directory (no torch needed), or, for a model
  saved without them, exported in memory from the tagger when a predictor is made (about
  0.3 s). ONNX Runtime's CPU kernels run two graphs:

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

from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from model import graph as graphs
from model.encode import Batch, TokenInputs

if TYPE_CHECKING:
    from model.tagger import BiLSTMTagger

Backend = Literal["torch", "onnx"]
DEFAULT_BACKEND: Backend = "onnx"


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


def network(
    tagger: BiLSTMTagger | None,
    backend: Backend = DEFAULT_BACKEND,
    threads: int = 1,
    graph: graphs.Graph | None = None,
) -> Network:
    """The one place a backend is chosen.

    Args:
        tagger: the trained tagger, in eval mode (None for a model loaded without torch).
        backend: "onnx" (ONNX Runtime: on ``graph`` if given, else on a copy of the tagger
            exported now) or "torch" (eager).
        threads: ONNX Runtime's intra-op threads (torch's are set with ``torch.set_num_threads``).
        graph: the model directory's saved graph, checked against its weights.

    Raises:
        ValueError: for another backend, naming it, or for a backend with nothing to run.
    """
    if backend == "onnx":
        if graph is not None:
            return OnnxNetwork((graph.token_inputs, graph.contextual), threads)
        if tagger is not None:
            return OnnxNetwork(graphs.export(tagger), threads)
        raise ValueError("expected a tagger or a saved graph for the onnx backend, got neither")
    if backend == "torch":
        if tagger is None:
            raise ValueError("expected a tagger for the torch backend (a model loaded with torch)")
        return TorchNetwork(tagger)
    raise ValueError(f"expected backend 'torch' or 'onnx', got {backend!r}")


class TorchNetwork:
    """The tagger itself, in eager torch, under ``torch.inference_mode``."""

    token_inputs: TokenInputs | None = None
    follows_weights = True

    def __init__(self, tagger: BiLSTMTagger) -> None:
        import torch

        self.tagger = tagger
        self._inference_mode = torch.inference_mode

    def emissions(self, batch: Batch) -> np.ndarray:
        """(batch, seq_len, num_tags) float32 scores."""
        with self._inference_mode():
            return self.tagger.emissions(batch).numpy()


class OnnxNetwork:
    """Runs a tagger's exported network on ONNX Runtime. Safe to call from several threads.

    Args:
        graphs: the two graphs (model/graph.py), as ONNX bytes with their weights inside or as
            saved ones with their weights beside them; a copy of the weights either way, so
            later changes to a tagger's are not seen.
        threads: intra-op threads (1: run in the calling thread, best for a server's workers).
    """

    follows_weights = False

    def __init__(
        self,
        graphs: tuple[bytes | graphs.SavedGraph, bytes | graphs.SavedGraph],
        threads: int = 1,
    ) -> None:
        token_graph, contextual = graphs
        # The tensors handed to ONNX Runtime must outlive its sessions: kept here with them.
        self._token_graph, token_tensors = _session(token_graph, threads)
        self._contextual, contextual_tensors = _session(contextual, threads)
        self._tensors = token_tensors + contextual_tensors
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
        cluster_ids: np.ndarray,
    ) -> np.ndarray:
        """Network inputs of N tokens: (N,), (N, C), (N,), (N,), (N, L) ids -> (N, input_dim)
        float32."""
        given = {
            "word_ids": word_ids,
            "char_ids": char_ids,
            "shape_ids": shape_ids,
            "frequency_ids": frequency_ids,
            "cluster_ids": cluster_ids,
        }
        feed = {name: np.ascontiguousarray(given[name]) for name in self._token_graph_inputs}
        (token_inputs,) = self._token_graph.run(["token_inputs"], feed)
        return token_inputs

    def emissions(self, batch: Batch) -> np.ndarray:
        """(batch, seq_len, num_tags) float32 scores; token inputs are computed from the ids when
        the batch does not carry them."""
        if batch.token_inputs is not None:
            token_inputs = batch.token_inputs  # (B, T, I)
        else:
            size, seq_len, word_len = batch.char_ids.shape
            token_inputs = self._run_token_graph(
                batch.word_ids.reshape(-1),
                batch.char_ids.reshape(-1, word_len),
                batch.shape_ids.reshape(-1),
                batch.frequency_ids.reshape(-1),
                batch.cluster_ids.reshape(size * seq_len, -1),
            ).reshape(size, seq_len, -1)  # (B, T, I)
        given = {
            "token_inputs": token_inputs,
            "lengths": batch.lengths,
            "gazetteer_ids": batch.gazetteer_ids,
        }
        feed = {name: given[name] for name in self._contextual_inputs}
        (emissions,) = self._contextual.run(["emissions"], feed)
        return emissions


def _session(graph: bytes | graphs.SavedGraph, threads: int) -> tuple[Any, list[Any]]:
    """An ONNX Runtime session on one graph, and the external tensors handed to it from memory
    (OrtValues over the weights' arrays; they must live as long as the session)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only
    # Idle pool threads sleep instead of spinning: a spinning pool burns the core the
    # Python work (tokenizing, decoding) needs between two network calls.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if isinstance(graph, bytes):
        return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"]), []
    names = list(graph.tensors)
    values = [onnxruntime.OrtValue.ortvalue_from_numpy(graph.tensors[n]) for n in names]
    options.add_external_initializers(names, values)
    session = onnxruntime.InferenceSession(graph.model, options, providers=["CPUExecutionProvider"])
    return session, values
