"""One trial's stopping rule and learning curve, the same for every method.

A task lists the paper's stopping rules in the order the paper reports them (ST1 then ST2, ...);
a trial succeeds when the *last* one is met. Two kinds (``lstmlab.tasks._stopping``):

- a ``RecentWindowRule`` (ST3 of Experiments 4-6) looks at the training sequences themselves:
  :meth:`Criterion.observe` feeds it the verdicts and errors of every training sequence;
- a ``TestSetRule`` (Experiments 1-3) is checked on the task's ``stopping_batches`` every
  ``check_every`` training sequences: :meth:`Criterion.observe` calls back ``evaluate(batch)``
  to get the network's outputs on that set.

Sequences until success therefore have the resolution ``check_every`` for test-set rules (the
paper does not say how often it checked) and one sequence for window rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
from torch import Tensor

from lstmlab.tasks import Batch, Task
from lstmlab.tasks._stopping import RecentWindowRule, TestSetRule


class Criterion:
    """The stopping rule and learning curve of one trial.

    ``generator`` draws the stopping sets (kept apart from the training stream, so checking
    does not change what the network is trained on). ``curve_every`` is the number of training
    sequences averaged into one point of the learning curve.
    """

    def __init__(self, task: Task, generator: torch.Generator, curve_every: int = 500,
                 batch_size: int = 256) -> None:
        self.task = task
        self.rule = task.stopping[-1] if task.stopping else None
        self.generator = generator
        self.batch_size = batch_size
        self.tracker = _Window(self.rule) if isinstance(self.rule, RecentWindowRule) else None
        self.sequences = 0
        self.curve_every = curve_every
        self.curve: list[tuple[int, float]] = []
        self._error_sum, self._error_count = 0.0, 0
        self.recent_error = float("inf")

    @property
    def reads_verdicts(self) -> bool:
        """Whether :meth:`observe_one` reads its ``right`` (a recent-window rule does; a
        test-set rule judges its own set, and a curve reads only the errors)."""
        return self.tracker is not None

    def observe(self, correct: Tensor, errors: Tensor,
                evaluate: Callable[[Batch], Tensor]) -> bool:
        """Record ``correct`` (N,) and ``errors`` (N,) of the N training sequences just
        presented; return True when the stopping rule is met (then ``sequences`` is final)."""
        return self.observe_values(correct.tolist(), errors.tolist(), evaluate)

    def observe_values(self, correct: Sequence[bool], errors: Sequence[float],
                       evaluate: Callable[[Batch], Tensor]) -> bool:
        """:meth:`observe` with the verdicts and errors as plain Python values (a population
        converts its (K,) tensors once per step, not once per member)."""
        met = False
        for right, error in zip(correct, errors, strict=True):
            self.sequences += 1
            self._error_sum += error
            self._error_count += 1
            if self._error_count == self.curve_every:
                self._close_curve_point()
            if self.tracker is not None:
                self.tracker.update(bool(right), float(error))
                met = met or self.tracker.is_met()
            if met:
                break
        if isinstance(self.rule, TestSetRule) and self._due(len(correct)):
            met = self.check(evaluate)
        if met and self._error_count:
            self._close_curve_point()
        return met

    def observe_one(self, right: bool, error: float, evaluate: Callable[[Batch], Tensor]) -> bool:
        """:meth:`observe_values` of one sequence (a population's step: one per member), its
        steps in the same order without the loop."""
        self.sequences += 1
        self._error_sum += error
        self._error_count += 1
        if self._error_count == self.curve_every:
            self._close_curve_point()
        met = False
        if self.tracker is not None:
            self.tracker.update(bool(right), float(error))
            met = self.tracker.is_met()
        if isinstance(self.rule, TestSetRule) and self.sequences % self.rule.check_every == 0:
            met = self.check(evaluate)  # _due(1)
        if met and self._error_count:
            self._close_curve_point()
        return met

    def _due(self, presented: int) -> bool:
        every = self.rule.check_every
        return self.sequences // every != (self.sequences - presented) // every

    def check(self, evaluate: Callable[[Batch], Tensor]) -> bool:
        """Evaluate a test-set rule now on a fresh stopping set.

        Stops evaluating once more than ``max_wrong`` sequences are wrong (the rule cannot be
        met any more), but still draws the rest of the set, so the stopping-set generator
        moves exactly as in a full check and later checks see the same sequences: by the
        batches' ``skip_rest`` where they have one (``FreshBatches``: the random draws alone,
        no batch built), else by drawing each batch. Where the rule reads no errors, a batch
        with ``parts`` (Exp. 1's distinct strings, ``DistinctStrings.parts``) is judged part
        by part, and the check stops at the part where too many are wrong."""
        correct, errors, wrong = [], [], 0
        # a rule without a mean-error bound reads no errors: not computed (Exp. 1's 512 strings)
        needs_errors = self.rule.max_mean_error is not None
        batches = self.task.stopping_batches(self.generator, self.batch_size)
        for batch in batches:
            # a batch judged in parts (Exp. 1's distinct strings, ``DistinctStrings.parts``)
            # where the rule reads only the count: a part with too many wrong ends the check
            parts = getattr(batch, "parts", None)
            for part in (batch,) if needs_errors or parts is None else parts():
                outputs = evaluate(part)
                right = self.task.is_correct(outputs, part)
                wrong += int((~right).sum())
                correct.append(right)
                if needs_errors:
                    errors.append(self.task.errors(outputs, part))
                if wrong > self.rule.max_wrong:
                    break
            if wrong > self.rule.max_wrong:
                break
        if wrong > self.rule.max_wrong:
            skip_rest = getattr(batches, "skip_rest", None)
            if skip_rest is not None:
                skip_rest()
            else:
                for _ in batches:
                    pass
            return False
        every = torch.cat(correct)
        return self.rule.is_met(every, torch.cat(errors) if needs_errors
                                else torch.zeros(every.shape, dtype=torch.float64))

    def _close_curve_point(self) -> None:
        self.recent_error = self._error_sum / self._error_count
        self.curve.append((self.sequences, self.recent_error))
        self._error_sum, self._error_count = 0.0, 0

    def state_dict(self) -> dict[str, Any]:
        """Everything that decides how this trial's judging goes on, as tensors and plain
        types (for ``torch.load(weights_only=True)``): counts, curve, the error sums of the
        open curve point, the stopping-set generator and the recent-window tracker."""
        tracker = None if self.tracker is None else self.tracker.state_dict()
        return {"sequences": self.sequences, "curve": [list(point) for point in self.curve],
                "error_sum": self._error_sum, "error_count": self._error_count,
                "recent_error": self.recent_error, "generator": self.generator.get_state(),
                "tracker": tracker}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state_dict()``'s ``state``; ValueError (nothing changed) when it
        does not fit this criterion's rule."""
        tracker = state["tracker"]
        if (tracker is None) != (self.tracker is None):
            raise ValueError(f"state['tracker']: expected {'a' if self.tracker else 'no'} "
                             f"recent-window tracker for rule {self.rule!r}, received "
                             f"{'none' if tracker is None else 'one'}")
        if tracker is not None:
            for name, mine in self.tracker.state_dict().items():
                saved = tracker[name]
                if saved.shape != mine.shape or saved.dtype != mine.dtype:
                    raise ValueError(f"state['tracker'][{name!r}]: expected {mine.dtype} of "
                                     f"shape {tuple(mine.shape)}, received {saved.dtype} of "
                                     f"shape {tuple(saved.shape)}")
        generator = torch.Generator()
        generator.set_state(state["generator"])
        curve = [(int(sequences), float(error)) for sequences, error in state["curve"]]
        self.generator.set_state(generator.get_state())
        if tracker is not None:
            self.tracker.load_state_dict(tracker)
        self.sequences, self.curve = int(state["sequences"]), curve
        self._error_sum, self._error_count = float(state["error_sum"]), int(state["error_count"])
        self.recent_error = float(state["recent_error"])

    def final_success(self, evaluate: Callable[[Batch], Tensor]) -> bool:
        """Where the paper has no stopping rule (train for the whole budget), success is every
        sequence of the stopping set right."""
        batches = self.task.stopping_batches(self.generator, self.batch_size)
        return bool(_verdicts(self.task, batches, evaluate).all())


def fraction_wrong(task: Task, generator: torch.Generator,
                   evaluate: Callable[[Batch], Tensor], batch_size: int = 256) -> float:
    """The fraction of the task's test set processed incorrectly (the stopping set where the
    paper has no test set, e.g. Experiment 2a)."""
    batches = (task.test_batches(generator, batch_size) if task.test_size
               else task.stopping_batches(generator, batch_size))
    return 1.0 - float(_verdicts(task, batches, evaluate).double().mean())


def _verdicts(task: Task, batches: Iterable[Batch],
              evaluate: Callable[[Batch], Tensor]) -> Tensor:
    """``is_correct`` (N,) of the network over all ``batches``."""
    return torch.cat([task.is_correct(evaluate(batch), batch) for batch in batches])


class _Window:
    """One network's :class:`~lstmlab.tasks._stopping.WindowTracker`, in plain Python.

    A whole run observes every training sequence of every member, so the tracker's tensor
    operations (a (1, window) sum and mean per sequence) dominated a run's time; here an update
    is O(1) and the count of wrong sequences is kept as a number. The decision is the
    tracker's exactly: the mean error is computed by the same torch reduction of the same
    (1, window) float64 values in the same slot order, and only when the count allows success.
    ``state_dict`` has the tracker's tensors (checkpoints are interchangeable)."""

    def __init__(self, rule: RecentWindowRule) -> None:
        self.rule = rule
        self.correct = [True] * rule.window
        self.errors = [0.0] * rule.window
        self.seen = 0
        self.wrong = 0

    def update(self, correct: bool, error: float) -> None:
        slot = self.seen % self.rule.window
        self.wrong += (not correct) - (not self.correct[slot])
        self.correct[slot], self.errors[slot] = correct, error
        self.seen += 1

    def is_met(self) -> bool:
        if self.seen < self.rule.window or self.wrong > self.rule.max_wrong:
            return False
        if self.rule.max_mean_error is None:
            return True
        mean = torch.tensor([self.errors], dtype=torch.float64).mean(dim=1)
        return bool(mean[0] < self.rule.max_mean_error)

    def state_dict(self) -> dict[str, Tensor]:
        return {"correct": torch.tensor([self.correct], dtype=torch.bool),
                "errors": torch.tensor([self.errors], dtype=torch.float64),
                "seen": torch.tensor([self.seen], dtype=torch.long)}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        self.correct = [bool(v) for v in state["correct"][0].tolist()]
        self.errors = [float(v) for v in state["errors"][0].tolist()]
        self.seen = int(state["seen"][0])
        self.wrong = self.correct.count(False)
