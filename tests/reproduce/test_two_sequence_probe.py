"""``two_sequence_probe``: its states against an independent float64 forward of [H97]'s
equations (3a-3c's output unit has no bias), its R^2 against least squares, checkpoints, CLI."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from reference1997 import forward_1997, scaled_members

from lstmlab.reproduce import _registry as registry
from lstmlab.reproduce._adding_probe import explained, unroll
from lstmlab.reproduce._method import torch_threads
from lstmlab.reproduce._two_sequence_probe import (
    TwoSequenceState,
    from_checkpoints,
    main,
    table,
    two_sequence_states,
    two_sequence_trace,
    with_variant,
)
from lstmlab.tasks._two_sequence import TwoSequence
from lstmlab.training._pool import row, stack


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


@pytest.mark.parametrize(("variant", "N"), [("3a", 3), ("3b", 1)])
def test_states_against_an_independent_forward(variant, N):
    template, weights = scaled_members(variant)
    assert weights.bias_o is None  # Table 10: no output bias in 3a-3c
    task = TwoSequence(variant, T=20, N=N)
    batch = task.sample(6, torch.Generator().manual_seed(2))
    assert len(set(batch.lengths.tolist())) > 1  # padded: sequences end at different steps
    states = two_sequence_states(template, weights, batch, task, [0, 1], [10, 10])
    target = task.noise_free_targets(batch).double()
    ends, signals, outputs, grads = [], [], [], []
    for k in range(2):
        member = row(weights, k)
        per = [forward_1997(member, batch.inputs[:int(batch.lengths[n]), n].double(),
                            batch.targets[int(batch.lengths[n]) - 1, n, 0].double(),
                            3, 1, False) for n in range(6)]
        ends.append(torch.stack([p[0][-1] for p in per]))
        signals.append(torch.stack([p[0][N - 1] for p in per]))
        outputs.append(torch.stack([p[3] for p in per]))
        grads.append(torch.stack([p[4] for p in per]))
        gate_mean = torch.stack([p[1].mean(0) for p in per]).mean(0)
        assert states[k].gate_in == pytest.approx(gate_mean.tolist(), rel=1e-12)
        gate_signal = torch.stack([p[1][N - 1] for p in per]).mean(0)
        assert states[k].gate_signal == pytest.approx(gate_signal.tolist(), rel=1e-12)
        assert states[k].error == pytest.approx(float((outputs[k] - target).abs().mean()),
                                                rel=1e-12)
        assert states[k].state_end == pytest.approx(float(ends[k].abs().mean()), rel=1e-12)
        assert states[k].spread_end == pytest.approx(float(ends[k].std(0).mean()), rel=1e-12)
        assert states[k].signal == pytest.approx(float(grads[k].abs().mean()), rel=1e-9)
        assert states[k].weight == pytest.approx(float(weights.weight_ho[k].abs().max()))
    held_end = explained(torch.stack(ends), target)
    held_signal = explained(torch.stack(signals), target)
    assert [s.held_end for s in states] == pytest.approx(held_end.tolist(), rel=1e-12)
    assert [s.held_signal for s in states] == pytest.approx(held_signal.tolist(), rel=1e-12)
    # the marks are the first and the N-th step, whatever the sequence holds
    u = unroll(template, weights, batch, torch.tensor([[0, N - 1]]).expand(6, 2))
    torch.testing.assert_close(u.marks[1], torch.stack(signals))


def test_a_net_that_holds_the_class_is_told_from_one_that_does_not():
    """A cell whose input gate is open only at the first step keeps the class to the end
    (R^2 near 1); the same cell with the gate open at every step loses it to the noise."""
    template, weights = scaled_members("3a", 1)
    member = row(weights, 0)
    cell = member.cell
    w_ih, w_hh, bias = (t.clone().zero_() for t in (cell.weight_ih, cell.weight_hh, cell.bias))
    w_ih[3, 0] = 1.0  # cell 1 reads the input; gates at their biases only
    bias[0], bias[6] = 10.0, 10.0  # input and output gate of block 1 open
    bias[1], bias[2] = -30.0, -30.0  # the other blocks' input gates shut
    open_gate = type(member)(type(cell)(w_ih, w_hh, bias), member.weight_ho, None, None)
    # shut after the first step: block 3's output gate (bias +30) sends 0 before the first
    # step and 1 from it on, and input gate 1 reads it with weight -40: net 10, then -30
    w_hh_latch, bias_latch = w_hh.clone(), bias.clone()
    w_hh_latch[0, 8], bias_latch[8] = -40.0, 30.0
    latched = type(member)(type(cell)(w_ih, w_hh_latch, bias_latch), member.weight_ho, None,
                           None)
    task = TwoSequence("3a", T=200, N=1)
    batch = task.sample(300, torch.Generator().manual_seed(0))
    both = two_sequence_states(template, stack([open_gate, latched]), batch, task, [0, 1],
                               [0, 0])
    assert both[0].held_signal > 0.99 and both[1].held_signal > 0.99
    assert both[1].held_end > 0.99
    assert both[0].held_end < 0.5
    assert both[0].spread_end > 3 * both[1].spread_end
    assert both[1].gate_signal[0] > 0.99 and both[1].gate_in[0] < 0.01  # open, then shut


def test_checkpoints_table_and_cli(tmp_path):
    template, weights = scaled_members("3b", 2)
    paths = []
    for k in range(2):
        member = row(weights, k)
        saved = {"seed": 4 + k, "criterion": {"sequences": 1000 * (k + 1)},
                 "weights": {"cell": {"weight_ih": member.cell.weight_ih,
                                      "weight_hh": member.cell.weight_hh,
                                      "bias": member.cell.bias},
                             "weight_ho": member.weight_ho, "bias_o": None}}
        paths.append(tmp_path / f"m{k}.pt")
        torch.save(saved, paths[-1])
    experiment = replace(registry.experiment("3b"),
                         make_task=lambda seed: TwoSequence("3b", T=20, N=3))
    states = from_checkpoints(experiment, paths, size=40)
    assert [(s.seed, s.sequences) for s in states] == [(4, 1000), (5, 2000)]
    text = main(["3b", "--checkpoints", *map(str, paths), "--size", "40"])
    assert text.startswith("| seed |") and "| 4 | 1,000 |" in text and "| 5 | 2,000 |" in text
    line = table([TwoSequenceState(2, 577000, 0.5, 0.914, 0.001, 8.62, 0.3, 0.33,
                                   (0.267, 0.046, 0.007), (0.5, 0.125, 0.0), 0.22, 1.1e-5)])
    assert "| 2 | 577,000 | 0.500 | 0.914 | 0.001 | 8.62 | 0.30 | 0.33 | 0.267 / 0.046 / " \
           "0.007 | 0.500 / 0.125 / 0.000 | 0.22 | 1.1e-05 |" in line


@pytest.mark.parametrize("name", ["4", "2c"])
def test_refuses_other_experiments(name, tmp_path):
    with pytest.raises(ValueError, match="expected 3a, 3b, 3c"):
        from_checkpoints(registry.experiment(name), [tmp_path / "none.pt"])


def test_trace_trains_as_the_run_does_and_probes_every_point():
    experiment = replace(registry.experiment("3a"),
                         make_task=lambda seed: TwoSequence("3a", T=20, N=3))
    trace = two_sequence_trace(experiment, [0, 1], budget=6, every=3, size=30)
    assert [(s.seed, s.sequences) for s in trace] == [(0, 0), (1, 0), (0, 3), (1, 3), (0, 6),
                                                       (1, 6)]
    assert trace[0].weight != trace[2].weight  # it trains
    text = main(["3a", "--seeds", "1", "--budget", "2", "--every", "2", "--size", "20"])
    assert "| 0 | 2 |" in text
    with pytest.raises(ValueError, match="budget, every, size"):
        two_sequence_trace(experiment, [0], budget=0, every=1)


def test_variant_ablation_is_the_other_variant_seed_for_seed():
    # 3b at T = 100, N = 1 as 3a trains and probes exactly as the registry's 3a at T = 100, N = 1
    ablated = with_variant(registry.experiment("3b@T=100,N=1"), "3a")
    assert ablated.make_task(0).variant == "3a"
    assert replace(ablated.setup, experiment="3a") == registry.experiment("3a@T=100,N=1").setup
    ours = two_sequence_trace(ablated, [0, 1], budget=4, every=4, size=20)
    theirs = two_sequence_trace(registry.experiment("3a@T=100,N=1"), [0, 1], budget=4, every=4,
                                size=20)
    assert ours == theirs
    # and it is not 3b's: the noise on the class element changes what is learnt
    assert ours != two_sequence_trace(registry.experiment("3b@T=100,N=1"), [0, 1], budget=4,
                                      every=4, size=20)
    text = main(["3b@T=100,N=1", "--variant", "3a", "--seeds", "1", "--budget", "2", "--every",
                 "2", "--size", "20"])
    assert text == main(["3a@T=100,N=1", "--seeds", "1", "--budget", "2", "--every", "2",
                         "--size", "20"])
    with pytest.raises(ValueError, match="variant: 3c's set-up"):
        with_variant(registry.experiment("3b"), "3c")
    with pytest.raises(ValueError, match="variant: expected 3a, 3b or 3c"):
        with_variant(registry.experiment("3b"), "3d")
