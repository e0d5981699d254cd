"""What the runner needs to know about one experiment of [H97], and the published numbers.

An :class:`Experiment` ties a task (the sequence generator, its success criterion and stopping
rule, from ``lstmlab.tasks``) to the paper's protocol: how many trials, how many training
sequences at most, and what [H97] reported. The registry of the paper's experiments lives in
:mod:`lstmlab.reproduce.experiments`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PublishedRow:
    """One row of a published table, with its source.

    ``method`` is the key of the method that row is about (``"lstm1997"``, ``"rtrl"``, ...),
    ``success`` a fraction in [0, 1] (None where the paper gives none), ``sequences`` the mean
    number of training sequences until success (None where none is given), ``test`` the paper's
    test result in its own words, ``source`` e.g. ``"[H97] Table 7"``.
    """

    method: str
    setting: str
    trials: int | None
    success: float | None
    sequences: float | None
    test: str = ""
    source: str = ""


@dataclass(frozen=True)
class Experiment:
    """One experiment as the runner sees it.

    ``name`` is the key used on the command line and in the store (``"1"``, ``"2a"``,
    ``"4-T100"``). ``make_task()`` builds the task object (``input_size``, ``output_size``,
    ``sample(batch_size, generator)``, ``is_correct(outputs, batch)``). ``setup`` is the paper's
    configuration of the LSTM for this experiment (the task module's ``SETUP``). ``trials`` and
    ``budget`` are the paper's number of trials and the cap on training sequences per trial;
    ``quick_trials`` and ``quick_budget`` are the tiny ones of ``--quick``.
    """

    name: str
    title: str
    make_task: Callable[[], object] = field(compare=False)
    setup: object
    published: tuple[PublishedRow, ...]
    trials: int
    budget: int
    quick_trials: int = 2
    quick_budget: int = 200

    @property
    def sources(self) -> str:
        """The distinct sources of the published rows, e.g. ``"[H97] Table 7"``."""
        seen: list[str] = []
        for row in self.published:
            if row.source and row.source not in seen:
                seen.append(row.source)
        return ", ".join(seen) or "no published numbers"
