"""The project's own cells against hand computations and torch's LSTM; the layer that runs them
against padding and reversal; the gate read-out against the gate equations."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from typer.testing import CliRunner

from model import artifact
from model import graph as graphs
from model.cells import CellRNN, CoupledLSTMCell, PeepholeLSTMCell, forget_gates
from model.config import CELLS, TaggerConfig
from model.errors import IncompatibleModelError
from model.predictor import Predictor
from model.runtime import OnnxNetwork
from model.tagger import BiLSTMTagger
from tests.conftest import TINY_TAGGER
from tests.model.test_runtime import TEXTS, same
from training.cli import app
from training.config import TrainConfig
from training.train import train


def sigma(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def fill(cell: nn.Module, values: dict[str, list]) -> None:
    with torch.no_grad():
        for name, value in values.items():
            getattr(cell, name).copy_(torch.tensor(value))


def test_peephole_step_is_the_gate_equations_by_hand() -> None:
    """I = 1, H = 1: every gate a number, computed here with math alone."""
    cell = PeepholeLSTMCell(1, 1)
    w = {"i": 0.5, "f": -0.3, "g": 0.8, "o": 0.2}  # input weights
    u = {"i": 0.1, "f": 0.4, "g": -0.6, "o": 0.7}  # recurrent weights
    b = {"i": 0.05, "f": 0.5, "g": -0.1, "o": 0.0}  # biases (split over the two bias vectors)
    p = {"i": 0.3, "f": -0.2, "o": 0.9}
    order = ("i", "f", "g", "o")
    fill(
        cell,
        {
            "weight_ih": [[w[k]] for k in order],
            "weight_hh": [[u[k]] for k in order],
            "bias_ih": [b[k] / 2 for k in order],
            "bias_hh": [b[k] / 2 for k in order],
            "peephole": [p["i"], p["f"], p["o"]],
        },
    )
    x, h0, c0 = 1.5, -0.4, 0.6
    i = sigma(w["i"] * x + u["i"] * h0 + p["i"] * c0 + b["i"])
    f = sigma(w["f"] * x + u["f"] * h0 + p["f"] * c0 + b["f"])
    g = math.tanh(w["g"] * x + u["g"] * h0 + b["g"])
    c = f * c0 + i * g
    o = sigma(w["o"] * x + u["o"] * h0 + p["o"] * c + b["o"])  # looks at the new cell state
    h = o * math.tanh(c)
    x_part = torch.tensor([[x]]) @ cell.weight_ih.T + cell.bias_ih
    got_h, got_c, got_f = cell(x_part, torch.tensor([[h0]]), torch.tensor([[c0]]))
    assert got_h.item() == pytest.approx(h, abs=1e-6)
    assert got_c.item() == pytest.approx(c, abs=1e-6)
    assert got_f.item() == pytest.approx(f, abs=1e-6)


def test_coupled_step_is_the_gate_equations_by_hand() -> None:
    """What is forgotten is what is written: f = 1 - i, so c moves towards g by i."""
    cell = CoupledLSTMCell(2, 1)
    fill(
        cell,
        {
            "weight_ih": [[0.5, -1.0], [0.8, 0.3], [0.2, 0.2]],  # rows i, g, o
            "weight_hh": [[0.1], [-0.6], [0.7]],
            "bias_ih": [0.1, -0.1, 0.0],
            "bias_hh": [0.0, 0.0, 0.3],
        },
    )
    x, h0, c0 = (1.0, 0.5), 0.2, -0.8
    i = sigma(0.5 * x[0] - 1.0 * x[1] + 0.1 * h0 + 0.1)
    g = math.tanh(0.8 * x[0] + 0.3 * x[1] - 0.6 * h0 - 0.1)
    o = sigma(0.2 * x[0] + 0.2 * x[1] + 0.7 * h0 + 0.3)
    c = (1 - i) * c0 + i * g
    x_part = torch.tensor([x]) @ cell.weight_ih.T + cell.bias_ih
    got_h, got_c, got_f = cell(x_part, torch.tensor([[h0]]), torch.tensor([[c0]]))
    assert got_c.item() == pytest.approx(c, abs=1e-6)
    assert got_h.item() == pytest.approx(o * math.tanh(c), abs=1e-6)
    assert got_f.item() == pytest.approx(1 - i, abs=1e-6)


def test_peephole_with_zero_peephole_weights_is_torchs_lstm_cell() -> None:
    torch.manual_seed(0)
    reference = nn.LSTMCell(3, 4)
    cell = PeepholeLSTMCell(3, 4)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(reference, name))
        cell.peephole.zero_()
    x = torch.randn(5, 2, 3)  # (T, B, I)
    h, c = torch.zeros(2, 4), torch.zeros(2, 4)
    h_ref, c_ref = h, c
    for t in range(5):
        h, c, _ = cell(x[t] @ cell.weight_ih.T + cell.bias_ih, h, c)
        h_ref, c_ref = reference(x[t], (h_ref, c_ref))
        assert torch.allclose(h, h_ref, atol=1e-6) and torch.allclose(c, c_ref, atol=1e-6)


def test_a_bidirectional_layer_of_zero_peephole_cells_is_torchs_packed_lstm() -> None:
    torch.manual_seed(1)
    reference = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    own = CellRNN("peephole", 3, 4, layers=2, bidirectional=True)
    with torch.no_grad():
        for n, cell in enumerate(own.cells):
            suffix = f"_l{n // 2}" + ("_reverse" if n % 2 else "")
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(reference, name + suffix))
            cell.peephole.zero_()
    x, lengths = torch.randn(3, 6, 3), torch.tensor([6, 2, 4])
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    expected, _ = pad_packed_sequence(reference(packed)[0], batch_first=True, total_length=6)
    assert torch.allclose(own(x, lengths), expected, atol=1e-6)


@pytest.mark.parametrize("cell", ["peephole", "coupled"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_padding_never_changes_a_result(cell: str, bidirectional: bool) -> None:
    """A sentence alone, and padded in a batch beside a longer one, gets the same outputs; the
    padding's are zero."""
    torch.manual_seed(2)
    rnn = CellRNN(cell, 3, 4, layers=2, bidirectional=bidirectional)
    short, long = torch.randn(1, 3, 3), torch.randn(1, 7, 3)
    batch = torch.cat([torch.cat([short, torch.full((1, 4, 3), 9.0)], dim=1), long])  # (2, 7, 3)
    alone = rnn(short, torch.tensor([3]))
    together = rnn(batch, torch.tensor([3, 7]))
    assert torch.allclose(together[0, :3], alone[0], atol=1e-6)
    assert torch.allclose(together[1], rnn(long, torch.tensor([7]))[0], atol=1e-6)
    assert bool((together[0, 3:] == 0).all())


