"""Gate saturation: how often each gate of each unit sits near 0 or near 1.

Karpathy, Johnson & Fei-Fei, "Visualizing and understanding recurrent networks", ICLR 2016
workshop (arXiv:1506.02078, 2015), §4.2 and Fig. 3: a gate is *left-saturated* at a step when
its activation is below 0.1 and *right-saturated* when above 0.9; a unit's point in their plot is
the fraction of steps of each kind. Right-saturated forget gates are integrators (the cell holds
its content); gates that are never saturated act as the paper's "fluctuating" switches.

Only the three sigmoid gates (input, forget, output) are measured, as in the paper: the
candidate g is a tanh in (-1, 1), where the 0.1/0.9 thresholds mean nothing. Masked-out steps
(past a sequence's end) are excluded from the counts. Shapes: T time, B batch, H hidden.
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from lstmlab.introspection._trace import LayerTrace, step_mask

SATURATION_GATES = ("input", "forget", "output")


class GateSaturation(NamedTuple):
    """Per unit (H,): fraction of real steps with the gate below ``low`` (``left``) and above
    ``high`` (``right``)."""

    left: Tensor
    right: Tensor


def gate_saturation(values: Tensor, mask: Tensor, *, low: float = 0.1,
                    high: float = 0.9) -> GateSaturation:
    """``values`` (T, B, H) of one gate, ``mask`` (T, B) True at real steps -> fractions (H,)."""
    if not 0 <= low < high <= 1:
        raise ValueError(f"low and high must satisfy 0 <= low < high <= 1, got {low}, {high}")
    real = mask.unsqueeze(-1)
    steps = real.sum((0, 1)).clamp(min=1).to(values.dtype)
    left = ((values < low) & real).sum((0, 1)).to(values.dtype) / steps
    right = ((values > high) & real).sum((0, 1)).to(values.dtype) / steps
    return GateSaturation(left, right)


def saturation(layer: LayerTrace, *, low: float = 0.1,
               high: float = 0.9) -> dict[str, GateSaturation]:
    """For ``input``, ``forget`` and ``output``: the ``GateSaturation`` of every unit."""
    mask = step_mask(layer)
    return {name: gate_saturation(getattr(layer, name), mask, low=low, high=high)
            for name in SATURATION_GATES}
