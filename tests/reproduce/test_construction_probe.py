"""``construction_probe.phase_times`` against ``Lstm1997Method`` on a short 2a (p = 5).

Reference: the method itself, with its stopping rule checked every 50 sequences on 200 fresh
sequences (both labels drawn, so the same verdict as judging the two distinct sequences); the
probe must find the same switch (the method's log) and the same success point at the same
resolution, and each last-step unit learned no later than the whole net.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from lstmlab.reproduce import Experiment, Lstm1997Method, Lstm1997Settings
from lstmlab.reproduce import _registry as registry
from lstmlab.reproduce._construction_probe import PhaseTimes, main, phase_times, table, with_plateau
from lstmlab.reproduce._method import torch_threads
from lstmlab.tasks import ErrorPlateau, NoiseFreeLongLag
from lstmlab.tasks._stopping import TestSetRule

PLATEAU = ErrorPlateau(window=25, min_decrease=0.1)
BUDGET = 1000
EVERY = 50


class _ShortLag(NoiseFreeLongLag):
    """2a with p = 5, its stopping rule checked every 50 sequences on 200 fresh sequences."""

    def __init__(self) -> None:
        super().__init__(5)
        self.setup = replace(self.setup, add_cells_after=PLATEAU)
        self.stopping = (TestSetRule("ABS(0.25)", check_every=EVERY),)
        self.test_size = 200


def _experiment() -> Experiment:
    return Experiment(name="2a", title="2a, p = 5", make_task=lambda seed: _ShortLag(),
                      setup=_ShortLag().setup, published=(), trials=3, budget=BUDGET)


def test_phase_times_agree_with_the_method(caplog):
    seeds = [0, 1, 2]
    method = Lstm1997Method(Lstm1997Settings(population=3, curve_every=EVERY))
    with caplog.at_level(logging.INFO, logger="lstmlab.reproduce._lstm1997"):
        results = {r.seed: r for r in method.run_trials(_experiment(), seeds, BUDGET,
                                                         lambda n, e: None)}
    switched = {int(r.getMessage().split()[1][:-1]): int(r.getMessage().split()[-2])
                for r in caplog.records if "memory cell added" in r.getMessage()}
    with torch_threads(1):
        times = phase_times(_experiment(), seeds, BUDGET, every=EVERY)
    assert [t.seed for t in times] == seeds
    for t in times:
        trial = results[t.seed]
        assert t.fired_at == switched[t.seed]
        assert t.solved == (trial.sequences if trial.success else None)
        if t.solved is not None:
            assert t.x_unit is not None and t.y_unit is not None
            assert t.fired_at < t.solved and max(t.x_unit, t.y_unit) <= t.solved
    assert sum(t.solved is not None for t in times) >= 2


def test_with_plateau_changes_only_the_rule():
    base = _experiment()
    changed = with_plateau(base, 40, 0.02)
    assert changed.setup.add_cells_after == ErrorPlateau(window=40, min_decrease=0.02)
    assert replace(changed.setup, add_cells_after=PLATEAU) == base.setup


@pytest.mark.parametrize("name", ["2b", "1"])
def test_phase_times_refuses_other_experiments(name):
    with pytest.raises(ValueError, match="experiment"):
        phase_times(registry.experiment(name), [0], 10)


def test_table_counts_and_means_by_hand():
    times = [PhaseTimes(0, 1800, 6000, 3000, 6000), PhaseTimes(1, 2000, None, 4000, None)]
    text = table(times)
    assert "| 0 | 1,800 | 6,000 | 3,000 | 6,000 | 4,200 |" in text
    assert "| 1 | 2,000 | — | 4,000 | — | — |" in text
    assert "- cell added after: 2 of 2, mean 1,900" in text
    assert "- x unit: 1 of 2, mean 6,000" in text
    assert "- first unit: 2 of 2, mean 3,500" in text
    assert "- second unit: 1 of 2, mean 6,000" in text
    assert "- solved - added: 1 of 2, mean 4,200" in text


def test_main_runs_a_short_probe():
    text = main(["2a:input-gate-bias", "--seeds", "1", "--budget", "250", "--every", "250",
                 "--plateau", "50,0.5", "--learning-rate", "2.0"])
    assert text.startswith("| seed |") and "- solved: 0 of 1, mean —" in text
