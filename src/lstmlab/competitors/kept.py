"""A solution kept: the success rule the chunker is judged by.

[H97] §5.2 judges Experiment 2 by "during 10,000 successive, randomly chosen input sequences,
the maximal absolute error of all output units is always below 0.25" (0.2 for 2c). A net that
learns online keeps learning on those sequences, so a solution counts only if learning does not
undo it. The LSTM's solutions are stable and its tables stop at the first check
(:class:`~lstmlab.reproduce.criteria.Criterion`); the chunker's are not (the previous session:
18 of 18 trials on 2a "reach a solution" at a check, none was shown to keep it, against the
published 33 %). So the chunker is judged by this rule, stated exactly:

- the trial's stopping rule is met at a judgement at training sequence n (a check of a
  ``TestSetRule``, every ``check_every`` sequences; for a ``RecentWindowRule`` every sequence);
- the net then keeps it for the next ``keep`` training sequences (default 10,000, the paper's
  number), while it goes on learning: every one of those sequences is processed correctly as
  the net outputs it while learning (the task's ``is_correct``: 2a's ABS(0.25) at every step),
  and every judgement in the stretch meets the rule again;
- then the trial succeeds, and its "sequences to success" is n, where the kept solution was
  reached (so it compares with the paper's 32,400 for the chunker). A wrong sequence or a failed
  judgement voids the stretch; the next judgement that meets the rule starts a new one. A
  stretch still open when the budget ends is not a success: the solution was reached, not shown
  kept.

``keep = 0`` is the rule "reached once": success at the first judgement that meets the rule.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import torch

from lstmlab.reproduce.criteria import Criterion, fraction_wrong
from lstmlab.reproduce.experiment import Experiment
from lstmlab.reproduce.lstm1997 import CHECK_SEED_OFFSET, TEST_SEED_OFFSET
from lstmlab.reproduce.method import TrialProgress, TrialResult
from lstmlab.reproduce.trial_loop import Learner
from lstmlab.tasks.stopping import TestSetRule

#: [H97] §5.2: "10,000 successive, randomly chosen input sequences".
KEEP = 10_000


class KeptSolution:
    """The bookkeeping of the rule above for one trial: ``update`` after every training step
    with whether its sequences were right and the rule's verdict if it was judged (None when
    not); ``reached`` is n of the open stretch, ``kept`` says the stretch has lasted ``keep``."""

    def __init__(self, keep: int = KEEP) -> None:
        if keep < 0:
            raise ValueError(f"keep: expected >= 0 training sequences, received {keep}")
        self.keep = keep
        self.reached: int | None = None

    def update(self, sequences: int, all_right: bool, verdict: bool | None) -> bool:
        """``sequences``: training sequences presented so far; returns whether it is kept."""
        if self.reached is not None and (not all_right or verdict is False):
            self.reached = None
        if self.reached is None and verdict:
            self.reached = sequences
        return self.reached is not None and sequences - self.reached >= self.keep


def train_trials_kept(build: Learner, experiment: Experiment, seeds: Sequence[int],
                      budget: int, progress: TrialProgress, *, keep: int = KEEP,
                      curve_every: int = 500, report_every: int = 20) -> Iterator[TrialResult]:
    """``trial_loop.train_trials`` with the kept-solution rule, one training sequence per step:
    the same learner, seeds, stopping sets and test set; a trial ends when its solution is kept
    or the budget is spent."""
    presented = 0
    for seed in seeds:
        started = time.perf_counter()
        task = experiment.make_task(seed)
        generator = torch.Generator().manual_seed(seed)
        learn, evaluate = build(task, generator)
        criterion = Criterion(task, torch.Generator().manual_seed(seed + CHECK_SEED_OFFSET),
                              curve_every, experiment.eval_batch_size)
        every = criterion.rule.check_every if isinstance(criterion.rule, TestSetRule) else 1
        solution, kept, step = KeptSolution(keep), False, 0
        while not kept and criterion.sequences < budget:
            batch = task.sample(1, generator)
            outputs = learn(batch)
            correct = task.is_correct(outputs, batch)
            judged = (criterion.sequences + 1) % every == 0 and criterion.rule is not None
            met = criterion.observe(correct, task.errors(outputs, batch), evaluate)
            kept = solution.update(criterion.sequences, bool(correct.all()),
                                   met if judged else None)
            presented += 1
            step += 1
            if step % report_every == 0:
                progress(presented, criterion.recent_error)
        if not kept and criterion.rule is None:
            kept = criterion.final_success(evaluate)
        progress(presented, criterion.recent_error)
        test = torch.Generator().manual_seed(seed + TEST_SEED_OFFSET)
        yield TrialResult(seed=seed, success=kept,
                          sequences=solution.reached if kept and solution.reached is not None
                          else criterion.sequences,
                          test_error=fraction_wrong(task, test, evaluate,
                                                    experiment.eval_batch_size),
                          wall_time=time.perf_counter() - started, curve=tuple(criterion.curve))
