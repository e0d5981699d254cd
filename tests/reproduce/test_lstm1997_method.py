"""The population runner of ``lstm1997`` against one network trained alone in a plain loop.

The reference below is the paper's protocol written out for a single network: draw weights,
present one sequence at a time with ``online_sequence``, feed the stopping rule, stop. The
method trains members in lockstep, lets them leave and refills the population; each seed must
still give exactly the reference's trial.
"""

from __future__ import annotations

import pytest
import torch
from reproduce_fakes import BIT_SETUP, bit_experiment

from lstmlab.reproduce import Lstm1997Method, Lstm1997Settings
from lstmlab.reproduce._lstm1997 import network_config
from lstmlab.reproduce._method import torch_threads
from lstmlab.reproduce._trial_loop import CHECK_SEED_OFFSET, TEST_SEED_OFFSET
from lstmlab.tasks._long_lags import SETUP_2A
from lstmlab.tasks._reber import SETUPS
from lstmlab.tasks._setup import weight_count
from lstmlab.tasks._stopping import RecentWindowRule, TestSetRule
from lstmlab.training._network1997 import Network1997
from lstmlab.training._network1997_table10 import EXPERIMENT_1_3X2, experiment_2ab
from lstmlab.training._online1997 import online_sequence
from lstmlab.training._pool import stack

WINDOW = RecentWindowRule("ST3", window=20, max_mean_error=0.2)
TEST_SET = TestSetRule("all right", check_every=20)
BUDGET = 700


def _reference(task, seed: int, budget: int) -> tuple[bool, int, float]:
    """(success, sequences, test error) of one network trained alone."""
    rule = task.stopping[-1]
    generator = torch.Generator().manual_seed(seed)
    net = Network1997(network_config(task.setup), generator=generator, dtype=torch.float64)
    weights = stack([net.weights()])
    checks = torch.Generator().manual_seed(seed + CHECK_SEED_OFFSET)
    tracker = rule.tracker(1) if isinstance(rule, RecentWindowRule) else None

    def outputs(batch, weights):
        with torch.no_grad():
            return net(batch.inputs.double().unsqueeze(1), weights=weights)[0].squeeze(1)

    success, sequences = False, budget
    for n in range(1, budget + 1):
        batch = task.sample(1, generator)
        result = online_sequence(net, weights, batch.inputs.double().unsqueeze(1),
                                 batch.targets.double().unsqueeze(1), batch.mask.unsqueeze(1),
                                 learning_rate=task.setup.learning_rate)
        weights, out = result.weights, result.outputs.squeeze(1)
        if tracker is not None:
            tracker.update(task.is_correct(out, batch), task.errors(out, batch))
            met = bool(tracker.is_met()[0])
        elif n % rule.check_every == 0:
            stop = list(task.stopping_batches(checks))
            met = all(bool(task.is_correct(outputs(b, weights), b).all()) for b in stop)
        else:
            met = False
        if met:
            success, sequences = True, n
            break
    tests = list(task.test_batches(torch.Generator().manual_seed(seed + TEST_SEED_OFFSET)))
    right = torch.cat([task.is_correct(outputs(b, weights), b) for b in tests])
    return success, sequences, 1.0 - float(right.double().mean())


@pytest.mark.parametrize("rule", [WINDOW, TEST_SET], ids=["window rule", "test-set rule"])
def test_population_gives_each_seed_the_trial_it_gets_alone(rule):
    experiment = bit_experiment(rule, budget=BUDGET)
    method = Lstm1997Method(Lstm1997Settings(population=3, curve_every=100))
    seeds = [0, 1, 2, 3]
    reports = []
    results = list(method.run_trials(experiment, seeds, BUDGET,
                                     lambda n, e: reports.append(n)))
    assert sorted(r.seed for r in results) == seeds
    for result in results:
        with torch_threads(1):
            success, sequences, test_error = _reference(experiment.make_task(result.seed),
                                                        result.seed, BUDGET)
        assert (result.success, result.sequences) == (success, sequences)
        assert result.test_error == pytest.approx(test_error, abs=1e-12)
    assert any(r.success for r in results) and reports[-1] == sum(r.sequences for r in results)
    if rule is TEST_SET:
        assert all(r.sequences % 20 == 0 for r in results if r.success)


