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
import torch

from lstmlab.cells import IDENTITY
from lstmlab.reproduce import Experiment, Lstm1997Method, Lstm1997Settings
from lstmlab.reproduce import _registry as registry
from lstmlab.reproduce._construction_probe import (
    PhaseTimes,
    _pair,
    _run_pair,
    end_times,
    forces,
    main,
    phase_times,
    table,
    winner_verdicts,
    with_input_gate_bias,
    with_plateau,
)
from lstmlab.reproduce._lstm1997 import draw_member, network_config, probe_training
from lstmlab.reproduce._method import torch_threads
from lstmlab.tasks import ErrorPlateau, NoiseFreeLongLag
from lstmlab.tasks._stopping import TestSetRule
from lstmlab.training._network1997 import Network1997, map_weights
from lstmlab.training._online1997 import UpdateMode, online_sequence
from lstmlab.training._pool import stack

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


def _experiment(online: bool = True) -> Experiment:
    setup = replace(_ShortLag().setup, online=online)
    return Experiment(name="2a", title="2a, p = 5", make_task=lambda seed: _ShortLag(),
                      setup=setup, published=(), trials=3, budget=BUDGET)


@pytest.mark.parametrize("online", [True, False], ids=["per-step", "per-sequence"])
def test_phase_times_agree_with_the_method(caplog, online):
    seeds = [0, 1, 2]
    method = Lstm1997Method(Lstm1997Settings(population=3, curve_every=EVERY))
    with caplog.at_level(logging.INFO, logger="lstmlab.reproduce._lstm1997"):
        results = {r.seed: r for r in method.run_trials(_experiment(online), seeds, BUDGET,
                                                         lambda n, e: None)}
    switched = {int(r.getMessage().split()[1][:-1]): int(r.getMessage().split()[-2])
                for r in caplog.records if "memory cell added" in r.getMessage()}
    with torch_threads(1):
        times = phase_times(_experiment(online), seeds, BUDGET, every=EVERY)
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
    times = [PhaseTimes(0, 1800, 6000, 3000, 6000, "x", -0.1, 0.1),
             PhaseTimes(1, 2000, None, 4000, None, "y", None, None)]
    text = table(times)
    assert "| 0 | 1,800 | 6,000 | 3,000 | 6,000 | 4,200 | x | -0.100 | +0.100 |" in text
    assert "| 1 | 2,000 | — | 4,000 | — | — | y | — | — |" in text
    assert "- cell added after: 2 of 2, mean 1,900" in text
    assert "- x unit: 1 of 2, mean 6,000" in text
    assert "- first unit: 2 of 2, mean 3,500" in text
    assert "- second unit: 1 of 2, mean 6,000" in text
    assert "- solved - added: 1 of 2, mean 4,200" in text
    # seed 0's unit against the drift (x) came after y; seed 1's (y) came first
    assert "- the unit against the drift learned after the other or not at all: 1 of 2" in text


@pytest.mark.parametrize("linear", [False, True], ids=["logistic", "linear"])
def test_forces_are_minus_the_gradient_of_eq_16_on_the_cells_output_weights(linear):
    """Reference: autograd of E = 1/2 sum mask (t - y)^2 over the pair, split into the steps
    before the last and the last, with respect to weight_ho (the cell -> units x, y); the
    output units logistic (the text) or linear (the probe's ``--linear-output``)."""
    experiment = _experiment()
    task = experiment.make_task(0)
    setup = replace(experiment.setup, output_unit=IDENTITY) if linear else experiment.setup
    template = Network1997(network_config(setup), dtype=torch.float64)
    weights = stack([Network1997(template.config, generator=torch.Generator().manual_seed(s),
                                 dtype=torch.float64).weights() for s in (3, 4)])
    inputs, targets, mask = (part.to(torch.float64) for part in _pair(task))
    last = task.p - 1
    outputs, cell_output = _run_pair(template, weights, inputs)
    push = forces(outputs, cell_output, targets, mask, (last, last + 1), linear=linear)
    weight_ho = weights.weight_ho.detach().clone().requires_grad_(True)
    traced, _ = template(inputs.unsqueeze(1).expand(-1, 2, -1, -1),
                         weights=weights._replace(weight_ho=weight_ho))
    squared = 0.5 * (targets.unsqueeze(1) - traced).square() * mask[:, None, :, None]
    for steps, mine in ((slice(0, last), push[:last].sum(0)), (slice(last, last + 1), push[last])):
        (gradient,) = torch.autograd.grad(squared[steps].sum(), weight_ho, retain_graph=True)
        torch.testing.assert_close(mine, -gradient[:, last:last + 2, 0])
    # 2a's cell (no output gate, h the identity, no recurrence): y^c(t) = sum_{u <= t} y^in g,
    # y^in = sigmoid(x @ w_in), g = sigmoid(x @ w_c) (rows: input gate, then the cell)
    w_in, w_c = weights.cell.weight_ih[:, 0], weights.cell.weight_ih[:, 1]  # (K, I)
    written = torch.sigmoid(inputs @ w_in.T) * torch.sigmoid(inputs @ w_c.T)  # (T, 2, K)
    torch.testing.assert_close(cell_output, written.cumsum(0).transpose(1, 2))


