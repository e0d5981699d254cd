"""What the runner needs to know about one experiment of [H97], and the published numbers.

An :class:`Experiment` ties a task (the sequence generator, its success criterion and stopping
rule, from ``lstmlab.tasks``) to the paper's protocol: how many trials, how many training
sequences at most, and what [H97] reported (rows of ``lstmlab.tasks._published.PublishedRow``).
The registry of the paper's experiments lives in :mod:`lstmlab.reproduce._registry`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lstmlab.tasks import PublishedRow, Task


@dataclass(frozen=True)
class Experiment:
    """One experiment as the runner sees it.

    ``name`` is the key used on the command line and in the store (``"1"``, ``"2a"``,
    ``"4"``). ``make_task(seed)`` builds trial ``seed``'s task (a ``lstmlab.tasks._batch.Task``;
    most tasks ignore the seed, Experiment 1 picks its training/test pair with it). ``setup``
    is the paper's configuration of the LSTM for this experiment (the task module's
    ``SETUP``). ``trials`` and ``budget`` are the paper's number of trials and the cap on
    training sequences per trial; ``quick_trials`` and ``quick_budget`` are the tiny ones of
    ``--quick``. ``eval_batch_size`` is how many sequences of a stopping or test set are
    evaluated at once (larger is faster; bounded by memory for the longest sequences). Random
    sets are drawn batch by batch, so it is part of a trial's identity.

    A competitor's published set-up (:mod:`lstmlab.reproduce._competitor_settings`, e.g. [H97]
    Table 1's RTRL net of 3 hidden units at learning rate 0.05) names its ``method``: only that
    method runs it (its net is in the method's fingerprint, so the store key needs no field).
    """

    name: str
    title: str
    make_task: Callable[[int], Task] = field(compare=False)
    setup: object
    published: tuple[PublishedRow, ...]
    trials: int
    budget: int
    quick_trials: int = 2
    quick_budget: int = 200
    eval_batch_size: int = 256
    method: str | None = None

    @property
    def sources(self) -> str:
        """The distinct sources of the published rows, e.g. ``"[H97] Table 7"``."""
        seen: list[str] = []
        for row in self.published:
            if row.source and row.source not in seen:
                seen.append(row.source)
        return ", ".join(seen) or "no published numbers"
