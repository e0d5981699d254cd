"""A standard LSTM layer's parameters under torch's names, and one step's gates from them.

Shapes: B batch, I input, H hidden, P projection (P = H without ``proj_size``). Gate order i, f,
g, o as in ``torch.nn.LSTM``: ``weight_ih`` (4H, I), ``weight_hh`` (4H, P), ``bias_ih``,
``bias_hh`` (4H), ``weight_hr`` (P, H).

    pre = x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh
    i, f, g, o = sigmoid(pre_i), sigmoid(pre_f), tanh(pre_g), sigmoid(pre_o)
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class StandardWeights(NamedTuple):
    """The parameters of one layer and direction, under torch's names (biases may be None)."""

    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Tensor | None
    bias_hh: Tensor | None
    weight_hr: Tensor | None


class FusedResult(NamedTuple):
    """``hidden`` (T, B, P) h_t for every step; ``gates`` (T, B, 4H) activated i, f, g, o and
    ``cell`` (T, B, H) c_t from the kernel's workspace, each None when it could not be read
    (then reconstruct the gates, and solve the recurrence for c)."""

    hidden: Tensor
    gates: Tensor | None
    cell: Tensor | None = None


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


def step_gates(weights: StandardWeights, x_t: Tensor, h_prev: Tensor) -> Tensor:
    """Activated gates (..., 4H) of one step from x_t (..., I) and h_{t-1} (..., P)."""
    pre = x_t @ weights.weight_ih.T + h_prev @ weights.weight_hh.T
    if weights.bias_ih is not None:
        pre = pre + weights.bias_ih + weights.bias_hh
    i, f, g, o = pre.chunk(4, dim=-1)
    return torch.cat([i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()], dim=-1)
