"""A published result as data: one row of a paper's table, with its source.

Every task module holds its paper's rows in ``PUBLISHED`` (a tuple of :class:`PublishedRow`),
transcribed from [H97] (Hochreiter & Schmidhuber 1997, Tables 1-9 and §5 text) and [G00]
(Gers, Schmidhuber & Cummins 2000, Table 2), checked against the papers' text. They are shown
beside, never instead of, what lstmlab measures.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    """

    method: str
    setting: str
    trials: int | None
    success: float | None
    sequences: float | None
    test: str = ""
    source: str = ""


def rows_for(rows: tuple[PublishedRow, ...], setting: str) -> tuple[PublishedRow, ...]:
    """The rows for ``setting``: equal to it or starting with it and a comma
    (``"T=100"`` matches ``"T=100, ST1"``, not ``"T=1000"``)."""
    return tuple(r for r in rows if r.setting == setting or r.setting.startswith(setting + ","))
