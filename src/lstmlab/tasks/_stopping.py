"""The papers' stopping rules, as data plus the few lines that evaluate them.

Two kinds occur in [H97] (Hochreiter & Schmidhuber 1997):

- :class:`TestSetRule`: checked on a set of sequences the net is not trained on.
  ST1/ST2 of §5.3 ("none of 256 sequences from a randomly chosen test set is misclassified";
  ST2 adds "mean absolute test set error below 0.01"), Experiment 1's "all string symbols of all
  sequences in both test set and training set are predicted correctly" (§5.1), and the success
  criterion of 2a-2c, "during 10,000 successive, randomly chosen input sequences, the maximal
  absolute error ... is always below" 0.25 / 0.2 (§5.2). The task's ``stopping_batches(generator)``
  gives the sequences (fresh ones for 2-3, one set per trial under the readings
  3a/3b:fixed-stopping-set, the fixed training and test strings for 1).
- :class:`RecentWindowRule`: checked on the most recent training sequences. ST3(beta) of
  Table 11: "average training error below beta and the 2000 most recent sequences were
  processed correctly" (Experiments 4, 6), and Experiment 5's "less than n_seq of the 2000 most
  recent training sequences lead to absolute errors exceeding 0.04" (§5.5).

Both compare a task's per-sequence verdicts ``is_correct`` (N,) and errors ``errors`` (N,).
The paper does not say how often a test-set rule was checked; ``check_every`` (training
sequences between checks) is our choice and bounds the resolution of "sequences to success".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class TestSetRule:
    """Met when at most ``max_wrong`` of the stopping set are wrong and, if given, the mean
    error is below ``max_mean_error``."""

    __test__ = False  # not a pytest class, despite the name

    name: str
    max_wrong: int = 0
    max_mean_error: float | None = None
    check_every: int = 100

    def is_met(self, correct: Tensor, errors: Tensor) -> bool:
        """``correct`` (N,) bool and ``errors`` (N,) float over the stopping set."""
        if correct.shape != errors.shape or correct.dim() != 1:
            raise ValueError(f"correct, errors: expected two (N,) tensors, received "
                             f"{tuple(correct.shape)} and {tuple(errors.shape)}")
        wrong = int((~correct).sum())
        mean_ok = self.max_mean_error is None or float(errors.mean()) < self.max_mean_error
        return wrong <= self.max_wrong and mean_ok


@dataclass(frozen=True)
class RecentWindowRule:
    """Met when among the ``window`` most recent training sequences at most ``max_wrong`` were
    wrong and, if given, their mean error is below ``max_mean_error``. Never met before
    ``window`` sequences have been seen."""

    name: str
    window: int = 2000
    max_wrong: int = 0
    max_mean_error: float | None = None

    def tracker(self, members: int = 1) -> WindowTracker:
        """A fresh tracker for a population of ``members`` independent networks."""
        return WindowTracker(self, members)


class WindowTracker:
    """The running state of a :class:`RecentWindowRule` for K networks trained side by side.

    ``update(correct, errors)`` takes (K,) tensors: one training sequence per member.
    ``is_met()`` -> (K,) bool.
    """

    def __init__(self, rule: RecentWindowRule, members: int) -> None:
        if members < 1:
            raise ValueError(f"members: expected >= 1, received {members}")
        self.rule = rule
        self.correct = torch.ones(members, rule.window, dtype=torch.bool)
        self.errors = torch.zeros(members, rule.window, dtype=torch.float64)
        self.seen = torch.zeros(members, dtype=torch.long)

    def update(self, correct: Tensor, errors: Tensor) -> None:
        members = self.seen.shape[0]
        if correct.shape != (members,) or errors.shape != (members,):
            raise ValueError(f"correct, errors: expected shape ({members},), received "
                             f"{tuple(correct.shape)} and {tuple(errors.shape)}")
        slot = self.seen % self.rule.window
        rows = torch.arange(members)
        self.correct[rows, slot] = correct.to(torch.bool)
        self.errors[rows, slot] = errors.to(torch.float64)
        self.seen += 1

    def is_met(self) -> Tensor:
        full = self.seen >= self.rule.window
        met = full & ((~self.correct).sum(dim=1) <= self.rule.max_wrong)
        if self.rule.max_mean_error is not None:
            met &= self.errors.mean(dim=1) < self.rule.max_mean_error
        return met


StoppingRule = TestSetRule | RecentWindowRule


def st3(beta: float) -> RecentWindowRule:
    """ST3(beta) of [H97] Table 11: mean training error < beta, last 2000 sequences correct."""
    return RecentWindowRule(name=f"ST3({beta})", window=2000, max_wrong=0, max_mean_error=beta)
