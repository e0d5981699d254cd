"""Forgetting: where, in which units and how much the forget gate threw away.

Shapes: T time, B batch, H hidden; positions are input positions (as in ``Trace``).

At step t the forget gate keeps f_t * c_{t-1} of the old cell content and discards the rest
(Gers, Schmidhuber & Cummins 2000, §2: the gate "resets" the cell when f -> 0):

    discarded_t = (1 - f_t) * c_{t-1}          (signed: the content removed, per unit)

A *forget event* is one (step, sequence, unit) with a large |discarded_t|; ``forget_events``
lists the largest, each with the input position and, when tokens are given, the token read at
that step: the answer to "what made the network drop what it was holding?".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from lstmlab.introspection._trace import LayerTrace, previous_cell, step_mask


class ForgetEvent(NamedTuple):
    """One discarding: ``position`` (input position t), ``batch`` (sequence), ``unit``,
    ``discarded`` = (1 - f_t) * c_{t-1}, the gate value ``forget`` = f_t, ``previous_cell`` =
    c_{t-1}, and ``token`` read at t (None without tokens)."""

    position: int
    batch: int
    unit: int
    discarded: float
    forget: float
    previous_cell: float
    token: str | None


def discarded(layer: LayerTrace) -> Tensor:
    """(T, B, H): (1 - f_t) * c_{t-1}, the cell content each step discarded; 0 where masked."""
    keep = step_mask(layer).unsqueeze(-1).to(layer.forget.dtype)
    return (1 - layer.forget) * previous_cell(layer) * keep


def _token_table(tokens: Sequence, batch: int) -> list[Sequence[str]]:
    """``tokens``: one sequence of tokens (shared by the batch) or B sequences of tokens."""
    if len(tokens) > 0 and isinstance(tokens[0], str):
        return [tokens] * batch
    if len(tokens) != batch:
        raise ValueError(f"tokens must be a list of tokens or {batch} such lists (one per "
                         f"sequence), got {len(tokens)} lists")
    return list(tokens)


def forget_events(
    layer: LayerTrace, count: int = 10, *, tokens: Sequence | None = None,
    units: Sequence[int] | None = None,
) -> list[ForgetEvent]:
    """The ``count`` largest |(1 - f_t) * c_{t-1}| over steps, sequences and ``units`` (all by
    default), largest first. ``tokens``: T strings (one sequence, or shared by the batch) or B
    lists of T strings, the input at each position."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    amounts = discarded(layer)
    steps, batch, hidden = amounts.shape
    unit_index = torch.arange(hidden) if units is None else torch.as_tensor(units).long()
    if unit_index.numel() == 0 or bool((unit_index < 0).any()) or \
            bool((unit_index >= hidden).any()):
        raise ValueError(f"units must be indices in 0..{hidden - 1}, got {list(unit_index)}")
    table = None if tokens is None else _token_table(tokens, batch)
    chosen = amounts[..., unit_index.to(amounts.device)]
    # masked-out steps rank below every real one, so they are never reported
    real = step_mask(layer).unsqueeze(-1).expand_as(chosen)
    size = chosen.abs().masked_fill(~real, -1.0).flatten()
    top = size.topk(min(count, int(real.sum())))
    previous = previous_cell(layer)
    events = []
    for flat in top.indices.tolist():
        t, b, k = flat // (batch * len(unit_index)), (flat // len(unit_index)) % batch, \
            flat % len(unit_index)
        unit = int(unit_index[k])
        events.append(ForgetEvent(
            t, b, unit, float(amounts[t, b, unit]), float(layer.forget[t, b, unit]),
            float(previous[t, b, unit]),
            None if table is None or t >= len(table[b]) else str(table[b][t]),
        ))
    return events
