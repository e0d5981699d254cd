"""Unit finding: which units track a labelled property of the input.

Given a per-step binary label (e.g. "the current subject is female", as in the pronoun task of
the tour) and the per-step state of every unit (the cell c_t or hidden h_t of a ``Trace``), score
how well each unit alone separates the two classes and rank the units, best first. This is the
single-unit analysis of Karpathy, Johnson & Fei-Fei (2015, §4.1: cells that track quotes or
line position) and of Lakretz et al. (NAACL 2019, "The emergence of number and syntax units in
LSTM language models", where ablating single units breaks agreement), in its simplest form.

Two scores, both threshold-free and closed-form (no training, deterministic):

- ``point_biserial`` (the default): |r| with r the Pearson correlation between the unit's value
  and the 0/1 label, r = (mean_1 - mean_0) / std * sqrt(p * (1 - p)) (std over all steps,
  p the share of label 1). Measures linear separation; 1 for a unit that copies the label.
- ``auc``: the area under the ROC curve of the unit's value as a classifier, by the Mann-Whitney
  rank sum with average ranks for ties, reported as max(AUC, 1 - AUC) so that a unit that is
  *low* for the label counts as much as one that is high. Invariant to any monotone squashing of
  the unit; 0.5 = chance, 1 = perfectly separating threshold.

Shapes: T time, B batch, H units; N = the number of real (unmasked) steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor


class UnitRanking(NamedTuple):
    """``units`` (H,) unit indices, best first; ``scores`` (H,) their scores in that order;
    ``signs`` (H,) +1 where the unit is higher on average at label-1 steps, -1 where lower
    (0 for no difference), in the same order."""

    units: Tensor
    scores: Tensor
    signs: Tensor


def point_biserial(values: Tensor, labels: Tensor) -> Tensor:
    """|point-biserial correlation| per unit: values (N, H), labels (N,) bool -> (H,); 0 for a
    constant unit."""
    values = values.to(torch.float64)
    share = labels.to(torch.float64).mean()
    difference = values[labels].mean(0) - values[~labels].mean(0)
    spread = values.std(0, unbiased=False)
    r = difference * torch.sqrt(share * (1 - share)) / spread
    return torch.where(spread > 0, r.abs(), torch.zeros_like(r))


def auc(values: Tensor, labels: Tensor) -> Tensor:
    """max(AUC, 1 - AUC) per unit (Mann-Whitney, ties at average rank): (N, H), (N,) -> (H,)."""
    values = values.to(torch.float64)
    positives = int(labels.sum())
    negatives = labels.numel() - positives
    scores = []
    for column in values.T:
        distinct, inverse, counts = torch.unique(column, return_inverse=True, return_counts=True)
        last_rank = counts.cumsum(0).to(torch.float64)  # 1-based rank of each value's last copy
        average_rank = last_rank - (counts - 1) / 2
        rank_sum = average_rank[inverse][labels].sum()
        area = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
        scores.append(torch.maximum(area, 1 - area))
    return torch.stack(scores)


def rank_units(
    states: Tensor, labels: Tensor, *, mask: Tensor | None = None,
    score: Callable[[Tensor, Tensor], Tensor] = point_biserial,
) -> UnitRanking:
    """Rank units by how well each alone predicts ``labels``.

    ``states`` (T, B, H), e.g. ``trace(model, x)[0].cell``; ``labels`` (T, B) bool or 0/1, the
    property at each step; ``mask`` (T, B) True at steps to use (e.g. ``LayerTrace.mask``;
    all when None); ``score``: ``point_biserial`` or ``auc`` (module docstring).
    """
    if states.dim() != 3 or labels.shape != states.shape[:2]:
        raise ValueError(f"states must be (T, B, H) and labels (T, B) with the same T and B, "
                         f"got {tuple(states.shape)} and {tuple(labels.shape)}")
    if labels.dtype != torch.bool:
        if bool(((labels != 0) & (labels != 1)).any()):
            raise ValueError("labels must be bool or 0/1, got other values")
        labels = labels != 0
    if mask is None:
        mask = torch.ones_like(labels)
    if mask.shape != labels.shape:
        raise ValueError(f"mask must have shape {tuple(labels.shape)}, got {tuple(mask.shape)}")
    chosen = labels[mask]
    if bool(chosen.all()) or not bool(chosen.any()):
        raise ValueError("labels must hold both classes at the unmasked steps, got one class")
    values = states[mask].detach()
    scores = score(values, chosen)
    signs = torch.sign(values[chosen].mean(0) - values[~chosen].mean(0))
    order = torch.argsort(scores, descending=True, stable=True)
    return UnitRanking(order, scores[order], signs[order])