@pytest.mark.parametrize("cell", ["peephole", "coupled"])
def test_the_second_direction_is_the_first_cell_run_on_the_reversed_sentence(cell: str) -> None:
    torch.manual_seed(3)
    both = CellRNN(cell, 3, 4, bidirectional=True)
    backward = CellRNN(cell, 3, 4, bidirectional=False)
    backward.cells[0].load_state_dict(both.cells[1].state_dict())
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 3])
    out = both(x, lengths)  # (2, 5, 8)
    for b, n in enumerate(lengths.tolist()):
        reversed_run = backward(x[b : b + 1, :n].flip(1), torch.tensor([n]))[0].flip(0)  # (n, 4)
        assert torch.allclose(out[b, :n, 4:], reversed_run, atol=1e-6)


def test_forget_gates_of_torchs_lstm_and_gru_are_their_first_step_by_hand() -> None:
    """At the first step h_0 = c_0 = 0, so f_1 = σ(W_f x_1 + b_f) and z_1 = σ(W_z x_1 + b_z)."""
    torch.manual_seed(4)
    x, lengths = torch.randn(1, 4, 3), torch.tensor([4])
    lstm = nn.LSTM(3, 2, batch_first=True, bidirectional=True)
    rows = slice(2, 4)  # torch's LSTM gates i, f, g, o: f is the second block of H rows
    f_1 = torch.sigmoid(
        x[0, 0] @ lstm.weight_ih_l0[rows].T + lstm.bias_ih_l0[rows] + lstm.bias_hh_l0[rows]
    )
    gates = forget_gates(lstm, x, lengths)
    assert gates is not None and gates.shape == (2, 1, 4, 2)
    assert torch.allclose(gates[0, 0, 0], f_1, atol=1e-6)
    gru = nn.GRU(3, 2, batch_first=True)
    z_1 = torch.sigmoid(
        x[0, 0] @ gru.weight_ih_l0[rows].T + gru.bias_ih_l0[rows] + gru.bias_hh_l0[rows]
    )  # torch's GRU gates r, z, n
    gates = forget_gates(gru, x, lengths)
    assert gates is not None and torch.allclose(gates[0, 0, 0], z_1, atol=1e-6)
    assert forget_gates(nn.RNN(3, 2, batch_first=True), x, lengths) is None


