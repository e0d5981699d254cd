"""The layer-normalized LSTM: the forget-gate LSTM with layer normalization inside the step.

Source: Ba, Kiros & Hinton, "Layer Normalization", arXiv:1607.06450, 2016: §3.1 (layer-
normalized recurrent networks, statistics per time step) and the LSTM form of its supplementary
material (the skip-thought and attentive-reader experiments): the two products are normalized
separately, each over all 4H gate pre-activations at once, and the cell state is normalized
before the output squash.

Shapes: B batch, I input, H hidden. Gate order: i, f, g, o (torch's). Parameters: torch's
``weight_ih`` (4H, I), ``weight_hh`` (4H, H), ``bias_ih``, ``bias_hh`` (4H) (their sum is the
paper's b), and the normalizations' gains and biases ``ln_ih_weight``, ``ln_ih_bias``,
``ln_hh_weight``, ``ln_hh_bias`` (4H), ``ln_cell_weight``, ``ln_cell_bias`` (H).

    LN(a; w, b) = (a - mean(a)) / sqrt(var(a) + eps) * w + b      over the last axis, var biased
    pre = LN(x_t @ weight_ih.T; ln_ih_weight, ln_ih_bias)
        + LN(h_{t-1} @ weight_hh.T; ln_hh_weight, ln_hh_bias) + bias_ih + bias_hh
    i_t, f_t, o_t = sigmoid(pre_i), sigmoid(pre_f), sigmoid(pre_o);  g_t = tanh(pre_g)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(LN(c_t; ln_cell_weight, ln_cell_bias))

Ba et al.'s symbols -> ours: W_x, W_h = weight_ih, weight_hh; alpha_2, beta_2 = ln_ih_weight,
ln_ih_bias; alpha_1, beta_1 = ln_hh_weight, ln_hh_bias; alpha_3, beta_3 = ln_cell_weight,
ln_cell_bias; b = bias_ih + bias_hh. eps = 1e-5, torch's ``nn.LayerNorm`` default.
Initialization: the weights and biases as ``torch.nn.LSTM`` draws them (the same draws from the
same generator), gains 1, normalization biases 0.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstmlab.cells._parameters import check_size, check_step, register_weights, zero_state
from lstmlab.cells._state import Gates, LSTMState


class LayerNormLSTMCell(nn.Module):
    """One step of the layer-normalized LSTM; the equations are in the module docstring.

    ``cell(x, LSTMState(h, c)) -> (LSTMState(h, c), Gates(input, forget, candidate, output))``,
    ``x`` (B, I), every other tensor (B, H). A ``cell=`` of ``lstmlab.layers.LSTM``.
    """

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, *, eps: float = 1e-5,
        dtype: torch.dtype | None = None, device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        check_size("input_size", input_size)
        check_size("hidden_size", hidden_size)
        if not isinstance(eps, int | float) or isinstance(eps, bool) or not eps > 0:
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        self.input_size, self.hidden_size, self.bias, self.eps = (
            input_size, hidden_size, bias, float(eps))
        register_weights(self, 4, hidden_size, bias, dtype=dtype, device=device)
        factory = {"dtype": dtype, "device": device}
        for name, size in (("ih", 4 * hidden_size), ("hh", 4 * hidden_size),
                           ("cell", hidden_size)):
            setattr(self, f"ln_{name}_weight", nn.Parameter(torch.empty(size, **factory)))
            setattr(self, f"ln_{name}_bias", nn.Parameter(torch.empty(size, **factory)))
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Weights and biases ~ U(-1/sqrt(H), 1/sqrt(H)) in torch's order; gains 1, LN biases 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for name, parameter in self.named_parameters():
                if name.startswith("ln_"):
                    parameter.fill_(1.0 if name.endswith("weight") else 0.0)
                else:
                    parameter.uniform_(-bound, bound, generator=generator)

    def initial_state(
        self, batch_size: int, *, dtype: torch.dtype | None = None,
        device: torch.device | None = None,
    ) -> LSTMState:
        """Zeros: ``h`` and ``c`` (batch_size, H)."""
        return zero_state(self, LSTMState, (self.hidden_size, self.hidden_size), batch_size,
                          dtype=dtype, device=device)

    def forward(self, x: Tensor, state: LSTMState) -> tuple[LSTMState, Gates]:
        """One step: ``x`` (B, I), ``state`` at t-1 -> state at t and the gates (B, H)."""
        check_step(x, self.weight_ih, self.input_size, state,
                   (self.hidden_size, self.hidden_size))
        h_prev, c_prev = state
        rows = (4 * self.hidden_size,)
        pre = F.layer_norm(F.linear(x, self.weight_ih), rows, self.ln_ih_weight,
                           self.ln_ih_bias, self.eps) \
            + F.layer_norm(F.linear(h_prev, self.weight_hh), rows, self.ln_hh_weight,
                           self.ln_hh_bias, self.eps)
        if self.bias_ih is not None:
            pre = pre + self.bias_ih + self.bias_hh
        pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=1)
        i = torch.sigmoid(pre_i)
        f = torch.sigmoid(pre_f)
        g = torch.tanh(pre_g)
        o = torch.sigmoid(pre_o)
        c = f * c_prev + i * g
        h = o * torch.tanh(F.layer_norm(c, (self.hidden_size,), self.ln_cell_weight,
                                        self.ln_cell_bias, self.eps))
        return LSTMState(h, c), Gates(i, f, g, o)

    def extra_repr(self) -> str:
        return (f"input_size={self.input_size}, hidden_size={self.hidden_size}, "
                f"bias={self.bias}, eps={self.eps}")
