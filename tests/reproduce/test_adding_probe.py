"""``adding_probe``: its unrolled states, gates and error signal against an independent float64
forward of [H97]'s equations with autograd's dE/ds_c; its R^2, checkpoint reader, trace, CLI."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from reference1997 import forward_1997, scaled_members

from lstmlab.reproduce import _registry as registry
from lstmlab.reproduce._adding_probe import (
    AddingState,
    adding_trace,
    checkpoint_weights,
    explained,
    main,
    means,
    summarize,
    table,
    unroll,
)
from lstmlab.reproduce._method import torch_threads
from lstmlab.tasks import Adding
from lstmlab.training._pool import row


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: torch's thread pool costs ~100x here on a loaded machine."""
    with torch_threads(1):
        yield


def _short(name: str):
    return replace(registry.experiment(name), make_task=lambda seed: Adding(T=22))


@pytest.mark.parametrize("name", ["4:linear-output", "4"])
def test_unroll_against_an_independent_forward(name):
    template, weights = scaled_members(name)
    batch = Adding(T=22).sample(5, torch.Generator().manual_seed(3))
    assert len(set(batch.lengths.tolist())) > 1  # padded: sequences end at different steps
    u = unroll(template, weights, batch)
    C, S = template.cell.num_blocks, template.cell.block_size
    for k in range(2):
        member = row(weights, k)
        for n in range(5):
            length = int(batch.lengths[n])
            x = batch.inputs[:length, n].double()
            marks = (x[:, 1] == 1.0).nonzero()[:, 0]
            target = batch.targets[length - 1, n, 0].double()
            s, ins, out, y, grad = forward_1997(member, x, target, C, S, name.endswith("output"))
            torch.testing.assert_close(u.end[k, n], s[-1])
            torch.testing.assert_close(u.marks[:, k, n], s[marks])
            torch.testing.assert_close(u.gate_marks[:, k, n], ins[marks])
            torch.testing.assert_close(u.gate_mean[k, n], ins.mean(0))
            torch.testing.assert_close(u.gate_out[k, n], out)
            torch.testing.assert_close(u.output[k, n], y)
            torch.testing.assert_close(u.signal[k, n], grad)


def test_explained_is_least_squares_r2():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(2, 40, 3, generator=generator, dtype=torch.float64)
    target = torch.randn(40, generator=generator, dtype=torch.float64)
    target_np = target.numpy()
    for k in range(2):
        design = np.column_stack([features[k].numpy(), np.ones(40)])
        fit = np.linalg.lstsq(design, target_np, rcond=None)[0]
        r2 = 1 - ((target_np - design @ fit) ** 2).sum() / ((target_np - target_np.mean()) ** 2
                                                            ).sum()
        assert float(explained(features, target)[k]) == pytest.approx(r2, rel=1e-9)
    exact = torch.stack([features[0], features[0]])
    assert float(explained(exact, 2 * features[0, :, 1] + 1)[0]) == pytest.approx(1.0)


def test_checkpoint_weights_reads_a_member_and_checks_shapes(tmp_path):
    template, weights = scaled_members("4:linear-output", 1)
    member = row(weights, 0)
    saved = {"seed": 7, "criterion": {"sequences": 1234},
             "weights": {"cell": {"weight_ih": member.cell.weight_ih,
                                  "weight_hh": member.cell.weight_hh,
                                  "bias": member.cell.bias},
                         "weight_ho": member.weight_ho, "bias_o": member.bias_o}}
    torch.save(saved, tmp_path / "m.pt")
    seed, trained, read = checkpoint_weights(tmp_path / "m.pt", template)
    assert (seed, trained) == (7, 1234)
    torch.testing.assert_close(read.weight_ho, member.weight_ho)
    torch.testing.assert_close(read.cell.weight_hh, member.cell.weight_hh)
    saved["weights"]["weight_ho"] = torch.zeros(1, 5, dtype=torch.float64)
    torch.save(saved, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="weight_ho"):
        checkpoint_weights(tmp_path / "bad.pt", template)


def test_summary_trace_and_table():
    template, weights = scaled_members("4:linear-output")
    batch = Adding(T=22).sample(60, torch.Generator().manual_seed(1))
    states = summarize(template, weights, batch, [0, 1], [5, 5])
    u = unroll(template, weights, batch)
    assert states[1].weight == pytest.approx(float(weights.weight_ho[1].abs().max()))
    assert states[0].signal == pytest.approx(float(u.signal[0].abs().mean()))
    assert states[0].state_end == pytest.approx(float(u.end[0].abs().mean()))
    trace = adding_trace(_short("4:linear-output"), [0, 1], budget=6, every=3, size=30)
    assert [(s.seed, s.sequences) for s in trace] == [(0, 0), (1, 0), (0, 3), (1, 3), (0, 6),
                                                       (1, 6)]
    assert trace[0].weight != trace[2].weight  # it trains
    assert states[0].gate_shut == pytest.approx(float(u.gate_out[0].mean(0).min()))
    text = table([AddingState(3, 2000, 0.17, 0.5, 4.25, 0.0, 0.75, 0.125, 0.05, 0.04, 0.3,
                              0.125, 0.0011, 2.5e-5)])
    assert "| 3 | 2,000 | 0.170 | 0.50 | 4.25 | 0.00 | 0.75 | 0.125 | 0.050 | 0.040 | 0.300 " \
           "| 0.125 | 0.0011 | 2.5e-05 |" in text


@pytest.mark.parametrize("name", ["2c", "1"])
def test_refuses_other_experiments(name):
    with pytest.raises(ValueError, match="expected 4"):
        adding_trace(registry.experiment(name), [0], 10, 5)


def test_main_runs_a_short_probe():
    text = main(["4:linear-output", "--seeds", "1", "--budget", "2", "--every", "2", "--size",
                 "20"])
    assert text.startswith("| seed |") and "| 0 | 2 |" in text


def test_means_over_seeds_with_bootstrap_intervals():
    states = [AddingState(s, 10, 0.1 * (s + 1), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0)
              for s in range(3)]
    states.append(AddingState(0, 20, 0.3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 0))  # one seed: no row
    text = means(states)
    assert text.count("| mean of 3 | 10 | 0.2 [0.1") == 1 and "| 20 |" not in text
    assert "| 0.5 [0.5, 0.5] |" in text