def test_probe_training_updates_once_per_sequence_where_the_setup_is_not_online():
    """Reference: the members' first sequences fed by hand to ``online_sequence`` in
    per-sequence mode, from the members' own draws (no construction, so every weight learns;
    in 2a's phase 1 the two modes coincide, each input weight being used at one step)."""
    base = _experiment(online=False)
    experiment = replace(base, setup=replace(base.setup, add_cells_after=None))
    seeds, presented = [0, 1], 3
    found = {n: w for n, _, w, _ in probe_training(experiment, seeds, presented, presented)}
    template = Network1997(network_config(experiment.setup), dtype=torch.float64)
    by_hand = []
    for seed in seeds:
        member, weights = draw_member(experiment, seed, template, presented)
        weights = stack([weights])
        for _ in range(presented):
            batch = member.task.sample(1, member.generator)
            weights = online_sequence(
                template, weights, batch.inputs.to(torch.float64).unsqueeze(1),
                batch.targets.to(torch.float64).unsqueeze(1), batch.mask.unsqueeze(1),
                learning_rate=experiment.setup.learning_rate, mode=UpdateMode.SEQUENCE).weights
        by_hand.append(weights.weight_ho[0])
    torch.testing.assert_close(found[presented].weight_ho, torch.stack(by_hand))
    per_step = replace(experiment, setup=replace(experiment.setup, online=True))
    stepped = {n: w for n, _, w, _ in probe_training(per_step, seeds, presented, presented)}
    assert not torch.allclose(stepped[presented].weight_ho, found[presented].weight_ho)


def test_winner_verdicts_by_a_plain_loop():
    """Reference: step by step, sequence by sequence, in Python: the most active unit must be
    the target's (``winner``), and also above 0.75 (``winner_high``), at every masked step."""
    generator = torch.Generator().manual_seed(5)
    steps, members, pair, units = 4, 6, 2, 3
    targets = torch.nn.functional.one_hot(torch.randint(units, (steps, pair), generator=generator),
                                          units).double()
    mask = torch.ones(steps, pair)
    mask[0, 1] = 0.0
    # members: near the targets (right), scaled down (right but low), and random ones
    outputs = torch.rand(steps, members, pair, units, generator=generator, dtype=torch.float64)
    outputs[:, 0] = 0.1 + 0.8 * targets
    outputs[:, 1] = 0.1 + 0.5 * targets
    outputs[:, 2] = 0.1 + 0.8 * targets
    wrong = (int(targets[0, 1].argmax()) + 1) % units
    outputs[0, 2, 1] = 0.9 * torch.nn.functional.one_hot(torch.tensor(wrong), units)  # masked
    winner, high = winner_verdicts(outputs, targets, mask)
    for k in range(members):
        right = all(int(outputs[t, k, b].argmax()) == int(targets[t, b].argmax())
                    for t in range(steps) for b in range(pair) if mask[t, b])
        tall = right and all(float(outputs[t, k, b].max()) > 0.75
                             for t in range(steps) for b in range(pair) if mask[t, b])
        assert bool(winner[k]) == right and bool(high[k]) == tall
    assert winner[:3].tolist() == [True, True, True] and high[:3].tolist() == [True, False, True]


