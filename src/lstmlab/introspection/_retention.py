"""Retention: how much of what step t wrote into the cell is still there at the end.

Shapes: T time, B batch, H hidden. Positions are input positions (as in ``Trace``); "after"
means later in the direction's processing order (earlier positions for a reverse direction).

The cell state is linear in what each step writes (Gers, Schmidhuber & Cummins 2000, eq. 2,
c_t = f_t * c_{t-1} + i_t * g_t). Unrolled to the last step T of a sequence:

    c_T = (prod_{s<=T} f_s) * c_0  +  sum_t (prod_{s=t+1..T} f_s) * i_t * g_t

so, per unit, ``retention[t] = prod_{s=t+1..T} f_s`` is the share of step t's write
``i_t * g_t`` that survives to T (1 at t = T; the constant error carousel of the 1997 paper,
where f = 1, keeps everything). The products are reverse cumulative products of f, never a
division by f: an f that underflows makes later products 0, not nan. Masked-out steps (past a
sequence's end) count as f = 1 and write nothing, so each sequence ends at its own last step.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from lstmlab.introspection._trace import LayerTrace, final_cell, step_mask


class Decomposition(NamedTuple):
    """c_T split by origin: ``initial`` (B, H) = (prod f) * c_0, ``contributions`` (T, B, H)
    = retention[t] * i_t * g_t; ``initial + contributions.sum(0)`` equals ``final`` (B, H)."""

    initial: Tensor
    contributions: Tensor
    final: Tensor


def _processing(layer: LayerTrace, tensor: Tensor) -> Tensor:
    # A reverse direction's whole time axis flipped: each sequence's padding then comes first,
    # where f = 1 and nothing is written, so it changes nothing.
    return tensor.flip(0) if layer.reverse else tensor


def _effective_forget(layer: LayerTrace) -> Tensor:
    mask = step_mask(layer).unsqueeze(-1)
    return torch.where(mask, layer.forget, torch.ones_like(layer.forget))


def _suffix_products(forget: Tensor) -> Tensor:
    """(T, ...) f in processing order -> (T + 1, ...): row t = prod_{s=t..T-1} f_s, row T = 1."""
    inclusive = forget.flip(0).cumprod(0).flip(0)
    return torch.cat([inclusive, torch.ones_like(forget[:1])])


def retention(layer: LayerTrace) -> Tensor:
    """(T, B, H): prod_{s=t+1..T} f_s, the share of step t's write still in the cell at the
    sequence's last step T; zero at masked-out steps."""
    products = _suffix_products(_processing(layer, _effective_forget(layer)))
    share = _processing(layer, products[1:])
    return share * step_mask(layer).unsqueeze(-1).to(share.dtype)


def initial_retention(layer: LayerTrace) -> Tensor:
    """(B, H): prod_{s<=T} f_s, the share of c_0 still in the cell at the last step."""
    return _suffix_products(_processing(layer, _effective_forget(layer)))[0]


def decompose(layer: LayerTrace) -> Decomposition:
    """c_T = (prod f) * c_0 + sum_t retention[t] * i_t * g_t, term by term (module docstring)."""
    written = layer.input * layer.candidate * step_mask(layer).unsqueeze(-1).to(layer.cell.dtype)
    return Decomposition(initial_retention(layer) * layer.initial_cell,
                         retention(layer) * written, final_cell(layer))


def retention_matrix(layer: LayerTrace, batch_index: int = 0) -> Tensor:
    """(T, T, H) for one sequence: entry [t, s] = prod of f over the steps after t up to and
    including s (in processing order), the share of step t's write i_t * g_t still in the cell
    at step s; 1 on the diagonal, 0 where s comes before t or either step is masked out."""
    mask = step_mask(layer)[:, batch_index]
    forget = _processing(layer, _effective_forget(layer)[:, batch_index])  # (T, H)
    steps = forget.shape[0]
    matrix = forget.new_zeros(steps, steps, forget.shape[1])
    for t in range(steps):  # row t: prod_{r=t+1..s} f_r for every later s, one prefix product
        matrix[t, t] = 1
        matrix[t, t + 1:] = forget[t + 1:].cumprod(0)
    if layer.reverse:  # processing index t' is input position T-1-t', on both axes
        matrix = matrix.flip(0, 1)
    real = (mask[:, None] & mask[None, :]).unsqueeze(-1)
    return matrix * real.to(matrix.dtype)