def test_an_unknown_cell_is_refused_naming_the_cells() -> None:
    with pytest.raises(ValueError, match=r"expected a cell among \['coupled', 'peephole'\]"):
        CellRNN("lstm", 3, 4)  # type: ignore[arg-type]


@pytest.mark.parametrize("cell", ["peephole", "coupled"])
@pytest.mark.parametrize(("bidirectional", "layers"), [(True, 2), (False, 2), (True, 1)])
def test_the_exported_cells_give_eager_torchs_scores(
    tiny_model_dir, cell: str, bidirectional: bool, layers: int
) -> None:
    """Tag scores of a padded batch on ONNX Runtime against eager torch, with weights (peepholes
    too) far from their initial range, so that each gate's and peephole's rows must be in
    ONNX's order for the scores to agree."""
    tiny = artifact.load(tiny_model_dir)
    config = TINY_TAGGER.model_copy(
        update={"cell": cell, "bidirectional": bidirectional, "layers": layers}
    )
    torch.manual_seed(5)
    tagger = BiLSTMTagger(config, tiny.tagger.vocabs).eval()
    with torch.no_grad():
        for parameter in tagger.rnn.parameters():
            parameter.normal_(0.0, 1.0)
    predictor = Predictor(
        artifact.LoadedModel(artifact.load(tiny_model_dir).meta, config, tagger, tiny_model_dir),
        backend="torch",
    )
    batch = predictor.encoder([text.split() or ["."] for text in TEXTS])
    served = OnnxNetwork(graphs.export(tagger)).emissions(batch)
    eager = predictor.network.emissions(batch)
    assert abs(served - eager).max() < 1e-4


# ----- every cell as a whole model: trained, saved, loaded, served -----

CELL_TRAINING = TrainConfig(
    epochs=8, patience=8, batch_size=4, lr=0.02, seed=0, threads=1, name="cell"
)
SERVE_WITHOUT_TORCH = r"""
import importlib.abc, json, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"torch", "onnx"}:
            raise ModuleNotFoundError(f"No module named {name!r}")

sys.meta_path.insert(0, Block())
from model.predictor import Predictor

out = {}
for model in sys.argv[2:]:
    predictions = Predictor.from_dir(model).predict(json.loads(sys.argv[1]))
    out[model] = [[(s.label, s.start, s.end) for s in p.spans] for p in predictions]
print(json.dumps({"spans": out, "torch": "torch" in sys.modules}))
"""


@pytest.fixture(scope="module")
def cell_models(tmp_path_factory, tiny_examples) -> dict[str, tuple[Path, list[float]]]:
    """Each cell (the own ones left to right too) trained on the tiny corpus: its directory and
    its loss per epoch."""
    models = {}
    for cell, bidirectional in [
        *((c, True) for c in CELLS),
        ("peephole", False),
        ("coupled", False),
    ]:
        name = f"{cell}-{'both' if bidirectional else 'forward'}"
        out = tmp_path_factory.mktemp("cells") / name
        config = TINY_TAGGER.model_copy(update={"cell": cell, "bidirectional": bidirectional})
        result = train(tiny_examples, tiny_examples, config, CELL_TRAINING, out, progress=False)
        models[name] = (out, [h.loss for h in result.history])
    return models


