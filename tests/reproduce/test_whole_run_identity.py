"""The whole run's shortcuts give every trial exactly the numbers of the loop they replace.

The reference is ``Lstm1997Method`` as it ran before them: each member's sequences drawn by its
own generator (``draw_ahead=False``: ``sample_each``), the verdicts and errors by the task's
``is_correct`` and ``errors`` (two calls and ``tolist``), each member's criterion fed by
``observe_values``, each step's inputs converted by a fresh ``to(float64)`` (not copied into
the reused ``_Staging`` buffer), Exp. 1's stopping and test sets run string by string as the
task chunks them (not on their distinct strings), ``CHUNK`` strings per call of the C forward.
Short runs of Exps. 1, 2a (the sequential construction), 2c (sequences of varying lengths), 4
and 6a, with a population smaller than the seeds (members leave and the next seed joins): every
trial's success, sequences, test error and learning curve equal, by ``==`` on floats.
"""

from __future__ import annotations

import pytest

import lstmlab.reproduce._lstm1997 as lstm1997
from lstmlab.reproduce import Lstm1997Method, Lstm1997Settings, _cached_task
from lstmlab.reproduce._criteria import Criterion
from lstmlab.reproduce._registry import experiment

# (experiment, seeds, budget): two checks of Exp. 1's stopping set per trial, 2a in its
# construction's first phase, 4 and 6a ~10 refills of each member's words; the slow runs fill
# 4 and 6a's ST3 windows (2,000 sequences) and check them at every sequence after
RUNS = [("1", [0, 29], 200), ("2a", [0, 1, 2], 200), ("2c", [0, 1, 2], 300),
        ("4", [0, 1, 2], 400), ("6a", [0, 4, 9], 400)]
SLOW = [("1", [3, 4, 5, 6], 1500), ("4", [0, 1, 2], 2600), ("6a", [0, 4, 9], 2600)]


def _trials(name: str, seeds: list[int], budget: int, **settings) -> list:
    method = Lstm1997Method(Lstm1997Settings(population=2, curve_every=100, **settings))
    results = list(method.run_trials(experiment(name), seeds, budget, lambda *_: None))
    return sorted((r.seed, r.success, r.sequences, r.test_error, r.curve) for r in results)


def _before(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop's verdicts and criterion calls as they were."""
    def verdicts(task, outputs, batch):
        return task.is_correct(outputs, batch).tolist(), task.errors(outputs, batch).tolist()

    def observe_one(self, right, error, evaluate):
        return self.observe_values([right], [error], evaluate)

    monkeypatch.setattr(_cached_task, "with_distinct_strings", lambda experiment: experiment)
    monkeypatch.setattr(lstm1997, "CHUNK_BYTES", 1)  # checks CHUNK sequences per C call
    monkeypatch.setattr(lstm1997, "verdicts", verdicts)
    monkeypatch.setattr(Criterion, "observe_one", observe_one)
    monkeypatch.setattr(Criterion, "reads_verdicts", property(lambda self: True))
    monkeypatch.setattr(lstm1997._Staging, "inputs", lambda self, x: x.to(self.dtype))


def _compare(name: str, seeds: list[int], budget: int, monkeypatch: pytest.MonkeyPatch) -> None:
    after = _trials(name, seeds, budget)
    with monkeypatch.context() as patch:
        _before(patch)
        before = _trials(name, seeds, budget, draw_ahead=False)
    assert after == before
    assert len(after) == len(seeds) and all(len(curve) >= 2 for *_, curve in after)


@pytest.mark.parametrize(("name", "seeds", "budget"), RUNS, ids=[r[0] for r in RUNS])
def test_trials_equal_the_loop_before_the_shortcuts(name, seeds, budget, monkeypatch):
    _compare(name, seeds, budget, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "seeds", "budget"), SLOW, ids=[r[0] for r in SLOW])
def test_longer_trials_equal_the_loop_before_the_shortcuts(name, seeds, budget, monkeypatch):
    _compare(name, seeds, budget, monkeypatch)
