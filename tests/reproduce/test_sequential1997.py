"""[H97] §5.2's sequential construction (Experiments 2a/2b): phase 1 is a net without its
memory cell, the switch rule fires where it should, and the method runs both phases.

References: phase 1 against a logistic layer ``y = sigmoid(W_io x)`` trained online by hand
(the net with the cell absent); the plateau rule against a hand-made error sequence; the
method against one network trained alone in a plain loop, with the rule written out again.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
import torch
from torch.testing import assert_close

from lstmlab.reproduce import Experiment, Lstm1997Method, Lstm1997Settings
from lstmlab.reproduce._lstm1997 import network_config
from lstmlab.reproduce._method import torch_threads
from lstmlab.reproduce._sequential1997 import PlateauTracker, phase_one_mask, without_cells
from lstmlab.reproduce._trial_loop import CHECK_SEED_OFFSET, TEST_SEED_OFFSET
from lstmlab.tasks import Connectivity, ErrorPlateau, NoiseFreeLongLag
from lstmlab.tasks._long_lags import SETUP_2A, SETUP_2B
from lstmlab.tasks._stopping import TestSetRule
from lstmlab.training._network1997 import (
    Network1997,
    map_weights,
    population_weights,
)
from lstmlab.training._online1997 import online_sequence
from lstmlab.training._pool import row, stack

F64 = torch.float64
P = 5  # a short 2a: 6 symbols, 5 steps


def _flat(weights) -> list[torch.Tensor]:
    return [w for w in (*weights.cell, *weights[1:]) if w is not None]


def _one(weights, k: int):
    """Member ``k`` of a population as a population of one."""
    return map_weights(lambda part: part[k : k + 1].clone(), weights)


def test_phase_one_is_the_net_without_its_cell():
    """Staged member 0: weight_io alone changes, weight_ho stays exactly 0, and the outputs
    are those of sigmoid(x @ W_io.T) trained online by hand. Unstaged member 1 beside it
    trains exactly as it does alone without a mask."""
    net = Network1997(network_config(NoiseFreeLongLag(P).setup), dtype=F64)
    start = without_cells(population_weights(
        net, [torch.Generator().manual_seed(s) for s in (3, 4)]))
    staged = torch.tensor([True, False])
    task, data = NoiseFreeLongLag(P), torch.Generator().manual_seed(5)
    W_io = start.weight_io[0].clone()  # (O, I): the hand-trained net without a cell
    current, alone = start, _one(start, 1)
    for _ in range(6):
        batch = task.sample(2, data)
        # (T, K=2, B=1, .): member k reads sequence k
        inputs, targets = batch.inputs.double().unsqueeze(2), batch.targets.double().unsqueeze(2)
        mask = batch.mask.unsqueeze(2)
        result = online_sequence(net, current, inputs, targets, mask, learning_rate=1.0,
                                 trainable=phase_one_mask(current, staged))
        by_hand = []
        for x, target in zip(inputs[:, 0, 0], targets[:, 0, 0], strict=True):
            y = torch.sigmoid(W_io @ x)
            by_hand.append(y)
            W_io += torch.outer((target - y) * y * (1 - y), x)  # eqs. 17, 19, 22, alpha 1
        assert_close(result.outputs[:, 0, 0], torch.stack(by_hand), rtol=0, atol=1e-12)
        solo = online_sequence(net, alone, inputs[:, 1:], targets[:, 1:], mask[:, 1:],
                               learning_rate=1.0)
        assert_close(result.outputs[:, 1:], solo.outputs, rtol=0, atol=1e-12)
        current, alone = result.weights, solo.weights
    assert_close(current.weight_io[0], W_io, rtol=0, atol=1e-12)
    assert not torch.equal(W_io, start.weight_io[0])
    kept = row(current, 0)._replace(weight_io=None)
    for got, want in zip(_flat(kept), _flat(row(start, 0)._replace(weight_io=None)),
                         strict=True):
        assert torch.equal(got, want)
    assert not current.weight_ho[0].any()
    for got, want in zip(_flat(row(current, 1)), _flat(row(alone, 0)), strict=True):
        assert_close(got, want, rtol=0, atol=1e-12)


def test_plateau_rule_on_a_hand_made_error_sequence():
    """Windows of 3, min_decrease 0.5: window means 8, 4, 1. 4 is not below 0.5 * 8 (a fall of
    exactly half is too little), so the rule fires at sequence 6, once."""
    tracker = PlateauTracker(ErrorPlateau(window=3, min_decrease=0.5))
    fired = [tracker.observe(e) for e in (9.0, 8.0, 7.0, 5.0, 4.0, 3.0, 1.0, 1.0, 1.0)]
    assert fired == [False] * 5 + [True] + [False] * 3
    assert tracker.fired_at == 6
    # Means 8, 3.9, 1.9, 1.0: each below half the previous until the last (1.0 > 0.95).
    tracker = PlateauTracker(ErrorPlateau(window=2, min_decrease=0.5))
    fired = [tracker.observe(e) for e in (8.0, 8.0, 3.9, 3.9, 1.9, 1.9, 1.0, 1.0)]
    assert fired.index(True) == 7 and tracker.fired_at == 8 and sum(fired) == 1


@pytest.mark.parametrize(("window", "min_decrease", "match"), [
    (0, 0.1, "window"), (10, 1.0, "min_decrease"), (10, -0.1, "min_decrease")])
def test_plateau_rule_refuses_bad_settings(window, min_decrease, match):
    with pytest.raises(ValueError, match=match):
        ErrorPlateau(window=window, min_decrease=min_decrease)


def test_only_2a_and_2b_are_built_sequentially():
    assert SETUP_2A.add_cells_after is not None and SETUP_2B.add_cells_after is not None
    assert SETUP_2A.connectivity is Connectivity.B
    with pytest.raises(ValueError, match="add_cells_after"):
        replace(SETUP_2A, connectivity=Connectivity.F)


PLATEAU = ErrorPlateau(window=25, min_decrease=0.1)
BUDGET = 1000


class _ShortLag(NoiseFreeLongLag):
    """2a with p = 5, its stopping rule checked every 50 sequences on 200 fresh sequences."""

    def __init__(self) -> None:
        super().__init__(P)
        self.setup = replace(self.setup, add_cells_after=PLATEAU)
        self.stopping = (TestSetRule("ABS(0.25)", check_every=50),)
        self.test_size = 200


def _reference(seed: int) -> tuple[bool, int, float, int | None]:
    """(success, sequences, test error, switch) of one network trained alone."""
    task = _ShortLag()
    generator = torch.Generator().manual_seed(seed)
    net = Network1997(network_config(task.setup), generator=generator, dtype=F64)
    drawn = stack([net.weights()])
    weights = drawn._replace(weight_ho=torch.zeros_like(drawn.weight_ho))
    frozen = map_weights(torch.zeros_like, drawn)._replace(
        weight_io=torch.ones_like(drawn.weight_io))
    checks = torch.Generator().manual_seed(seed + CHECK_SEED_OFFSET)
    windows, total, switch = [], 0.0, None

    def outputs(batch):
        with torch.no_grad():
            return net(batch.inputs.double().unsqueeze(1), weights=weights)[0].squeeze(1)

    success, sequences = False, BUDGET
    for n in range(1, BUDGET + 1):
        batch = task.sample(1, generator)
        result = online_sequence(net, weights, batch.inputs.double().unsqueeze(1),
                                 batch.targets.double().unsqueeze(1), batch.mask.unsqueeze(1),
                                 learning_rate=1.0, trainable=frozen if switch is None else None)
        weights = result.weights
        if switch is None:
            total += float(result.loss[0])
            if n % PLATEAU.window == 0:
                windows.append(total / PLATEAU.window)
                total = 0.0
                if len(windows) > 1 and windows[-1] >= 0.9 * windows[-2]:
                    switch = n
                    weights = weights._replace(weight_ho=drawn.weight_ho.clone())
        if n % 50 == 0 and all(bool(task.is_correct(outputs(b), b).all())
                               for b in task.stopping_batches(checks)):
            success, sequences = True, n
            break
    tests = task.test_batches(torch.Generator().manual_seed(seed + TEST_SEED_OFFSET))
    right = torch.cat([task.is_correct(outputs(b), b) for b in tests])
    return success, sequences, 1.0 - float(right.double().mean()), switch


def test_method_trains_without_then_with_the_cell(caplog):
    """Each seed's trial in a population of 2 (3 seeds: one joins late) equals the network
    trained alone; every member switches, and a short 2a (p = 5) is learnt after the switch."""
    experiment = Experiment(name="2a", title="2a, p = 5", make_task=lambda seed: _ShortLag(),
                            setup=_ShortLag().setup, published=(), trials=3, budget=BUDGET)
    method = Lstm1997Method(Lstm1997Settings(population=2, curve_every=50))
    with caplog.at_level(logging.INFO, logger="lstmlab.reproduce._lstm1997"):
        results = list(method.run_trials(experiment, [0, 1, 2], BUDGET, lambda n, e: None))
    switched = {int(r.getMessage().split()[1][:-1]): int(r.getMessage().split()[-2])
                for r in caplog.records if "memory cell added" in r.getMessage()}
    for result in results:
        with torch_threads(1):
            success, sequences, test_error, switch = _reference(result.seed)
        assert (result.success, result.sequences) == (success, sequences)
        assert result.test_error == pytest.approx(test_error, abs=1e-12)
        assert switched[result.seed] == switch and switch < sequences
    assert sum(r.success for r in results) >= 2
