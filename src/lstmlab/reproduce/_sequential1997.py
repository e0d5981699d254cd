"""The sequential construction of [H97] §5.2 (Experiments 2a/2b): "memory cell and input gate
are added once the error has stopped decreasing".

Shapes: K population, O outputs, H cells, I inputs; weights as ``NetworkWeights1997``.

Phase 1, the net without its memory cell. The 2a/2b net (Table 10 connectivity "B") is

    net_k(t) = y^c(t) @ weight_ho.T + x(t) @ weight_io.T        y^k(t) = f_k(net_k(t))

With ``weight_ho = 0`` exactly, ``net_k(t) = x(t) @ weight_io.T`` whatever the cell does: the
outputs, and so e_k and the loss, are those of a net that has no cell. The cell's own error
``delta_c = sum_k w_kc e_k`` is then 0 too, so online1997's gradients of the cell's input weights
and of its gate vanish; ``weight_ho``'s gradient ``e_k y^c`` does not, so the ``trainable`` mask
(``phase_one_mask``) holds every weight but ``weight_io`` (and ``bias_o``) fixed. The cell's
state still runs forward, read by nothing.

Phase 2 starts after the sequence at which :class:`PlateauTracker` (the set-up's
``ErrorPlateau`` rule) fires. The cell's output weights get the values drawn for them at the
trial start (uniform in [-init_range, init_range], [-0.2, 0.2] for 2a/2b, with the rest of the
net, held aside meanwhile); its input weights and its gate's were frozen at their initial draw.
So the cell enters with weights drawn from [-0.2, 0.2] as the paper initialises every weight,
without drawing from the trial's generator mid-run (the training stream stays the seed's).
From then on every weight learns. Sequences count from the first presented one, phase 1
included, in the stopping rule and the results.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lstmlab.tasks import ErrorPlateau
from lstmlab.training._network1997 import NetworkWeights1997, map_weights


class PlateauTracker:
    """The running state of an :class:`~lstmlab.tasks._setup.ErrorPlateau` rule for one network.

    ``observe(error)`` takes one training sequence's error (eq. 16 summed over the sequence)
    and returns True exactly once, at the sequence that closes the first window whose mean is
    not below ``(1 - min_decrease)`` times the previous window's; ``fired_at`` is then that
    sequence's number (counted from 1).
    """

    def __init__(self, rule: ErrorPlateau) -> None:
        self.rule = rule
        self.seen = 0
        self.fired_at: int | None = None
        self._sum = 0.0
        self._previous: float | None = None

    def observe(self, error: float) -> bool:
        if self.fired_at is not None:
            return False
        self.seen += 1
        self._sum += error
        if self.seen % self.rule.window:
            return False
        mean, self._sum = self._sum / self.rule.window, 0.0
        previous, self._previous = self._previous, mean
        if previous is not None and not mean < (1.0 - self.rule.min_decrease) * previous:
            self.fired_at = self.seen
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        """The running state, as plain numbers (for a checkpoint)."""
        return {"seen": self.seen, "fired_at": self.fired_at, "sum": self._sum,
                "previous": self._previous}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state_dict()``'s ``state``."""
        fired_at, previous = state["fired_at"], state["previous"]
        self.seen, self._sum = int(state["seen"]), float(state["sum"])
        self.fired_at = None if fired_at is None else int(fired_at)
        self._previous = None if previous is None else float(previous)


def without_cells(weights: NetworkWeights1997) -> NetworkWeights1997:
    """``weights`` with the cells' output weights ``weight_ho`` at zero (copies)."""
    cut = map_weights(lambda part: part.detach().clone(), weights)
    cut.weight_ho.zero_()
    return cut


def phase_one_mask(weights: NetworkWeights1997, staged: Tensor) -> NetworkWeights1997:
    """The ``trainable`` mask of ``online_sequence`` for a population (leading K): members
    where ``staged`` (K,) bool is True may change only ``weight_io`` and ``bias_o``; the
    others may change everything."""
    if weights.weight_io is None:
        raise ValueError("weights.weight_io: expected input-to-output weights (the net that "
                         "trains before its cells are added), received None")

    def mask(part: Tensor, free: bool) -> Tensor:
        rows = staged.view(-1, *[1] * (part.dim() - 1)).to(part.device)
        return torch.where(rows & ~torch.tensor(free), 0.0, 1.0).to(part.dtype).expand_as(part)

    cells = map_weights(lambda part: mask(part, False), weights).cell
    return NetworkWeights1997(
        cells, mask(weights.weight_ho, False), mask(weights.weight_io, True),
        None if weights.bias_o is None else mask(weights.bias_o, True))
