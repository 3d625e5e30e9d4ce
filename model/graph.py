"""The exported network: the tagger as ONNX graphs, saved in the model directory beside its weights,
so that serving runs it on ONNX Runtime without torch.

Two graphs (see model/runtime.py for why two): ``token_inputs.onnx`` (a token's ids to its BiLSTM
input) and ``contextual.onnx`` (token inputs and lengths to tag scores). A saved graph holds no
copy of the weights: each of its tensors is ONNX external data pointing at the bytes of the same
tensor inside ``weights.safetensors`` (safetensors stores raw little-endian tensors at offsets
its header gives), so the two graphs together are a few tens of kB. ``graph.json`` records the
SHA-256 of the files the graphs were exported from (weights, config, vocabularies) and of the
graphs themselves; :func:`read` refuses a graph whose record does not match, in one line.

ONNX Runtime is handed those tensors from the weights already read and checked
(``add_external_initializers``), never the file: it would otherwise map the weights file into
memory, and a file replaced in place under a running server would crash it (SIGBUS).

Exporting needs torch and onnx (``pip install 'slot-tagger[train]'``); reading needs neither.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import struct
import sys
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from model.errors import CorruptModelError, ModelNotFoundError
from model.lexicon import CLUSTER_COLUMNS

if TYPE_CHECKING:
    import torch
    from torch import nn

    from model.tagger import BiLSTMTagger

GRAPH_FILE = "graph.json"
TOKEN_GRAPH = "token_inputs.onnx"
CONTEXTUAL_GRAPH = "contextual.onnx"
WEIGHTS_FILE = "weights.safetensors"
# What a graph is a function of: its tensors (the weights) and its shapes (config, vocabularies).
EXPORTED_FROM = (WEIGHTS_FILE, "config.json", "vocab.json")
FORMAT = "slot-tagger-graph"
OPSET = 17
_MODULE_PREFIX = "tagger."  # the wrappers below hold the tagger as .tagger


class GraphFile(BaseModel):
    """One graph in ``graph.json``: its file's SHA-256 and the weights its tensors are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str
    tensors: list[str]  # initializer names: the tagger's state_dict keys behind "tagger."


class GraphRecord(BaseModel):
    """What ``graph.json`` holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = FORMAT
    opset: int = OPSET
    exported_from: dict[str, str]  # file name -> SHA-256 of the file the graphs were made from
    graphs: dict[str, GraphFile]
    torch: str = ""  # the exporter's version, for the record


@dataclass(frozen=True, slots=True)
class SavedGraph:
    """One saved graph, ready for ONNX Runtime: its bytes, and the arrays its external tensors
    are (by initializer name), taken from the weights read with it."""

    model: bytes
    tensors: dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class Graph:
    """A model directory's saved graphs, checked against its files."""

    token_inputs: SavedGraph
    contextual: SavedGraph


def exists(model_dir: str | Path) -> bool:
    """Whether the directory has a saved graph (its ``graph.json``)."""
    return (Path(model_dir) / GRAPH_FILE).is_file()


