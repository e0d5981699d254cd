"""The original LSTM: Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation
9(8):1735-1780, 1997 ([H97]). Memory cell blocks, input and output gates, no forget gate.

Shapes: B batch, I input, C blocks (``num_blocks``), S cells per block (``block_size``),
H = C*S cells (``hidden_size``), R = C + H + C units in the hidden layer (C fewer without output
gates). Weights may carry leading population dimensions (K, ...) matched by ``x`` (K, B, I).

The hidden layer's units, as receivers (rows of ``weight_ih``, ``weight_hh``, ``bias``) and as
senders (columns of ``weight_hh``), in the order of torch's i, g, o: input gates ``in_j``
(C), memory cells ``c_j^v`` (H, block-major: cell ``j*S + v``), output gates ``out_j`` (C).
The recurrent input is the whole hidden layer of the previous step,
``y_prev = [y^in, y^c, y^out](t-1)`` ("F" connectivity, [H97] §5.7 Table 10), so

    pre   = x_t @ weight_ih.T + y_prev @ weight_hh.T + bias        split into C | H | C
    i     = sigmoid(pre_in)                    y^{in_j}(t)   = f_{in_j}(net_{in_j}(t))
    o     = sigmoid(pre_out)                   y^{out_j}(t)  = f_{out_j}(net_{out_j}(t))
    c_t   = c_{t-1} + i[block] * g(pre_c)      s_{c_j^v}(t)  = s_{c_j^v}(t-1)
                                                                + y^{in_j}(t) g(net_{c_j^v}(t))
    h_t   = o[block] * h(c_t)                  y^{c_j^v}(t)  = y^{out_j}(t) h(s_{c_j^v}(t))

([H97] §4 and App. A.1, forward pass). The CEC's self-connection is the fixed 1.0 in
``c_{t-1} + ...``. Timing as in the experiments (§5 intro): the hidden units at step t read the
input of step t and the hidden layer of step t-1 (outputs then read the hidden units of step t,
see ``lstmlab.training._network1997``).
Defaults are the paper's squashing functions, eqs. (3)-(5) (``lstmlab.cells._squash``): gates
logistic in [0, 1], ``g = G2``: ``4 sigmoid(x) - 2`` in [-2, 2], ``h = H1``: ``2 sigmoid(x) - 1``
in [-1, 1]; experiments 2a/2b use ``g = LOGISTIC``, ``h = IDENTITY`` and no output gate
(``output_gate=False``: o = 1).

Symbols: net_{in_j}, net_{c_j^v}, net_{out_j} = ``pre`` split; w_{lm} = ``weight_ih[l, m]`` (m an
input unit), ``weight_hh[l, m]`` (m a hidden unit), ``bias[l]`` (m the bias unit);
s_{c_j^v} = ``c``; y^{c_j^v} = ``h``; y^{in_j} = ``i``; y^{out_j} = ``o``.

Truncation ([H97] §4 "Learning", App. A.1): with ``truncate_gradient=True`` the derivatives
``d net_{in_j}(t) / d y^u(t-1)``, ``d net_{out_j}(t) / d y^u(t-1)``, ``d net_{c_j}(t) / d y^u(t-1)``
are zero: ``y_prev`` is detached where it enters the net inputs, and error flows back in time
only through ``c`` (the CEC): the truncated derivatives of App. A.1 (eqs. 12-15), and
``d s_c(t) / d s_c(t-1) = 1`` exactly (App. A.2, eq. 35).

Bias units (Table 10): ``gate_bias`` for gates, ``cell_bias`` for cells. One ``bias`` vector of
length R holds them; entries of units without bias are held at zero by the buffer
``bias_mask`` and do not count as weights (``num_weights``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from lstmlab.cells._parameters import check_size, check_step
from lstmlab.cells._squash import G2, H1, Squash
from lstmlab.cells._state import Gates


class LSTM1997State(NamedTuple):
    """``h`` = y^c (B, H), ``c`` = s_c (B, H), and the gate activations the recurrence reads:
    ``input`` = y^in (B, C), ``output`` = y^out (B, C) (ones without output gates)."""

    h: Tensor
    c: Tensor
    input: Tensor
    output: Tensor


class LSTM1997Weights(NamedTuple):
    """``weight_ih`` (..., R, I), ``weight_hh`` (..., R, R) or None, ``bias`` (..., R) or None."""

    weight_ih: Tensor
    weight_hh: Tensor | None
    bias: Tensor | None


class LSTM1997Cell(nn.Module):
    """One step of a hidden layer of ``num_blocks`` memory cell blocks of ``block_size`` cells.

    ``input_gate_bias`` / ``output_gate_bias``: one initial bias per block (e.g. (-1, -2, -3, -4),
    [H97] Table 10); None draws them from ``generator``, uniform in
    [-random_gate_bias, random_gate_bias] (Table 10's "r": [-0.1, 0.1]), or like every other
    weight in [-init_range, init_range] when ``random_gate_bias`` is None. ``added_gate_bias``:
    a given bias is added to the gate's random bias weight, drawn like every other weight in
    [-init_range, init_range], instead of replacing it (the JKU simulator's ``initia``; the
    reading ``1:added-bias``).
    """

    def __init__(
        self, input_size: int, num_blocks: int, block_size: int = 1, *,
        output_gate: bool = True, recurrent: bool = True, gate_bias: bool = True,
        cell_bias: bool = False, g: Squash = G2, h: Squash = H1,
        truncate_gradient: bool = False, init_range: float = 0.1,
        input_gate_bias: Sequence[float] | None = None,
        output_gate_bias: Sequence[float] | None = None,
        random_gate_bias: float | None = None, generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None, device: torch.device | None = None,
        added_gate_bias: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("num_blocks", num_blocks),
                            ("block_size", block_size)):
            check_size(name, value)
        for name, given in (("input_gate_bias", input_gate_bias),
                            ("output_gate_bias", output_gate_bias)):
            if given is not None and len(given) != num_blocks:
                raise ValueError(f"{name} needs one value per block ({num_blocks}), got {given!r}")
            if given is not None and not gate_bias:
                raise ValueError(f"{name} given but gate_bias=False")
        if output_gate_bias is not None and not output_gate:
            raise ValueError("output_gate_bias given but output_gate=False")
        self.input_size, self.num_blocks, self.block_size = input_size, num_blocks, block_size
        self.hidden_size = num_blocks * block_size
        self.output_gate, self.recurrent, self.g, self.h = output_gate, recurrent, g, h
        self.truncate_gradient = truncate_gradient
        self.num_units = num_blocks + self.hidden_size + num_blocks * output_gate
        R = self.num_units
        factory = {"dtype": dtype, "device": device}
        self.weight_ih = nn.Parameter(torch.empty(R, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(R, R, **factory)) if recurrent else None
        mask = torch.zeros(R, dtype=torch.bool, device=device)
        mask[self.input_rows] = gate_bias
        mask[self.output_rows] = gate_bias
        mask[self.cell_rows] = cell_bias
        self.register_buffer("bias_mask", mask)
        self.bias = nn.Parameter(torch.empty(R, **factory)) if mask.any() else None
        self.reset_parameters(init_range, input_gate_bias, output_gate_bias,
                              random_gate_bias=random_gate_bias, generator=generator,
                              added_gate_bias=added_gate_bias)

    @property
    def input_rows(self) -> slice:
        return slice(0, self.num_blocks)

    @property
    def cell_rows(self) -> slice:
        return slice(self.num_blocks, self.num_blocks + self.hidden_size)

    @property
    def output_rows(self) -> slice:
        """Empty without output gates."""
        return slice(self.num_blocks + self.hidden_size, self.num_units)

    @property
    def num_weights(self) -> int:
        """Trainable connections as [H97] counts them (Table 10 column w, without outputs)."""
        count = self.weight_ih.numel() + int(self.bias_mask.sum())
        return count + (self.weight_hh.numel() if self.weight_hh is not None else 0)

    @torch.no_grad()
    def reset_parameters(
        self, init_range: float = 0.1, input_gate_bias: Sequence[float] | None = None,
        output_gate_bias: Sequence[float] | None = None, *,
        random_gate_bias: float | None = None, generator: torch.Generator | None = None,
        added_gate_bias: bool = False,
    ) -> None:
        """Uniform in [-init_range, init_range] ([H97] §5: 0.2 for exps 1-2, 0.1 otherwise),
        drawn in the order weight_ih, weight_hh, bias; gate biases rescaled to
        [-random_gate_bias, random_gate_bias] if given (no extra draws); then the given
        per-block gate biases, which replace the drawn ones, or with ``added_gate_bias`` are
        added to them as drawn in [-init_range, init_range] (not rescaled; no extra draws)."""
        if isinstance(init_range, bool) or not isinstance(init_range, int | float) \
                or not init_range > 0:
            raise ValueError(f"init_range must be a number > 0, got {init_range!r}")
        if random_gate_bias is not None and not random_gate_bias >= 0:
            raise ValueError(f"random_gate_bias must be None or >= 0, got {random_gate_bias!r}")
        for weight in (self.weight_ih, self.weight_hh, self.bias):
            if weight is not None:
                fill_uniform(weight, init_range, generator)
        if self.bias is None:
            return
        self.bias.mul_(self.bias_mask)
        drawn = self.bias.clone()
        if random_gate_bias is not None:
            for rows in (self.input_rows, self.output_rows):
                self.bias[rows] *= random_gate_bias / init_range
        for rows, given in ((self.input_rows, input_gate_bias),
                            (self.output_rows, output_gate_bias)):
            if given is not None:
                value = torch.as_tensor(given, dtype=self.bias.dtype, device=self.bias.device)
                self.bias[rows] = value + drawn[rows] if added_gate_bias else value

    def weights(self) -> LSTM1997Weights:
        """The parameters as the tuple ``step`` takes; the bias with its absent entries zeroed."""
        bias = self.bias * self.bias_mask if self.bias is not None else None
        return LSTM1997Weights(self.weight_ih, self.weight_hh, bias)

    @classmethod
    def for_layer(cls, block_size: int = 1, **options):
        """A cell factory for ``lstmlab.layers.LSTM(..., cell=...)``, whose cells are built as
        ``cell(input_size, hidden_size, bias, *, dtype, device)``: ``hidden_size`` cells in
        blocks of ``block_size``, gate biases when ``bias``; ``options`` go to the constructor."""
        def make(input_size: int, hidden_size: int, bias: bool = True, *,
                 dtype: torch.dtype | None = None, device: torch.device | None = None):
            if hidden_size % block_size:
                raise ValueError(f"hidden_size: expected a multiple of block_size={block_size}, "
                                 f"received {hidden_size}")
            return cls(input_size, hidden_size // block_size, block_size, gate_bias=bias,
                       dtype=dtype, device=device, **options)

        return make

    def initial_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None,
        device: torch.device | None = None, population: int | None = None,
    ) -> LSTM1997State:
        """All activations zero (the paper resets them before every sequence); shapes (B, .),
        or (K, B, .) with ``population=K``; in the parameters' dtype and device by default."""
        lead = (batch_size,) if population is None else (population, batch_size)
        dtype = self.weight_ih.dtype if dtype is None else dtype
        device = self.weight_ih.device if device is None else device
        def zeros(size: int) -> Tensor:  # one tensor per field: none aliases another
            return torch.zeros(*lead, size, dtype=dtype, device=device)

        output = zeros(self.num_blocks) if self.output_gate else zeros(self.num_blocks) + 1
        return LSTM1997State(zeros(self.hidden_size), zeros(self.hidden_size),
                             zeros(self.num_blocks), output)

    def forward(self, x: Tensor, state: LSTM1997State) -> tuple[LSTM1997State, Gates]:
        """One step with this module's parameters: ``x`` (B, I) -> state at t, gates (B, H)."""
        C, H = self.num_blocks, self.hidden_size
        check_step(x, self.weight_ih, self.input_size, state, (H, H, C, C))
        return self.step(x, state, self.weights())

    def step(
        self, x: Tensor, state: LSTM1997State, weights: LSTM1997Weights,
    ) -> tuple[LSTM1997State, Gates]:
        """One step with the given ``weights`` (leading K dims allowed, matched by ``x``)."""
        C, S = self.num_blocks, self.block_size
        pre = x @ weights.weight_ih.mT
        if weights.weight_hh is not None:
            y_prev = torch.cat([state.input, state.h, state.output][: 2 + self.output_gate], -1)
            if self.truncate_gradient:
                y_prev = y_prev.detach()  # App. A.1: d net(t) / d y^u(t-1) ~tr 0
            pre = pre + y_prev @ weights.weight_hh.mT
        if weights.bias is not None:
            pre = pre + weights.bias.unsqueeze(-2)
        pre_in, pre_c, pre_out = pre.split([C, self.hidden_size, self.num_units - C - C * S], -1)
        i = torch.sigmoid(pre_in)
        o = torch.sigmoid(pre_out) if self.output_gate else torch.ones_like(i)
        i_cells, o_cells = i.repeat_interleave(S, -1), o.repeat_interleave(S, -1)
        g = self.g.fn(pre_c)
        c = state.c + i_cells * g
        h = o_cells * self.h.fn(c)
        return LSTM1997State(h, c, i, o), Gates(i_cells, torch.ones_like(c), g, o_cells)

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, num_blocks={self.num_blocks}, "
                f"block_size={self.block_size}, output_gate={self.output_gate}, "
                f"recurrent={self.recurrent}, truncate_gradient={self.truncate_gradient}")


@torch.no_grad()
def fill_uniform(weight: Tensor, bound: float, generator: torch.Generator | None) -> None:
    """``weight`` <- U(-bound, bound) as ``(2 u - 1) * bound`` with ``u = rand(generator)``: the
    1997 networks' draws (cell and output weights alike), fixed so that a seed keeps its
    weights (``Tensor.uniform_`` would give other numbers)."""
    draw = torch.rand(weight.shape, generator=generator, dtype=weight.dtype,
                      device=weight.device)
    weight.copy_((2 * draw - 1) * bound)
