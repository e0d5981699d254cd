"""``stopping_set_probe``: the reading's set, its verdicts against the torch forward, its table."""

from __future__ import annotations

import pytest
import torch

from lstmlab.reproduce._lstm1997 import _evaluate, probe_training
from lstmlab.reproduce._registry import experiment
from lstmlab.reproduce._stopping_set_probe import (
    Check,
    main,
    stopping_set,
    stopping_set_trace,
    summary,
)
from lstmlab.reproduce._trial_loop import Trial
from lstmlab.training._pool import row, stack


@pytest.mark.parametrize("name", ["3a", "3b"])
def test_the_probes_set_is_the_one_the_reading_judges_every_check_on(name):
    trial = Trial(experiment(f"{name}:fixed-stopping-set"), 4)
    [judged] = trial.task.stopping_batches(trial.criterion.generator, 1000)
    probed = stopping_set(experiment(name), 4)
    torch.testing.assert_close(probed.inputs, judged.inputs, rtol=0, atol=0)
    assert torch.equal(probed.labels, judged.labels) and probed.batch_size == 256


def test_checks_are_the_torch_forwards_verdicts_at_every_check_from_start():
    """Reference: the same training (probe_training), the set judged by the torch forward
    instead of the C loop; the rule's verdict recomputed from those outputs."""
    three = experiment("3a")
    task = three.make_task(0)
    checks = stopping_set_trace(three, [0, 1], budget=300, start=200)
    assert [(c.seed, c.sequences) for c in checks] == [(0, 200), (1, 200), (0, 300), (1, 300)]
    reference = {}
    for presented, template, weights, _ in probe_training(three, [0, 1], 300, 100):
        for k, seed in enumerate((0, 1)):
            batch = stopping_set(three, seed)
            outputs = _evaluate(template, stack([row(weights, k)]), batch, kernel=False)
            right, errors = task.is_correct(outputs, batch), task.errors(outputs, batch)
            reference[seed, presented] = (tuple((~right).nonzero().flatten().tolist()),
                                          float(errors.mean()),
                                          task.stopping[-1].is_met(right, errors))
    for check in checks:
        wrong, mean, met = reference[check.seed, check.sequences]
        assert check.wrong == wrong and check.met == met
        assert check.mean_error == pytest.approx(mean, abs=1e-12)


def test_summary_reads_the_checks_before_the_stop_and_the_sequence_wrong_most_often():
    three = experiment("3a")
    batch = stopping_set(three, 4)
    checks = [Check(4, 100, (39, 7), 0.02, False), Check(4, 200, (39,), 0.005, False),
              Check(4, 300, (), 0.004, True), Check(4, 400, (), 0.003, True)]
    noise = float(batch.inputs[3:int(batch.lengths[39]), 39].sum())
    text = summary(three, checks)
    assert (f"| 4 | 100-200 | 300 | 2 of 2 | 1 | 39: 2 | {int(batch.labels[39]) + 1} | "
            f"{noise:+.2f} |") in text


@pytest.mark.parametrize("name", ["4", "1", "2c"])
def test_the_probe_refuses_experiments_other_than_exp_3(name):
    with pytest.raises(ValueError, match=r"expected Exp. 3 \(3a, 3b, 3c\) or a setting"):
        stopping_set_trace(experiment(name), [0], 10)


def test_the_probe_refuses_a_budget_below_one():
    with pytest.raises(ValueError, match="budget, start: expected >= 1 and >= 0, received 0"):
        stopping_set_trace(experiment("3a"), [0], 0)


def test_main_runs_a_short_probe():
    text = main(["3b", "--seeds", "2", "--budget", "100"])
    assert text.startswith("| seed |") and "| 2 | 100-100 | not met | 1 of 1 |" in text
