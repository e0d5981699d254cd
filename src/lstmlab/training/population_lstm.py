"""A population of standard LSTMs as one block-diagonal LSTM: torch's fused kernel for all K.

K members with cells :class:`~lstmlab.cells._lstm.LSTMCell` (I inputs, H cells, no projection)
are one LSTM of K·H cells reading K·I inputs whose weights are block-diagonal: member k's cells
see only member k's inputs and member k's previous outputs. For each gate q in (i, f, g, o)

    W_ih[q] = blockdiag(weight_ih_1[q], ..., weight_ih_K[q])      (K·H, K·I)
    W_hh[q] = blockdiag(weight_hh_1[q], ..., weight_hh_K[q])      (K·H, K·H)
    b[q]    = [bias_1[q], ..., bias_K[q]]                          (K·H,)

and the K readouts act on their own slices of h. Off the blocks the weights are exact zeros,
which add exact zeros, so every member's outputs are its own network's. The blocks are built
from the stacked parameters by a differentiable ``einsum`` with the identity, so autograd hands
back each member's own gradient (the off-block gradients never reach a parameter). One call of
``torch.lstm`` (oneDNN on CPU, cuDNN on GPU) replaces the Python step loop.

One member's NaN or inf makes every member's outputs NaN (0 * inf = NaN through the
off-diagonal zeros); :class:`~lstmlab.training.population.LockstepBPTT` then redoes the batch
with :func:`~lstmlab.training.population.vmap_forward`, which keeps members apart, so only the
culprit is reported diverged. Finished members are run on zeros, so they cannot leak later.

The K·H × K·I matrices cost K times the arithmetic of K separate nets; at the 1997 sizes
(H ≈ 8) the saved per-step overhead is worth far more. Shapes: K members, T time, B batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from lstmlab.cells import LSTMCell
from lstmlab.training.model import SequenceModel

GATES = 4  # i, f, g, o, torch's order


def block_diagonal_lstm(
    template: SequenceModel,
) -> Callable[[dict[str, Tensor], Tensor], Tensor]:
    """The batched forward ``(params (K, ...), inputs (K, T, B, I)) -> outputs (K, T, B, O)``
    for a population of ``template``'s architecture (an LSTMCell without projection)."""
    cell = template.cell
    if type(cell) is not LSTMCell or cell.proj_size:
        raise ValueError(f"template.cell: expected an LSTMCell without projection, received "
                         f"{cell!r}")
    has_bias = cell.bias
    hidden = cell.hidden_size

    def forward(params: dict[str, Tensor], inputs: Tensor) -> Tensor:
        count, steps, batch, _ = inputs.shape
        flat = [_blocks(params["cell.weight_ih"]), _blocks(params["cell.weight_hh"])]
        if has_bias:
            flat += [_gate_major(params["cell.bias_ih"]), _gate_major(params["cell.bias_hh"])]
        xs = inputs.permute(1, 2, 0, 3).reshape(steps, batch, -1)  # (T, B, K·I)
        zeros = xs.new_zeros(1, batch, count * hidden)
        hs, _, _ = torch.lstm(xs, (zeros, zeros), flat, has_bias, 1, 0.0, True, False, False)
        hs = hs.view(steps, batch, count, hidden).permute(2, 0, 1, 3)  # (K, T, B, H)
        y = torch.einsum("ktbh,koh->ktbo", hs, params["readout.weight"])
        if "readout.bias" in params:
            y = y + params["readout.bias"][:, None, None, :]
        return y if template.squash is None else template.squash(y)

    return forward


def _blocks(weight: Tensor) -> Tensor:
    """(K, 4H, J) -> (4·K·H, K·J): per gate, the K matrices on the diagonal."""
    count, rows, cols = weight.shape
    eye = torch.eye(count, dtype=weight.dtype, device=weight.device)
    per_gate = weight.view(count, GATES, rows // GATES, cols)
    return torch.einsum("kghj,kl->gkhlj", per_gate, eye).reshape(rows * count, count * cols)


def _gate_major(bias: Tensor) -> Tensor:
    """(K, 4H) -> (4·K·H,): gate-major, then member, then cell."""
    count, rows = bias.shape
    return bias.view(count, GATES, rows // GATES).transpose(0, 1).reshape(-1)
