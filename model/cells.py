"""The recurrent cells of this project: the peephole LSTM and the coupled-gate LSTM, written from
their gate equations, the layer that runs them over padded batches (several layers, one or two
directions), their ONNX export, and the gate activations a trained network produces.

lstm, gru and rnn are torch's fused modules (model/tagger.py); the two cells here exist because
torch has none. Both export to ONNX's own LSTM operator, which has peephole weights (``P``) and
a coupled input and forget gate (``input_forget=1``), so every cell serves on ONNX Runtime.

Notation, per sentence and step t: x_t the input (I), h_t the output (H), c_t the cell state
(H); sigma the logistic function, * the element-wise product. Weights follow torch's layout:
``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), ``bias_ih`` and ``bias_hh`` (G*H,), gates
stacked in the order the cell lists (G gates).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from model.config import Cell

OWN_CELLS: tuple[Cell, ...] = ("peephole", "coupled")  # the ones written here
# ONNX's LSTM stacks its gates i, o, f, c; a cell's rows in ONNX order, by the cell's own gate name.
ONNX_GATES = ("i", "o", "f", "g")
ONNX_PEEPHOLES = ("i", "o", "f")  # and its peephole weights i, o, f
ONNX_INT32 = 6  # onnx.TensorProto.INT32, the type of the LSTM operator's sequence_lens


class PeepholeLSTMCell(nn.Module):
    """An LSTM whose gates also look at the cell state (Gers & Schmidhuber 2000): the input and
    forget gates at c_{t-1}, the output gate at the new c_t. Gates stacked i, f, g, o (torch's
    LSTMCell order, so that zero peephole weights make it exactly ``nn.LSTMCell``).

    Args:
        input_dim: I.
        hidden_dim: H.
    """

    GATES = ("i", "f", "g", "o")

    def __init__(self, input_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_dim, input_dim))  # (4H, I)
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_dim, hidden_dim))  # (4H, H)
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_dim))  # (4H,)
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_dim))  # (4H,)
        self.peephole = nn.Parameter(torch.empty(3 * hidden_dim))  # (3H,): p_i, p_f, p_o
        _init_uniform(self, hidden_dim)

    def forward(
        self, x_part: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step. ``x_part`` is W x_t + b_ih, computed for all steps at once (:func:`project`).

        Args:
            x_part: (B, 4H); h: (B, H) h_{t-1}; c: (B, H) c_{t-1}.

        Returns:
            h_t (B, H), c_t (B, H) and the forget gate f_t (B, H).
        """
        z = x_part + h @ self.weight_hh.T + self.bias_hh  # (B, 4H): W x_t + U h_{t-1} + b
        z_i, z_f, z_g, z_o = z.chunk(4, dim=1)  # 4 x (B, H)
        p_i, p_f, p_o = self.peephole.chunk(3)  # 3 x (H,)
        i = torch.sigmoid(z_i + p_i * c)  # (B, H)  i_t = σ(W_i x_t + U_i h_{t-1} + p_i*c_{t-1}+b_i)
        f = torch.sigmoid(z_f + p_f * c)  # (B, H)  f_t = σ(W_f x_t + U_f h_{t-1} + p_f*c_{t-1}+b_f)
        g = torch.tanh(z_g)  # (B, H)  g_t = tanh(W_g x_t + U_g h_{t-1} + b_g)
        c = f * c + i * g  # (B, H)  c_t = f_t*c_{t-1} + i_t*g_t
        o = torch.sigmoid(z_o + p_o * c)  # (B, H)  o_t = σ(W_o x_t + U_o h_{t-1} + p_o*c_t + b_o)
        h = o * torch.tanh(c)  # (B, H)  h_t = o_t*tanh(c_t)
        return h, c, f


