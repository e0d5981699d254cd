"""One trial per seed, trained batch by batch until the stopping rule fires or the budget ends.

The loop every gradient method shares (``modern`` and the competitors' ``rtrl``, ``bptt``,
``elman`` and ``chunker``); the paper's ``lstm1997`` runs its own lockstep population instead.
For each seed: build the learner from the seed's generator, then repeatedly draw ``batch_size``
training sequences (fewer at the end of the budget), learn on them, and let the trial's
``Criterion`` judge the outputs produced while learning ([H97] §5: the stopping rules look at the
training sequences just seen, or at a stopping set every ``check_every`` sequences). Then the
test set: the same seed offsets as ``lstm1997``, so every method is judged on the same sequences.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor

from lstmlab.reproduce.criteria import Criterion, fraction_wrong
from lstmlab.reproduce.experiment import Experiment
from lstmlab.reproduce.lstm1997 import CHECK_SEED_OFFSET, TEST_SEED_OFFSET
from lstmlab.reproduce.method import TrialProgress, TrialResult
from lstmlab.tasks.batch import Batch, Task

#: ``build(task, generator) -> (learn, evaluate)``: ``learn(batch)`` trains on one batch and
#: returns the outputs it produced (T, B, O), detached; ``evaluate(batch)`` runs the net without
#: learning.
Learner = Callable[[Task, torch.Generator],
                   tuple[Callable[[Batch], Tensor], Callable[[Batch], Tensor]]]


def train_trials(build: Learner, experiment: Experiment, seeds: Sequence[int], budget: int,
                 progress: TrialProgress, *, batch_size: int = 1, curve_every: int = 500,
                 report_every: int = 20) -> Iterator[TrialResult]:
    """Train one net per seed; yield each trial's result as soon as it is final."""
    presented = 0
    for seed in seeds:
        started = time.perf_counter()
        task = experiment.make_task(seed)
        generator = torch.Generator().manual_seed(seed)
        learn, evaluate = build(task, generator)
        criterion = Criterion(task, torch.Generator().manual_seed(seed + CHECK_SEED_OFFSET),
                              curve_every, experiment.eval_batch_size)
        met, step = False, 0
        while not met and criterion.sequences < budget:
            batch = task.sample(min(batch_size, budget - criterion.sequences), generator)
            outputs = learn(batch)
            before = criterion.sequences
            met = criterion.observe(task.is_correct(outputs, batch), task.errors(outputs, batch),
                                    evaluate)
            presented += criterion.sequences - before
            step += 1
            if step % report_every == 0:
                progress(presented, criterion.recent_error)
        if not met and criterion.rule is None:
            met = criterion.final_success(evaluate)
        progress(presented, criterion.recent_error)
        test = torch.Generator().manual_seed(seed + TEST_SEED_OFFSET)
        yield TrialResult(seed=seed, success=met, sequences=criterion.sequences,
                          test_error=fraction_wrong(task, test, evaluate,
                                                    experiment.eval_batch_size),
                          wall_time=time.perf_counter() - started, curve=tuple(criterion.curve))