def read(
    model_dir: str | Path,
    files: Mapping[str, bytes],
    weights: Mapping[str, np.ndarray] | None = None,
) -> Graph:
    """The directory's saved graph, refused unless it was exported from these very files.

    Args:
        model_dir: the model directory.
        files: the directory's files by name, as already read (the weights, config and
            vocabularies at least).
        weights: the weights file's tensors (``safetensors.numpy.load``), if already read.

    Raises:
        ModelNotFoundError: ``graph.json`` or a graph it lists is missing.
        CorruptModelError: the record does not parse, a graph was changed, or the graphs were
            exported from other weights (or config, or vocabularies) than the directory has.
    """
    path = Path(model_dir)
    record = _record(path)
    again = f"export it again with `slot-tagger export {path}`"
    for name, expected in record.exported_from.items():
        if name not in files:
            raise ModelNotFoundError(f"model at {path} is missing {name}")
        found = _sha256(files[name])
        if found != expected:
            raise CorruptModelError(
                f"model at {path}: its ONNX graph was exported from another {name} "
                f"(sha256 {expected[:12]}, the directory's is {found[:12]}); {again}"
            )
    if weights is None:
        import safetensors.numpy

        weights = safetensors.numpy.load(files[WEIGHTS_FILE])  # its hash was checked above
    saved = []
    for name in (TOKEN_GRAPH, CONTEXTUAL_GRAPH):
        graph_file = path / name
        if name not in record.graphs or not graph_file.is_file():
            raise ModelNotFoundError(f"model at {path} is missing {name}; {again}")
        try:
            data = graph_file.read_bytes()
        except OSError as e:
            raise CorruptModelError(f"model file {graph_file} is not readable: {e}") from e
        entry = record.graphs[name]
        if _sha256(data) != entry.sha256:
            raise CorruptModelError(
                f"model at {path}: {name} is not the graph {GRAPH_FILE} records; {again}"
            )
        keys = {t: t.removeprefix(_MODULE_PREFIX) for t in entry.tensors}
        if missing := [t for t, key in keys.items() if key not in weights]:
            raise CorruptModelError(f"model at {path}: {name} needs weights it lacks: {missing}")
        saved.append(SavedGraph(data, {t: weights[key] for t, key in keys.items()}))
    return Graph(*saved)


