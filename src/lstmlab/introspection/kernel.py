"""One layer and direction of a standard LSTM through torch's fused kernel, plus its gates.

Shapes: T time, B batch, I input, H hidden, P projection (P = H without ``proj_size``). Gate
order i, f, g, o as in ``torch.nn.LSTM`` (``weight_ih`` is (4H, I), ``weight_hh`` (4H, P),
``weight_hr`` (P, H)).

``run_fused`` runs one forward-direction layer of torch's own kernel (oneDNN on CPU) on a
sequence already in processing order and returns the h sequence. On CPU in float32 without a
projection it asks oneDNN for its training workspace, where the kernel stores the activated
gates of every step it computed, laid out (T, B, ld) with ld = 4H rounded up as oneDNN's
``get_good_ld`` does. That layout is oneDNN's, not a public contract: every read is checked
against the gates recomputed from scratch at the first and last step (two rows of the
products), and on any mismatch, missing op or other configuration the gates are ``None`` and
the caller reconstructs them (``reconstruct.py``). Either way the numbers are the ones the
kernel's h sequence implies; the workspace only saves the second pass over the flops.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch
from torch import Tensor

# oneDNN's RNN mode enum as torch passes it (RNN_RELU, RNN_TANH, LSTM, GRU).
_MKLDNN_LSTM_MODE = 2
_WORKSPACE_CHECK_TOLERANCE = 1e-4


class StandardWeights(NamedTuple):
    """The parameters of one layer and direction, under torch's names (biases may be None)."""

    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Tensor | None
    bias_hh: Tensor | None
    weight_hr: Tensor | None


class FusedResult(NamedTuple):
    """``hidden`` (T, B, P) h_t for every step; ``gates`` (T, B, 4H) activated i, f, g, o from
    the kernel's workspace, or None when they could not be read (then reconstruct them)."""

    hidden: Tensor
    gates: Tensor | None


def standard_weights(model: torch.nn.Module, layer: int, direction: int) -> StandardWeights:
    """Read ``weight_ih_l{layer}[_reverse]`` etc. from a torch.nn.LSTM-compatible module."""
    suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")

    def get(name: str) -> Tensor | None:
        value = getattr(model, name + suffix, None)
        return None if value is None else value.detach()

    weight_ih, weight_hh = get("weight_ih"), get("weight_hh")
    if weight_ih is None or weight_hh is None:
        raise ValueError(
            f"model: expected parameters weight_ih{suffix} and weight_hh{suffix} "
            f"(torch.nn.LSTM names), got a {type(model).__name__} without them"
        )
    return StandardWeights(weight_ih, weight_hh, get("bias_ih"), get("bias_hh"), get("weight_hr"))


def _good_ld(width: int, itemsize: int) -> int:
    """oneDNN's leading dimension for a workspace row: rounded up to a cache line, then one more
    cache line when the row is a multiple of 256 elements (to avoid 4K aliasing)."""
    per_line = 64 // itemsize
    ld = -(-width // per_line) * per_line
    return ld + per_line if ld % 256 == 0 else ld


def _can_read_workspace(weights: StandardWeights, x: Tensor) -> bool:
    return (
        hasattr(torch.ops.aten, "mkldnn_rnn_layer")
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and weights.weight_hr is None
        and torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
        and x.numel() > 0
    )


def step_gates(weights: StandardWeights, x_t: Tensor, h_prev: Tensor) -> Tensor:
    """Activated gates (..., 4H) of one step from x_t (..., I) and h_{t-1} (..., P)."""
    pre = x_t @ weights.weight_ih.T + h_prev @ weights.weight_hh.T
    if weights.bias_ih is not None:
        pre = pre + weights.bias_ih + weights.bias_hh
    i, f, g, o = pre.chunk(4, dim=-1)
    return torch.cat([i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()], dim=-1)


def _workspace_run(
    weights: StandardWeights, x: Tensor, h0: Tensor, c0: Tensor
) -> FusedResult | None:
    steps, batch, _ = x.shape
    hidden_size = weights.weight_hh.shape[1]
    gate_width = 4 * hidden_size
    zero_bias = x.new_zeros(gate_width)
    bias_ih = zero_bias if weights.bias_ih is None else weights.bias_ih
    bias_hh = zero_bias if weights.bias_hh is None else weights.bias_hh
    try:
        # oneDNN only keeps a workspace when autograd is on; nothing here requires grad, so no
        # graph is recorded.
        with torch.enable_grad():
            hidden, _, _, workspace = torch.ops.aten.mkldnn_rnn_layer(
                x.contiguous(), weights.weight_ih, weights.weight_hh, bias_ih, bias_hh,
                h0.contiguous(), c0.contiguous(), False, [], _MKLDNN_LSTM_MODE, hidden_size, 1,
                True, False, False, True,
            )
    except RuntimeError:
        return None
    ld = _good_ld(gate_width, x.element_size())
    if workspace is None or workspace.dtype != torch.uint8 or workspace.numel() < (
        steps * batch * ld * x.element_size()
    ):
        return None
    gates = workspace.view(x.dtype)[: steps * batch * ld].view(steps, batch, ld)[..., :gate_width]
    first = step_gates(weights, x[0], h0)
    last = step_gates(weights, x[-1], hidden[-2] if steps > 1 else h0)
    for recomputed, stored in ((first, gates[0]), (last, gates[-1])):
        if not torch.allclose(recomputed, stored, rtol=0.0, atol=_WORKSPACE_CHECK_TOLERANCE):
            return None
    return FusedResult(hidden, gates)


def run_fused(
    weights: StandardWeights, x: Tensor, h0: Tensor, c0: Tensor, *, read_gates: bool = True
) -> FusedResult:
    """One forward-direction layer of torch's fused LSTM kernel.

    x (T, B, I) in processing order, h0 (B, P), c0 (B, H). Returns h (T, B, P) and, when
    ``read_gates`` and the kernel's workspace can be read and checks out, the gates.
    """
    with torch.no_grad():
        if read_gates and _can_read_workspace(weights, x):
            result = _workspace_run(weights, x, h0, c0)
            if result is not None:
                return result
        params = [weights.weight_ih, weights.weight_hh]
        has_biases = weights.bias_ih is not None
        if has_biases:
            params += [weights.bias_ih, weights.bias_hh]
        if weights.weight_hr is not None:
            params.append(weights.weight_hr)
        with warnings.catch_warnings():
            # torch notes once that oneDNN lacks projections: speed, nothing a caller can act on
            warnings.filterwarnings("ignore", "LSTM with projections is not supported")
            hidden, _, _ = torch._VF.lstm(
                x, (h0.unsqueeze(0), c0.unsqueeze(0)), params, has_biases, 1, 0.0, False, False,
                False,
            )
    return FusedResult(hidden, None)
