"""A published result as data: one row of a paper's table, with its source.

Every task module holds its paper's rows in ``PUBLISHED`` (a tuple of :class:`PublishedRow`),
transcribed from [H97] (Hochreiter & Schmidhuber 1997, Tables 1-9 and §5 text) and [G00]
(Gers, Schmidhuber & Cummins 2000, Table 2), checked against the papers' text. They are shown
beside, never instead of, what lstmlab measures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class PublishedRow:
    """One row of a published table.

    ``method`` is the key of the method the row is about (``"lstm1997"``, ``"rtrl"``, ``"bptt"``,
    ``"elman"``, ``"rcc"``, ``"chunker"``, ``"lstm_forget"``, ...); ``setting`` the task's
    setting in the paper's terms (``"T=100"``, ``"4x1, lr=0.1"``); ``success`` a fraction in
    [0, 1] (None where the paper gives none); ``sequences`` the mean number of training
    sequences until success or until the named stopping rule fired (None where none is given;
    a lower bound where ``test`` says ">"); ``test`` the paper's test result in its own words;
    ``source`` e.g. ``"[H97] Table 7"``.

    ``all_reached``: where the paper gives no rate, the paper's sentence saying that the row's
    mean is over all its ``trials``, each a number of sequences "required to achieve" the
    criterion: the row then implies that every trial reached it (a rate of 100 %). Empty where
    the text says no such thing (Table 1's RTRL rows: "some fraction" successful).
    ``reached_within``: ``(sequences, count)`` pairs where the text gives them: exactly
    ``count`` of the paper's trials had reached the criterion within ``sequences`` (Table 7's
    T = 1000 caption, "varies between 370,000 and 2,020,000, exceeding 700,000 in only 3
    cases": ``(369_999, 0), (700_000, 7), (2_020_000, 10)``). Only with ``all_reached``.
    """

    method: str
    setting: str
    trials: int | None
    success: float | None
    sequences: float | None
    test: str = ""
    source: str = ""
    all_reached: str = ""
    reached_within: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        where = f"PublishedRow({self.method!r}, {self.setting!r})"
        if self.all_reached and (self.trials is None or self.sequences is None
                                 or self.success is not None):
            raise ValueError(f"{where}: all_reached needs trials and a mean and no published "
                             f"rate, got trials={self.trials}, sequences={self.sequences}, "
                             f"success={self.success}")
        if self.reached_within and not self.all_reached:
            raise ValueError(f"{where}: reached_within needs all_reached (the paper's sentence "
                             "that every trial reached the criterion)")
        previous = (0, 0)
        for sequences, count in self.reached_within:
            if not (isinstance(sequences, int) and isinstance(count, int) and sequences > 0
                    and 0 <= count <= (self.trials or 0)):
                raise ValueError(f"{where}: reached_within expects (sequences > 0, count in "
                                 f"[0, {self.trials}]) pairs, got {(sequences, count)!r}")
            if sequences <= previous[0] or count < previous[1]:
                raise ValueError(f"{where}: reached_within must rise in sequences and never "
                                 f"fall in count, got {previous!r} then {(sequences, count)!r}")
            previous = (sequences, count)

    def reached_by(self, budget: int | None) -> tuple[int, int] | None:
        """Bounds ``(low, high)`` on how many of the paper's trials had reached the criterion
        within ``budget`` sequences, for a row with ``all_reached`` (None otherwise; a budget
        of None is no budget: all of them).

        Each trial reached the criterion, and the row's mean m is over all n of them, so the
        trials sum to n m: fewer than n m / budget of them can have needed more than
        ``budget`` (Markov's inequality on the sum), so ``low >= n - (ceil(n m / budget) - 1)``.
        A ``reached_within`` count at or below the budget raises ``low``; one at or above it
        lowers ``high``.
        """
        if not self.all_reached:
            return None
        n = self.trials
        assert n is not None and self.sequences is not None  # __post_init__ checked
        if budget is None:
            return n, n
        if isinstance(budget, bool) or int(budget) != budget or budget < 1:
            raise ValueError(f"budget must be a positive integer, got {budget!r}")
        longer = min(n, math.ceil(n * Fraction(self.sequences) / budget) - 1)
        low, high = n - longer, n
        for sequences, count in self.reached_within:
            if sequences <= budget:
                low = max(low, count)
            if sequences >= budget:
                high = min(high, count)
        return low, high


def rows_for(rows: tuple[PublishedRow, ...], setting: str) -> tuple[PublishedRow, ...]:
    """The rows for ``setting``: equal to it or starting with it and a comma
    (``"T=100"`` matches ``"T=100, ST1"``, not ``"T=1000"``)."""
    return tuple(r for r in rows if r.setting == setting or r.setting.startswith(setting + ","))
