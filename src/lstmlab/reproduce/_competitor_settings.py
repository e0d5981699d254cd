"""The competitors' published set-ups of [H97] that the registry's own experiments do not build,
each a setting (:mod:`lstmlab.reproduce._settings`) run by one method::

    lstmlab reproduce 1@hidden=3,lr=0.05   # Table 1: RTRL, 3 hidden units, lr 0.05 (rtrl)
    lstmlab reproduce 1@hidden=15          # Table 1: the Elman net, 15 hidden units (elman)
    lstmlab reproduce 2a@p=4,lr=10.0       # Table 2: RTRL at p = 4, lr 10.0
    lstmlab reproduce 2a@p=10,lr=1.0       # Table 2: RTRL at p = 10

Without ``--method`` a competitor's setting runs its own method; another method is refused
(``ReproduceConfig``). The rows the registry's experiments already run need no setting: ``1
--method rtrl`` is Table 1's 12 hidden units at lr 0.1, ``2a --method rtrl`` / ``--method bptt``
Table 2's p = 100, ``1 --method rcc``, ``2a --method chunker``, ``3a --method guess``
(``competitors._methods.paper_settings``).

Each setting is the registry experiment's task at the row's size, paired with that row; the net
of the row (hidden units, learning rate) is ``competitors._methods.paper_settings`` of the
setting's name (``SETTING_NETS``): this package does not import the competitors, they import it.
Budgets: Experiment 2's 5 million sequences (Table 11's cap, "no success within 5,000,000" in
Table 2); for Table 1's RTRL net of 3 units, ``BUDGET_FACTOR`` x its published mean (the
registry's rule); for the Elman net, 200,000: Table 1 reports "no success in > 200,000"
(Cleeremans et al. 1989), and a run to that budget can agree or disagree with it, not with the
trials beyond. [H97] gives no trial count for Table 1's competitors (they are quoted from other
papers): 10 trials here (``Setting.trials``).

What differs from the papers' nets (``competitors._fully_recurrent``): hidden units are tanh,
not logistic; our nets carry torch.nn.RNN's two hidden biases and output biases; Table 1's RTRL
nets (Smith & Zipser 1989) let the output units recur, ours read the hidden layer and the inputs.
The Elman net's learning rate is not given in [H97]: 0.1 is ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lstmlab.tasks import PublishedRow, Task

#: Table 1's Elman row: "no success in > 200,000" sequences.
ELMAN_BUDGET = 200_000
#: Table 1's RTRL net of 3 units: 6 x its mean of 173,000, rounded up to 100,000 (the
#: registry's rule, ``_settings.several_times``; not imported: ``_settings`` imports this).
RTRL_3_BUDGET = 1_100_000


@dataclass(frozen=True)
class CompetitorSetting:
    """One competitor's published set-up: the fields of ``_settings.Setting`` (which turns it
    into one) with the one ``method`` that runs it (its net: ``competitors._methods``'
    ``paper_settings`` of this setting's command name)."""

    experiment: str
    name: str
    title: str
    published: PublishedRow
    make_task: Callable[[int], Task]
    setup: object
    budget: int
    method: str


def _row(rows: tuple[PublishedRow, ...], method: str, setting: str) -> PublishedRow:
    found = [r for r in rows if r.method == method and r.setting == setting]
    if len(found) != 1:
        raise ValueError(f"expected one {method} row {setting!r}, found {len(found)}")
    return found[0]


def _settings_1() -> tuple[CompetitorSetting, ...]:
    from lstmlab.tasks import _reber as reber

    def make(seed: int) -> reber.EmbeddedReber:
        return reber.EmbeddedReber("1-5", data_seed=seed % 3)

    rtrl = _row(reber.PUBLISHED, "rtrl", "3 hidden, lr=0.05")
    elman = _row(reber.PUBLISHED, "elman", "15 hidden")
    return (
        CompetitorSetting(
            "1", "hidden=3,lr=0.05",
            "embedded Reber grammar, RTRL with 3 hidden units, lr 0.05 (Table 1)", rtrl, make,
            reber.SETUPS["1-5"], RTRL_3_BUDGET, method="rtrl"),
        CompetitorSetting(
            "1", "hidden=15", "embedded Reber grammar, Elman net of 15 hidden units (Table 1)",
            elman, make, reber.SETUPS["1-5"], ELMAN_BUDGET, method="elman"),
    )


def _settings_2a() -> tuple[CompetitorSetting, ...]:
    from lstmlab.tasks import _long_lags as long_lags

    out = []
    for p, learning_rate, published in ((4, 1.0, "2a p=4, lr=1.0"), (4, 4.0, "2a p=4, lr=4.0"),
                                        (4, 10.0, "2a p=4, lr=10.0"), (10, 1.0, "2a p=10")):
        row = _row(long_lags.PUBLISHED, "rtrl", published)
        setup = long_lags._setup_2ab("2a", p)
        out.append(CompetitorSetting(
            "2a", f"p={p},lr={learning_rate}",
            f"noise-free long time lag, p = {p}, RTRL at lr {learning_rate} (Table 2)", row,
            lambda seed, p=p: long_lags.NoiseFreeLongLag(p=p), setup, setup.max_sequences,
            method="rtrl"))
    return tuple(out)


#: experiment -> its competitors' settings.
COMPETITOR_SETTINGS = {"1": _settings_1, "2a": _settings_2a}


def competitor_settings(experiment: str) -> tuple[CompetitorSetting, ...]:
    """The competitors' settings of ``experiment`` (none for most)."""
    build = COMPETITOR_SETTINGS.get(experiment)
    return build() if build is not None else ()
