"""The project's own cells against hand computations and torch's LSTM; the layer that runs them
against padding and reversal; the gate read-out against the gate equations."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from model.cells import CellRNN, CoupledLSTMCell, PeepholeLSTMCell, forget_gates


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
