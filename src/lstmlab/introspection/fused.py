"""One layer and direction of a standard LSTM through torch's fused kernel.

Shapes: T time, B batch, I input, H hidden, P projection (P = H without ``proj_size``).

``run_fused`` runs one forward-direction layer of torch's own kernel (oneDNN on CPU, cuDNN on
GPU, torch's native kernel otherwise) on a sequence already in processing order and returns the
h sequence. Where oneDNN runs it (float32 on CPU without a projection) the layer runs in
training mode instead, and the gates and cell states the kernel kept in its workspace come
along, each checked against a recomputation (``workspace.py``); otherwise they are None and the
caller reconstructs them (``reconstruct.py``, ``recurrence.py``). Either way the numbers are the
ones the kernel's h sequence implies.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmlab.introspection.weights import (
    FusedResult,
    StandardWeights,
    standard_weights,
    step_gates,
)
from lstmlab.introspection.workspace import can_read_workspace, workspace_run

__all__ = ["FusedResult", "StandardWeights", "run_fused", "standard_weights", "step_gates"]


def run_fused(
    weights: StandardWeights, x: Tensor, h0: Tensor, c0: Tensor, *, read_gates: bool = True
) -> FusedResult:
    """One forward-direction layer of torch's fused LSTM kernel.

    x (T, B, I) in processing order, h0 (B, P), c0 (B, H). Returns h (T, B, P) and, when
    ``read_gates`` and the kernel's workspace can be read and checks out, the gates and cells.
    """
    with torch.no_grad():
        if read_gates and can_read_workspace(weights, x):
            result = workspace_run(weights, x, h0, c0)
            if result is not None:
                return result
        params = [weights.weight_ih, weights.weight_hh]
        has_biases = weights.bias_ih is not None
        if has_biases:
            params += [weights.bias_ih, weights.bias_hh]
        if weights.weight_hr is not None:
            params.append(weights.weight_hr)
        # with a projection on CPU torch notes once per process (as for nn.LSTM) that oneDNN
        # has none; no per-call warning filter (it resets Python's show-once memory)
        hidden, _, _ = torch._VF.lstm(
            x, (h0.unsqueeze(0), c0.unsqueeze(0)), params, has_biases, 1, 0.0, False, False,
            False,
        )
    return FusedResult(hidden, None)