def test_network_from_the_tasks_setup_is_table_10s():
    assert network_config(SETUPS["1-5"]) == EXPERIMENT_1_3X2
    assert network_config(SETUP_2A) == experiment_2ab(100)
    for setup in (SETUPS["1-1"], SETUPS["1-5"], SETUP_2A, BIT_SETUP):
        net = Network1997(network_config(setup))
        assert net.num_weights == weight_count(setup)
    assert Network1997(network_config(SETUPS["1-5"])).num_weights == 276  # [H97] Table 10


def test_forget_gate_setups_are_refused():
    from dataclasses import replace

    with pytest.raises(ValueError, match="setup: expected a 1997 set-up without forget gates"):
        network_config(replace(BIT_SETUP, forget_gate_bias=(1.0, 1.0)))


@pytest.mark.parametrize("name", ["1", "2a", "2c", "4:linear-output", "6b"])
def test_checks_by_the_kernel_equal_the_torch_forward(name):
    """Stopping and test sets are judged from the C loop's outputs (no learning) by default:
    the reference is the torch forward of the same weights, at every real step (after a
    sequence's end the kernel computes nothing and gives 0), and the verdicts are the same."""
    from lstmlab.reproduce._lstm1997 import _evaluate, network_config
    from lstmlab.reproduce._registry import experiment
    from lstmlab.training._network1997 import Network1997, population_weights

    exp = experiment(name)
    template = Network1997(network_config(exp.setup), dtype=torch.float64)
    weights = population_weights(template, [torch.Generator().manual_seed(1)])
    task = exp.make_task(0)
    batch = task.sample(40, torch.Generator().manual_seed(2))
    real = (torch.arange(batch.steps)[:, None] < batch.lengths).unsqueeze(-1)  # (T, B, 1)
    kernel = _evaluate(template, weights, batch, kernel=True)
    forward = _evaluate(template, weights, batch, kernel=False)
    torch.testing.assert_close(kernel * real, forward * real, rtol=0, atol=1e-13)
    assert torch.equal(kernel * ~real, torch.zeros_like(kernel))
    assert torch.equal(task.is_correct(kernel, batch), task.is_correct(forward, batch))
    torch.testing.assert_close(task.errors(kernel, batch), task.errors(forward, batch),
                               rtol=0, atol=1e-12)


def test_staging_reuses_one_buffer_and_converts_as_to_does():
    from lstmlab.reproduce._lstm1997 import _Staging

    staging = _Staging(torch.float64)
    generator = torch.Generator().manual_seed(0)
    first = torch.randn(12, 3, 5, generator=generator)
    a = staging.inputs(first)
    torch.testing.assert_close(a, first.to(torch.float64), rtol=0, atol=0)
    shorter = torch.randn(7, 3, 5, generator=generator)
    b = staging.inputs(shorter)
    assert b.data_ptr() == a.data_ptr() and b.is_contiguous()  # the same memory, reused
    torch.testing.assert_close(b, shorter.to(torch.float64), rtol=0, atol=0)
    longer = torch.randn(40, 3, 5, generator=generator)  # past the spare rows: a new buffer
    torch.testing.assert_close(staging.inputs(longer), longer.to(torch.float64), rtol=0, atol=0)
    other = torch.randn(6, 2, 5, generator=generator)  # a member left: another shape
    torch.testing.assert_close(staging.inputs(other), other.to(torch.float64), rtol=0, atol=0)
    same = torch.randn(4, 2, 5, dtype=torch.float64, generator=generator)
    assert staging.inputs(same) is same