class CoupledLSTMCell(nn.Module):
    """An LSTM whose forget gate is the complement of its input gate: what is forgotten is what
    is written over (f = 1 - i; Greff et al. 2017's CIFG). Three gates, stacked i, g, o.

    Args:
        input_dim: I.
        hidden_dim: H.
    """

    GATES = ("i", "g", "o")

    def __init__(self, input_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.hidden_dim = hidden_dim
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_dim, input_dim))  # (3H, I)
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_dim, hidden_dim))  # (3H, H)
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_dim))  # (3H,)
        self.bias_hh = nn.Parameter(torch.empty(3 * hidden_dim))  # (3H,)
        _init_uniform(self, hidden_dim)

    def forward(
        self, x_part: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step. ``x_part`` is W x_t + b_ih, computed for all steps at once (:func:`project`).

        Args:
            x_part: (B, 3H); h: (B, H) h_{t-1}; c: (B, H) c_{t-1}.

        Returns:
            h_t (B, H), c_t (B, H) and the forget gate f_t = 1 - i_t (B, H).
        """
        z = x_part + h @ self.weight_hh.T + self.bias_hh  # (B, 3H): W x_t + U h_{t-1} + b
        z_i, z_g, z_o = z.chunk(3, dim=1)  # 3 x (B, H)
        i = torch.sigmoid(z_i)  # (B, H)  i_t = σ(W_i x_t + U_i h_{t-1} + b_i)
        f = 1.0 - i  # (B, H)  f_t = 1 - i_t
        g = torch.tanh(z_g)  # (B, H)  g_t = tanh(W_g x_t + U_g h_{t-1} + b_g)
        c = f * c + i * g  # (B, H)  c_t = f_t*c_{t-1} + i_t*g_t
        o = torch.sigmoid(z_o)  # (B, H)  o_t = σ(W_o x_t + U_o h_{t-1} + b_o)
        h = o * torch.tanh(c)  # (B, H)  h_t = o_t*tanh(c_t)
        return h, c, f


OwnCell = PeepholeLSTMCell | CoupledLSTMCell
_CELL_CLASSES: dict[str, type[OwnCell]] = {
    "peephole": PeepholeLSTMCell,
    "coupled": CoupledLSTMCell,
}


def _init_uniform(module: nn.Module, hidden_dim: int) -> None:
    """torch's recurrent initialisation: every weight uniform in +-1/sqrt(H)."""
    bound = 1.0 / math.sqrt(hidden_dim)
    for parameter in module.parameters():
        nn.init.uniform_(parameter, -bound, bound)


def project(cell: OwnCell, x: torch.Tensor) -> torch.Tensor:
    """The input's part of every gate, all steps at once: (B, T, I) -> (B, T, G*H)."""
    return x @ cell.weight_ih.T + cell.bias_ih  # (B, T, G*H)


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each sentence's steps in reverse order, padding left at the end: (B, T, D) -> (B, T, D)."""
    steps = torch.arange(x.shape[1], device=x.device)  # (T,)
    back = lengths.to(x.device)[:, None] - 1 - steps[None, :]  # (B, T)
    index = torch.where(back >= 0, back, steps[None, :])  # (B, T): padding stays in place
    return x.gather(1, index[:, :, None].expand_as(x))  # (B, T, D)


def run_cell(
    cell: OwnCell, x: torch.Tensor, lengths: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One direction of one layer over a padded batch, left to right.

    Args:
        cell: the cell.
        x: (B, T, I) inputs, each sentence's steps first, then padding.
        lengths: (B,) each sentence's number of steps.

    Returns:
        h (B, T, H), zero at padding (as torch's packed modules give), and the forget gates
        (B, T, H).
    """
    batch, seq_len, _ = x.shape
    mask = torch.arange(seq_len)[None, :] < lengths.cpu()[:, None]  # (B, T)
    mask = mask.to(x.device)[:, :, None]  # (B, T, 1)
    x_parts = project(cell, x)  # (B, T, G*H)
    h = x.new_zeros(batch, cell.hidden_dim)  # (B, H) h_0
    c = x.new_zeros(batch, cell.hidden_dim)  # (B, H) c_0
    outputs, forgets = [], []
    for t in range(seq_len):
        h_t, c_t, f_t = cell(x_parts[:, t], h, c)  # (B, H) each
        keep = mask[:, t]  # (B, 1): past a sentence's end its state stays
        h = torch.where(keep, h_t, h)  # (B, H)
        c = torch.where(keep, c_t, c)  # (B, H)
        outputs.append(h_t * keep)  # (B, H)
        forgets.append(f_t)  # (B, H)
    return torch.stack(outputs, dim=1), torch.stack(forgets, dim=1)  # (B, T, H) x 2


class CellRNN(nn.Module):
    """Layers of one of this project's cells over padded batches, one or two directions; the
    second direction runs each sentence reversed (its padding left at the end). The interface of
    the tagger's recurrent layer: (B, T, I) and lengths (B,) in, (B, T, D*H) out.

    Args:
        cell: "peephole" or "coupled".
        input_dim: I.
        hidden_dim: H, per direction.
        layers: stacked layers (each reads the previous one's outputs, both directions).
        bidirectional: D = 2 if so, else 1.
        dropout: between layers, in training.
    """

    def __init__(
        self,
        cell: Cell,
        input_dim: int,
        hidden_dim: int,
        layers: int = 1,
        bidirectional: bool = True,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in _CELL_CLASSES:
            raise ValueError(f"expected a cell among {sorted(_CELL_CLASSES)}, got {cell!r}")
        self.cell, self.hidden_dim, self.layers = cell, hidden_dim, layers
        self.directions = 2 if bidirectional else 1
        cls = _CELL_CLASSES[cell]
        self.cells = nn.ModuleList(
            cls(input_dim if layer == 0 else self.directions * hidden_dim, hidden_dim)
            for layer in range(layers)
            for _ in range(self.directions)
        )  # layer l, direction d at l * D + d
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T, I), (B,) -> (B, T, D*H), zero at padding."""
        if torch.onnx.is_in_onnx_export():
            weights = [p for cell in self.cells for p in cell.parameters()]
            return _cell_rnn(x, lengths, weights, self.cell, self.layers, self.directions)
        return self.run(x, lengths)[0]

    def run(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The outputs (B, T, D*H) and the first layer's forget gates (D, B, T, H), each
        direction's in the sentence's own order."""
        first_forgets = None
        for layer in range(self.layers):
            outputs, forgets = [], []
            for d in range(self.directions):
                cell = self.cells[layer * self.directions + d]
                if d == 0:
                    out, f = run_cell(cell, x, lengths)  # (B, T, H) x 2
                else:
                    out, f = run_cell(cell, reverse_padded(x, lengths), lengths)
                    out, f = reverse_padded(out, lengths), reverse_padded(f, lengths)
                outputs.append(out)
                forgets.append(f)
            x = torch.cat(outputs, dim=2)  # (B, T, D*H)
            if layer < self.layers - 1:
                x = self.dropout(x)
            if first_forgets is None:
                first_forgets = torch.stack(forgets)  # (D, B, T, H)
        assert first_forgets is not None
        return x, first_forgets


@torch.library.custom_op("slot_tagger::cell_rnn", mutates_args=())
def _cell_rnn(
    x: torch.Tensor,
    lengths: torch.Tensor,
    weights: list[torch.Tensor],
    cell: str,
    layers: int,
    directions: int,
) -> torch.Tensor:
    """Export only: a :class:`CellRNN` as one traced node (a copy of it, from its weights), which
    :func:`_cell_rnn_onnx` writes as ONNX LSTM operators. (B, T, I), (B,) -> (B, T, D*H)."""
    hidden = weights[1].shape[1]  # weight_hh: (G*H, H)
    rnn = CellRNN(cell, x.shape[2], hidden, layers, directions == 2)  # type: ignore[arg-type]
    with torch.no_grad():
        for parameter, weight in zip(rnn.parameters(), weights, strict=True):
            parameter.copy_(weight)
        return rnn.run(x, lengths)[0]  # (B, T, D*H)


@_cell_rnn.register_fake
def _(x, lengths, weights, cell, layers, directions):  # type: ignore[no-untyped-def]
    return x.new_empty(x.shape[0], x.shape[1], directions * weights[1].shape[1])


def _cell_rnn_onnx(
    g: Any, x: Any, lengths: Any, weights: Any, cell: Any, layers: Any, directions: Any
) -> Any:
    """ONNX LSTM operators, one per layer, whose peephole input ``P`` and ``input_forget``
    attribute are the two cells. Every weight enters the graph as it is, its rows reordered into
    ONNX's gate order by Slice and Concat nodes (folded when ONNX Runtime loads the graph), so
    the graph's tensors stay the weights file's."""
    from torch.onnx import symbolic_helper

    weights = symbolic_helper._unpack_list(weights)
    cell = symbolic_helper._maybe_get_const(cell, "s")
    layers = symbolic_helper._get_const(layers, "i", "layers")
    directions = symbolic_helper._get_const(directions, "i", "directions")
    per_cell = 5 if cell == "peephole" else 4  # weight_ih, weight_hh, bias_ih, bias_hh[, P]
    cells = [weights[i : i + per_cell] for i in range(0, len(weights), per_cell)]
    direction = "bidirectional" if directions == 2 else "forward"
    sequence_lens = g.op("Cast", lengths, to_i=ONNX_INT32)  # (B,) int32
    h = g.op("Transpose", x, perm_i=[1, 0, 2])  # (T, B, I): ONNX's layout 0
    gates = _CELL_CLASSES[cell].GATES
    hidden = weights[1].type().sizes()[1]  # weight_hh: (G*H, H)

    def stacked(rows: list[Any]) -> Any:  # D x (...) -> (D, ...)
        return g.op("Concat", *[_unsqueeze(g, r) for r in rows], axis_i=0)

    for layer in range(layers):
        mine = cells[layer * directions : (layer + 1) * directions]
        w = stacked([_onnx_rows(g, c[0], gates, hidden) for c in mine])  # (D, 4H, I)
        r = stacked([_onnx_rows(g, c[1], gates, hidden) for c in mine])  # (D, 4H, H)
        biases = [
            g.op(
                "Concat",
                _onnx_rows(g, c[2], gates, hidden),
                _onnx_rows(g, c[3], gates, hidden),
                axis_i=0,
            )
            for c in mine
        ]
        b = stacked(biases)  # (D, 8H): ONNX's W_b then R_b
        inputs = [h, w, r, b, sequence_lens]
        if cell == "peephole":
            peepholes = [_onnx_rows(g, c[4], ("i", "f", "o"), hidden, ONNX_PEEPHOLES) for c in mine]
            inputs += [_none(g), _none(g), stacked(peepholes)]  # P: (D, 3H)
        y, _, _ = g.op(
            "LSTM",
            *inputs,
            hidden_size_i=hidden,
            direction_s=direction,
            input_forget_i=int(cell == "coupled"),
            outputs=3,
        )  # y: (T, D, B, H)
        y = g.op("Transpose", y, perm_i=[0, 2, 1, 3])  # (T, B, D, H)
        h = g.op("Reshape", y, _int64(g, 0, 0, -1))  # (T, B, D*H): 0 copies a dimension
    return g.op("Transpose", h, perm_i=[1, 0, 2])  # (B, T, D*H)


def register_onnx(opset: int) -> None:
    """Teach torch's ONNX exporter the cells (model/graph.py calls it before exporting)."""
    torch.onnx.register_custom_op_symbolic("slot_tagger::cell_rnn", _cell_rnn_onnx, opset)


def _onnx_rows(
    g: Any, tensor: Any, gates: tuple[str, ...], hidden: int, order: tuple[str, ...] = ONNX_GATES
) -> Any:
    """A weight's gate rows in ONNX's order (i, o, f, c; i, o, f for peepholes). A coupled cell
    has no forget rows: its input gate's stand in, which ONNX Runtime ignores under
    ``input_forget=1`` (f = 1 - i)."""
    index = {gate: n for n, gate in enumerate(gates)}
    rows = [_slice(g, tensor, index.get(gate, index["i"]) * hidden, hidden) for gate in order]
    return g.op("Concat", *rows, axis_i=0)


def _int64(g: Any, *values: int) -> Any:
    return g.op("Constant", value_t=torch.tensor(values, dtype=torch.int64))


def _slice(g: Any, tensor: Any, start: int, size: int) -> Any:
    return g.op("Slice", tensor, _int64(g, start), _int64(g, start + size), _int64(g, 0))


def _unsqueeze(g: Any, tensor: Any) -> Any:
    return g.op("Unsqueeze", tensor, _int64(g, 0))


def _none(g: Any) -> Any:
    """An omitted optional input of an ONNX operator."""
    return g.op("prim::Constant").setType(torch._C.OptionalType.ofTensor())


# ----- gate activations of a trained network -----


def forget_gates(rnn: nn.Module, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor | None:
    """The first layer's forget gate at every step, what a cell keeps of its state: f_t for the
    LSTMs (1 - i_t for the coupled one), z_t for the GRU (h_t = (1 - z_t)*n_t + z_t*h_{t-1});
    None for the plain RNN, which has no gate.

    Args:
        rnn: the tagger's recurrent layer (``BiLSTMTagger.rnn``).
        x: (B, T, I) its inputs; lengths: (B,).

    Returns:
        (D, B, T, H), each direction's in the sentence's own order.
    """
    with torch.no_grad():
        if isinstance(rnn, CellRNN):
            return rnn.run(x, lengths)[1]
        if isinstance(rnn, nn.LSTM):
            own = CellRNN("peephole", x.shape[2], rnn.hidden_size, 1, rnn.bidirectional)
            for d, cell in enumerate(own.cells):
                suffix = "_reverse" if d else ""
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(cell, name).copy_(getattr(rnn, f"{name}_l0{suffix}"))
                cell.peephole.zero_()  # with zero peepholes, exactly torch's LSTM
            return own.run(x, lengths)[1]
        if isinstance(rnn, nn.GRU):
            return torch.stack(
                [_gru_update_gates(rnn, x, lengths, d) for d in range(1 + rnn.bidirectional)]
            )
    return None


def _gru_update_gates(rnn: nn.GRU, x: torch.Tensor, lengths: torch.Tensor, d: int) -> torch.Tensor:
    """torch's GRU (gates r, z, n), one direction of its first layer, stepped by hand."""
    suffix = "_reverse" if d else ""
    w_ih, w_hh = getattr(rnn, f"weight_ih_l0{suffix}"), getattr(rnn, f"weight_hh_l0{suffix}")
    b_ih, b_hh = getattr(rnn, f"bias_ih_l0{suffix}"), getattr(rnn, f"bias_hh_l0{suffix}")
    if d:
        x = reverse_padded(x, lengths)
    x_parts = x @ w_ih.T + b_ih  # (B, T, 3H)
    h = x.new_zeros(x.shape[0], rnn.hidden_size)  # (B, H)
    updates = []
    for t in range(x.shape[1]):
        x_r, x_z, x_n = x_parts[:, t].chunk(3, dim=1)  # 3 x (B, H)
        h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=1)  # 3 x (B, H)
        r = torch.sigmoid(x_r + h_r)  # (B, H)  r_t = σ(W_r x_t + U_r h_{t-1} + b_r)
        z = torch.sigmoid(x_z + h_z)  # (B, H)  z_t = σ(W_z x_t + U_z h_{t-1} + b_z)
        n = torch.tanh(x_n + r * h_n)  # (B, H)  n_t = tanh(W_n x_t + r_t*(U_n h_{t-1} + b_n))
        h = (1 - z) * n + z * h  # (B, H)  h_t = (1 - z_t)*n_t + z_t*h_{t-1}
        updates.append(z)
    z_all = torch.stack(updates, dim=1)  # (B, T, H)
    return reverse_padded(z_all, lengths) if d else z_all
