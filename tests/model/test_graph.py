"""The exported graph saved beside the weights: written by training and by `slot-tagger export`,
refused in one line when it is not the weights', and run without torch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest
import safetensors.torch
from typer.testing import CliRunner

from model import artifact, graph
from model.errors import CorruptModelError, ModelNotFoundError
from model.predictor import Predictor
from training.cli import app

TEXTS = ["leave Beijing on November 2nd", "i want to fly from denver to chicago tomorrow", ""]
GRAPH_FILES = (graph.GRAPH_FILE, graph.TOKEN_GRAPH, graph.CONTEXTUAL_GRAPH)


def copy_model(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "model"
    shutil.copytree(src, dst)
    return dst


def files_of(path: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in sorted(path.iterdir())}


def leave_graph_stale(model: Path) -> None:
    """New weights saved as a tool that writes weights and meta.json but not the graph would
    leave them: the directory's version is the new weights' (else the version check refuses it
    first), its graph the old weights'."""
    state = safetensors.torch.load_file(model / "weights.safetensors")
    state["output.bias"] = state["output.bias"] + 1.0
    safetensors.torch.save_file(state, model / "weights.safetensors")
    meta = json.loads((model / "meta.json").read_text())
    files = {p.name: p.read_bytes() for p in model.iterdir() if p.is_file()}
    meta["version"] = artifact.version_of(files, meta.get("calibration") or {})
    (model / "meta.json").write_text(json.dumps(meta))


def test_training_saves_the_graph_and_it_points_at_the_weights(tiny_model_dir) -> None:
    """The graphs carry no copy of the weights: every tensor is read from weights.safetensors."""
    assert all((tiny_model_dir / f).is_file() for f in GRAPH_FILES)
    record = json.loads((tiny_model_dir / graph.GRAPH_FILE).read_text())
    names = {t for g in record["graphs"].values() for t in g["tensors"]}
    state = safetensors.torch.load_file(tiny_model_dir / "weights.safetensors")
    # every weight but the CRF's (decoded in NumPy) is one of the graphs' tensors ...
    served = {k for k in state if not k.startswith("crf.")}
    assert {n.removeprefix("tagger.") for n in names} == served
    # ... and none of their bytes is in the graphs: each is external data in the weights file
    for name in (graph.TOKEN_GRAPH, graph.CONTEXTUAL_GRAPH):
        proto = onnx.load(tiny_model_dir / name, load_external_data=False)
        for tensor in proto.graph.initializer:
            assert tensor.data_location == onnx.TensorProto.EXTERNAL and not tensor.raw_data
            where = {e.key: e.value for e in tensor.external_data}
            assert where["location"] == "weights.safetensors"


def test_a_model_loaded_without_torch_predicts_what_the_torch_tagger_does(tiny_model_dir) -> None:
    served = artifact.load(tiny_model_dir, with_tagger=False)
    assert served.tagger is None and served.graph is not None and served.crf is not None
    eager = Predictor(artifact.load(tiny_model_dir), backend="torch").predict(TEXTS)
    got = Predictor(served).predict(TEXTS)
    assert [p.tags for p in got] == [p.tags for p in eager]
    for a, b in zip(got, eager, strict=True):
        for x, y in zip(a.spans, b.spans, strict=True):
            assert (x.label, x.start, x.end) == (y.label, y.start, y.end)
            assert abs(x.confidence - y.confidence) < 1e-5


def test_a_graph_of_other_weights_is_refused_in_one_line_naming_the_fix(
    tiny_model_dir, tmp_path
) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    leave_graph_stale(model)
    for with_tagger in (True, False):
        with pytest.raises(CorruptModelError) as refused:
            artifact.load(model, with_tagger=with_tagger)
        message = str(refused.value)
        assert "\n" not in message
        assert "ONNX graph was exported from another weights.safetensors" in message
        assert f"`slot-tagger export {model}`" in message


def test_export_saves_a_graph_again_and_keeps_every_other_file(tiny_model_dir, tmp_path) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    before = files_of(model)
    leave_graph_stale(model)
    changed = files_of(model)
    result = CliRunner().invoke(app, ["export", str(model)])
    assert result.exit_code == 0, result.output
    after = files_of(model)
    assert {n: d for n, d in after.items() if n not in GRAPH_FILES} == {
        n: d for n, d in changed.items() if n not in GRAPH_FILES
    }
    assert after[graph.GRAPH_FILE] != before[graph.GRAPH_FILE]
    assert artifact.load(model, with_tagger=False).graph is not None
    # the same weights export to the same bytes: a model directory is reproducible
    CliRunner().invoke(app, ["export", str(model)])
    assert files_of(model) == after


def test_a_changed_graph_file_is_refused(tiny_model_dir, tmp_path) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    data = bytearray((model / graph.CONTEXTUAL_GRAPH).read_bytes())
    data[-1] ^= 1
    (model / graph.CONTEXTUAL_GRAPH).write_bytes(bytes(data))
    with pytest.raises(CorruptModelError, match="contextual.onnx is not the graph graph.json"):
        artifact.load(model, with_tagger=False)


def test_without_torch_a_model_needs_its_graph(tiny_model_dir, tmp_path) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    for name in GRAPH_FILES:
        (model / name).unlink()
    with pytest.raises(ModelNotFoundError, match=r"has no exported graph \(graph.json\)"):
        artifact.load(model, with_tagger=False)
    # with torch it still serves, exporting in memory
    assert Predictor.from_dir(model).predict(TEXTS)[0].spans


def test_weights_overwritten_under_a_running_predictor_do_not_crash_it(
    tiny_model_dir, tmp_path
) -> None:
    """ONNX Runtime is handed the weights already read, never maps the file: a file truncated in
    place (a careless copy over a live model) would otherwise kill the process (SIGBUS)."""
    model = copy_model(tiny_model_dir, tmp_path)
    predictor = Predictor.from_dir(model)
    expected = predictor.predict(TEXTS)
    (model / "weights.safetensors").write_bytes(b"garbage")
    assert predictor.predict(TEXTS) == expected


def test_calibrating_a_model_with_a_stale_graph_saves_a_good_one(tiny_model_dir, tmp_path) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    leave_graph_stale(model)
    artifact.store_calibration(model, {"temperature": 1.5, "min_confidence": 0.0})
    assert artifact.load(model, with_tagger=False).graph is not None