def test_with_input_gate_bias_is_the_reading_at_minus_3():
    """Reference: the stored reading 2a:input-gate-bias (bias -3.0), built independently."""
    text, reading = registry.experiment("2a"), registry.experiment("2a:input-gate-bias")
    assert with_input_gate_bias(text, -3.0).setup == reading.setup
    assert with_input_gate_bias(text, -1.0).setup.input_gate_bias == (-1.0,)


def test_end_times_judge_each_net_at_the_sequence_end_by_hand():
    """Reference: each member's own forward (K = 1) on the check's sequences, judged by the
    max absolute error of all outputs at the last step below 0.25 (2b's ABS(0.25))."""
    task = NoiseFreeLongLag(p=5, random_middle=True).with_end_errors()
    setup = replace(registry.experiment("2b:end-errors").setup, add_cells_after=PLATEAU)
    experiment = Experiment(name="2b", title="2b, p = 5", make_task=lambda seed: task,
                            setup=replace(setup, input_size=6, output_size=6),
                            published=(), trials=2, budget=1000)
    seeds, budget, size = [0, 1], 1000, 40  # seed 0: 0.975 right at 1,000, seed 1: none
    with torch_threads(1):
        times = end_times(experiment, seeds, budget, every=budget, size=size)
    weights = {n: w for n, _, w, _ in probe_training(experiment, seeds, budget, budget)}
    template = Network1997(network_config(experiment.setup), dtype=torch.float64)
    check = task.sample(size, torch.Generator().manual_seed(budget))
    for k, t in enumerate(times):
        own = map_weights(lambda part, k=k: part[k:k + 1], weights[budget])
        outputs, _ = template(check.inputs.to(torch.float64).unsqueeze(1), weights=own)
        error = (outputs[-1, 0] - check.targets[-1].to(torch.float64)).abs().amax(-1)
        assert t.seed == seeds[k]
        assert t.last_fraction == pytest.approx(float((error < 0.25).float().mean()))
        assert (t.solved == budget) == bool((error < 0.25).all())
    with pytest.raises(ValueError, match="2b"):
        end_times(_experiment(), seeds, budget, every=budget, size=size)


def test_main_runs_a_short_probe():
    text = main(["2a:input-gate-bias", "--seeds", "1", "--budget", "250", "--every", "250",
                 "--plateau", "50,0.5", "--learning-rate", "2.0"])
    assert text.startswith("| seed |") and "- solved: 0 of 1, mean —" in text


def test_last_step_trace_against_the_nets_own_forward():
    """Every check's last-step outputs and w_kc recomputed from the same training's weights
    through ``Network1997.forward`` (not the probe's step loop), on the pair by label."""
    from lstmlab.reproduce._construction_probe import last_step_trace, trace_table

    experiment = _experiment()
    rows = last_step_trace(experiment, [0, 1], 200, 50)
    assert [(r.seed, r.sequences) for r in rows] == [
        (seed, n) for n in (50, 100, 150, 200) for seed in (0, 1)]
    inputs, _, _ = (part.to(torch.float64) for part in _pair(experiment.make_task(0)))
    last = 4
    expected = []
    for presented, template, weights, _ in probe_training(experiment, [0, 1], 200, 50):
        if presented == 0:
            continue
        with torch.no_grad():
            outputs, _ = template(inputs.unsqueeze(1).expand(-1, 2, -1, -1), weights=weights)
        for k in range(2):
            expected.append((float(outputs[last, k, 0, last]), float(outputs[last, k, 1, last + 1]),
                             float(weights.weight_ho[k, last, -1])))
    got = [(r.x_on_x, r.y_on_y, r.w_xc) for r in rows]
    torch.testing.assert_close(torch.tensor(got), torch.tensor(expected), rtol=1e-12, atol=1e-12)
    assert trace_table(rows).count("\n") == 1 + len(rows)
    with pytest.raises(ValueError, match="expected 2a"):
        last_step_trace(registry.experiment("2b"), [0], 10, 5)