@pytest.mark.parametrize(
    "name", [*(f"{c}-both" for c in CELLS), "peephole-forward", "coupled-forward"]
)
def test_every_cell_trains_saves_loads_and_serves_as_eager_torch(cell_models, name) -> None:
    directory, losses = cell_models[name]
    cell, direction = name.split("-")
    assert losses[-1] < losses[0] / 2  # it learns
    saved = json.loads((directory / "config.json").read_text())
    assert (saved["cell"], saved["bidirectional"]) == (cell, direction == "both")
    loaded = artifact.load(directory)
    assert (loaded.config.cell, loaded.config.bidirectional) == (cell, direction == "both")
    assert loaded.graph is not None  # exported when saved
    served = Predictor.from_dir(directory)  # ONNX Runtime on the saved graph
    eager = Predictor.from_dir(directory, backend="torch")
    same(served.predict(TEXTS, batch_size=3), eager.predict(TEXTS, batch_size=3))


def test_the_own_cells_serve_without_torch(cell_models) -> None:
    dirs = [str(cell_models[n][0]) for n in ("peephole-both", "coupled-forward")]
    texts = ["leave Beijing on November 2nd", "from Miami to Atlanta", "thank you"]
    run = subprocess.run(
        [sys.executable, "-c", SERVE_WITHOUT_TORCH, json.dumps(texts), *dirs],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["torch"] is False
    for directory in dirs:
        eager = Predictor.from_dir(directory, backend="torch").predict(texts)
        assert result["spans"][directory] == [
            [[s.label, s.start, s.end] for s in p.spans] for p in eager
        ]


def test_cell_and_direction_survive_a_config_round_trip(cell_models) -> None:
    for cell in CELLS:
        for bidirectional in (True, False):
            config = TaggerConfig(cell=cell, bidirectional=bidirectional)
            assert TaggerConfig.model_validate_json(config.model_dump_json()) == config
    directory, _ = cell_models["coupled-forward"]
    config = TINY_TAGGER.model_copy(update={"cell": "coupled", "bidirectional": False})
    assert artifact.load(directory).config == config


def test_a_config_without_cell_or_direction_is_a_bidirectional_lstm(tiny_model_dir, tmp_path):
    model = tmp_path / "old"
    shutil.copytree(tiny_model_dir, model)
    raw = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(
        json.dumps({k: v for k, v in raw.items() if k not in ("cell", "bidirectional")})
    )
    meta = json.loads((model / "meta.json").read_text())  # the version covers config.json
    files = {f.name: f.read_bytes() for f in model.iterdir() if f.is_file()}
    meta["version"] = artifact.version_of(files, meta.get("calibration") or {})
    (model / "meta.json").write_text(json.dumps(meta))
    old = artifact.load(model, graph=False)  # the graph was exported from the other config.json
    assert (old.config.cell, old.config.bidirectional) == ("lstm", True)

    def answers(predictor: Predictor) -> list:
        return [
            (p.tags, [(s.label, s.start, s.end, s.confidence) for s in p.spans])
            for p in predictor.predict(TEXTS)
        ]

    assert answers(Predictor(old, backend="torch")) == answers(
        Predictor.from_dir(tiny_model_dir, backend="torch")
    )


def test_a_model_of_a_cell_this_release_cannot_run_is_refused_in_one_line(
    tiny_model_dir, tmp_path
) -> None:
    model = tmp_path / "newer"
    shutil.copytree(tiny_model_dir, model)
    raw = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**raw, "cell": "mlstm"}))
    message = (
        f"model at {model} uses the recurrent cell 'mlstm', which this slot-tagger cannot run "
        "(it runs lstm, peephole, coupled, gru, rnn): install the release that trained it, or "
        "retrain with `slot-tagger train --cell CELL`"
    )
    for with_tagger in (True, False):  # the torch-free server refuses it the same way
        with pytest.raises(IncompatibleModelError) as e:
            artifact.load(model, with_tagger=with_tagger)
        assert str(e.value) == message
    result = CliRunner().invoke(app, ["tag", "--model", str(model), "hi"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {message}"]
