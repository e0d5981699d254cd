"""The simple recurrent net, exactly ``torch.nn.RNN``'s cell: the baseline without gates.

Sources: Elman, "Finding structure in time", Cognitive Science 14(2):179-211, 1990 (the
"simple recurrent network": context units hold the previous hidden state); the fully recurrent
nets trained by BPTT (Williams & Zipser 1995) and RTRL (Robinson & Fallside 1987; Williams &
Zipser 1989) that Hochreiter & Schmidhuber (1997, §5) compare LSTM against are the same step
with a logistic or tanh unit; here the nonlinearity is torch's: tanh or relu.

Shapes: B batch, I input, H hidden. Parameters, torch's names and shapes: ``weight_ih`` (H, I),
``weight_hh`` (H, H), ``bias_ih``, ``bias_hh`` (H).

    pre = x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh
    h_t = tanh(pre)          (nonlinearity="tanh", torch's default)
    h_t = relu(pre)          (nonlinearity="relu")

Elman's symbols: context units = h_{t-1}, hidden units = h_t; his output layer is not part of
the cell (a readout on ``h`` is). ``ElmanGates(pre)`` reports the pre-activation, the quantity
whose derivative tanh'(pre) makes the vanishing gradient (Hochreiter 1991; [H97] §3).
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
from lstmlab.cells._state import ElmanGates, HiddenState

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}


class ElmanCell(nn.Module):
    """One step of torch's simple RNN; the equations are in the module docstring.

    ``cell(x, HiddenState(h)) -> (HiddenState(h), ElmanGates(pre))`` with ``x`` (B, I), ``h`` and
    ``pre`` (B, H). ``nonlinearity`` is torch's string ("tanh" or "relu") so the constructor is
    a drop-in for ``torch.nn.RNNCell``'s.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
        *, dtype: torch.dtype | None = None, device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"nonlinearity must be one of {sorted(NONLINEARITIES)}, got {nonlinearity!r}"
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.nonlinearity = nonlinearity
        self.activation = NONLINEARITIES[nonlinearity]
        register_weights(self, 1, hidden_size, bias, dtype=dtype, device=device)
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.RNN``."""
        reset_uniform(self, generator)

    def initial_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> HiddenState:
        """Zeros ``h`` (batch_size, H), in the parameters' dtype and device by default."""
        return zero_state(self, HiddenState, (self.hidden_size,), batch_size, dtype=dtype,
                          device=device)

    def forward(self, x: Tensor, state: HiddenState) -> tuple[HiddenState, ElmanGates]:
        """One step: ``x`` (B, I), ``state`` at t-1 -> state at t and the pre-activation."""
        check_step(x, self.weight_ih, self.input_size, state, (self.hidden_size,))
        (h_prev,) = state
        pre = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(
            h_prev, self.weight_hh, self.bias_hh)
        h = self.activation(pre)
        return HiddenState(h), ElmanGates(pre)

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"bias={self.bias}, nonlinearity={self.nonlinearity!r}")