def _record(path: Path) -> GraphRecord:
    try:
        raw = json.loads((path / GRAPH_FILE).read_bytes())
    except FileNotFoundError:
        raise ModelNotFoundError(f"model at {path} has no exported graph ({GRAPH_FILE})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CorruptModelError(f"model file {path / GRAPH_FILE} is not readable JSON: {e}") from e
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CorruptModelError(f"model file {path / GRAPH_FILE} is not a {FORMAT} record")
    try:
        return GraphRecord.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        raise CorruptModelError(
            f"model file {path / GRAPH_FILE} is invalid: {first['loc']}: {first['msg']}"
        ) from e


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----- exporting (torch and onnx) -----


def files(tagger: BiLSTMTagger, exported_from: Mapping[str, bytes]) -> dict[str, bytes]:
    """The graph files of a model directory: both graphs, their tensors pointing into the
    weights file, and ``graph.json``.

    Args:
        tagger: the tagger (exported in eval mode, then left in its mode).
        exported_from: the directory's files by name, as they will be written; those of
            :data:`EXPORTED_FROM` must be there, and the weights must be the tagger's.

    Raises:
        ValueError: a tensor of the graphs is not in the weights file as it is.
    """
    import onnx
    import torch

    weights = exported_from[WEIGHTS_FILE]
    offsets = _tensor_offsets(weights)
    graphs, tensors = {}, {}
    training = tagger.training
    try:
        exported = export(tagger.eval(), fold=False)
    finally:
        tagger.train(training)  # the caller's tagger is left as it was
    for name, graph in zip((TOKEN_GRAPH, CONTEXTUAL_GRAPH), exported, strict=True):
        proto = onnx.load_from_string(graph)
        for tensor in proto.graph.initializer:
            key = tensor.name.removeprefix(_MODULE_PREFIX)
            if key not in offsets:
                raise ValueError(f"expected graph tensor {tensor.name} among the weights")
            begin, end = offsets[key]
            if weights[begin:end] != tensor.raw_data:
                raise ValueError(f"expected graph tensor {tensor.name} to equal weights' {key}")
            tensor.ClearField("raw_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
            where = {"location": WEIGHTS_FILE, "offset": begin, "length": end - begin}
            for field, value in where.items():
                entry = tensor.external_data.add()
                entry.key, entry.value = field, str(value)
        graphs[name] = proto.SerializeToString()
        tensors[name] = [tensor.name for tensor in proto.graph.initializer]
    record = GraphRecord(
        exported_from={n: _sha256(exported_from[n]) for n in EXPORTED_FROM},
        graphs={n: GraphFile(sha256=_sha256(g), tensors=tensors[n]) for n, g in graphs.items()},
        torch=torch.__version__,
    )
    return {**graphs, GRAPH_FILE: json.dumps(record.model_dump(), indent=2).encode()}


def _tensor_offsets(weights: bytes) -> dict[str, tuple[int, int]]:
    """Where each tensor's bytes lie in a safetensors file: name -> (begin, end), from the file's
    start (an 8-byte little-endian header length, the JSON header, then the tensors)."""
    (size,) = struct.unpack("<Q", weights[:8])
    header: dict[str, Any] = json.loads(weights[8 : 8 + size])
    header.pop("__metadata__", None)
    base = 8 + size
    spans = {k: v["data_offsets"] for k, v in header.items()}
    return {k: (base + begin, base + end) for k, (begin, end) in spans.items()}


def export(tagger: BiLSTMTagger, fold: bool = True) -> tuple[bytes, bytes]:
    """The tagger's network as two ONNX models (bytes), their weights inside: token ids to token
    inputs, and token inputs to tag scores; batch, length and word-length axes left free.

    Args:
        tagger: the tagger, in eval mode.
        fold: fold constants at export (the LSTM's weights reordered into ONNX's gate order).
            Unfolded, every tensor of the graph is one of the tagger's weights as it is, which
            :func:`files` relies on; ONNX Runtime folds the same when it loads the graph.
    """
    import torch

    words, shapes = torch.tensor([1, 1]), torch.tensor([1, 1])  # <unk>: in every vocabulary
    frequencies = torch.tensor([1, 1])
    clusters = torch.ones((2, CLUSTER_COLUMNS), dtype=torch.long)  # (N, L): no cluster
    chars = torch.tensor([[1, 1], [1, 0]])
    token_graph = _export(
        _token_inputs_module(tagger),
        (words, chars, shapes, frequencies, clusters),
        {
            "word_ids": {0: "n"},
            "char_ids": {0: "n", 1: "word_len"},
            "shape_ids": {0: "n"},
            "frequency_ids": {0: "n"},
            "cluster_ids": {0: "n"},
        },
        "token_inputs",
        {0: "n"},
        fold,
    )
    with torch.no_grad():
        example = tagger.token_inputs(
            words[None], chars[None], shapes[None], frequencies[None], clusters[None]
        )
    example = torch.cat([example, example])  # two sentences, of lengths 2 and 1: the packed path
    places = torch.tensor([[1, 1], [1, 0]])  # (2, 2)
    contextual = _export(
        _contextual_module(tagger),
        (example, torch.tensor([2, 1]), places),
        {
            "token_inputs": {0: "batch", 1: "seq_len"},
            "lengths": {0: "batch"},
            "gazetteer_ids": {0: "batch", 1: "seq_len"},
        },
        "emissions",
        {0: "batch", 1: "seq_len"},
        fold,
    )
    return token_graph, contextual


def _token_inputs_module(tagger: BiLSTMTagger) -> nn.Module:
    """Graph 1: one token's network input from its ids (embeddings and character CNN)."""
    from torch import nn

    class TokenInputs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tagger = tagger

        def forward(
            self,
            word_ids: torch.Tensor,
            char_ids: torch.Tensor,
            shape_ids: torch.Tensor,
            frequency_ids: torch.Tensor,
            cluster_ids: torch.Tensor,
        ) -> torch.Tensor:
            x = self.tagger.token_inputs(
                word_ids[:, None],
                char_ids[:, None, :],
                shape_ids[:, None],
                frequency_ids[:, None],
                cluster_ids[:, None, :],
            )
            return x[:, 0]  # (N, I)

    return TokenInputs()


def _contextual_module(tagger: BiLSTMTagger) -> nn.Module:
    """Graph 2: token inputs and lengths in, tag scores out, the BiLSTM always packed."""
    from torch import nn

    class Contextual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tagger = tagger

        def forward(
            self, token_inputs: torch.Tensor, lengths: torch.Tensor, gazetteer_ids: torch.Tensor
        ) -> torch.Tensor:
            # Traced on a padded batch, so the trace keeps contextual()'s packed branch only.
            return self.tagger.contextual(token_inputs, lengths, gazetteer_ids)  # (B, T, K)

    return Contextual()


def _export(
    module: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    input_axes: dict[str, dict[int, str]],
    output: str,
    output_axes: dict[int, str],
    fold: bool,
) -> bytes:
    import torch

    from model.cells import register_onnx

    register_onnx(OPSET)
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
            opset_version=OPSET,
            do_constant_folding=fold,
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
