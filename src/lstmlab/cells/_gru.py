"""The gated recurrent unit, exactly ``torch.nn.GRU``'s equations (a baseline, not an LSTM).

Source: Cho, van Merrienboer, Gulcehre, Bahdanau, Bougares, Schwenk & Bengio, "Learning phrase
representations using RNN encoder-decoder for statistical machine translation", EMNLP 2014,
§2.3 (eqs. 5-8), in the form of torch's documentation of ``torch.nn.GRU``, which differs from
the paper in one place: the reset gate multiplies the recurrent product *after* it is computed,
``r * (h @ W_hn.T + b_hn)``, not the state before it (the cuDNN form; Chung et al. 2014 write
the paper's). With ``z`` torch's convention is the paper's: z = 1 keeps the old state.

Shapes: B batch, I input, H hidden. Gate order of the weight blocks: r, z, n (torch's).
Parameters, torch's names and shapes: ``weight_ih`` (3H, I), ``weight_hh`` (3H, H),
``bias_ih``, ``bias_hh`` (3H); the rows of each split into the ``_r, _z, _n`` blocks below.

    r_t = sigmoid(x_t @ weight_ih_r.T + bias_ih_r + h_{t-1} @ weight_hh_r.T + bias_hh_r)
    z_t = sigmoid(x_t @ weight_ih_z.T + bias_ih_z + h_{t-1} @ weight_hh_z.T + bias_hh_z)
    n_t = tanh(x_t @ weight_ih_n.T + bias_ih_n + r_t * (h_{t-1} @ weight_hh_n.T + bias_hh_n))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Cho et al.'s symbols: r = reset gate r_j, z = update gate z_j, n = the candidate h~_j.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmlab.cells._parameters import (
    check_size,
    check_step,
    register_weights,
    reset_uniform,
    zero_state,
)
from lstmlab.cells._state import GRUGates, HiddenState


class GRUCell(nn.Module):
    """One step of torch's GRU; the equations are in the module docstring.

    ``cell(x, HiddenState(h)) -> (HiddenState(h), GRUGates(reset, update, candidate))`` with
    ``x`` (B, I), ``h`` and every gate (B, H).
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *,
        dtype: torch.dtype | None = None, device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        register_weights(self, 3, hidden_size, bias, dtype=dtype, device=device)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.GRU``."""
        reset_uniform(self, generator)

    def initial_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> HiddenState:
        """Zeros ``h`` (batch_size, H), in the parameters' dtype and device by default."""
        return zero_state(self, HiddenState, (self.hidden_size,), batch_size, dtype=dtype,
                          device=device)

    def forward(self, x: Tensor, state: HiddenState) -> tuple[HiddenState, GRUGates]:
        """One step: ``x`` (B, I), ``state`` at t-1 -> state at t and the gates (B, H)."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size,))
        (h_prev,) = state
        input_r, input_z, input_n = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, dim=1)
        hidden_r, hidden_z, hidden_n = F.linear(h_prev, self.weight_hh, self.bias_hh).chunk(
            3, dim=1)
        r = torch.sigmoid(input_r + hidden_r)
        z = torch.sigmoid(input_z + hidden_z)
        n = torch.tanh(input_n + r * hidden_n)
        h = (1 - z) * n + z * h_prev
        return HiddenState(h), GRUGates(r, z, n)

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}, hidden_size={self.hidden_size}, bias={self.bias}"
