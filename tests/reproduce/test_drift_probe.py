"""``drift_probe``: its trigger-step states against a per-sequence forward, its table, its CLI."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from lstmlab.reproduce import _registry as registry
from lstmlab.reproduce._drift_probe import (
    Snapshot,
    drift_trace,
    from_checkpoints,
    main,
    table,
    trigger_states,
)
from lstmlab.reproduce._lstm1997 import network_config, probe_training
from lstmlab.tasks import VeryLongLag
from lstmlab.training._network1997 import Network1997, map_weights
from lstmlab.training._pool import _nested, row, stack


def _short_2c():
    return replace(registry.experiment("2c"), make_task=lambda seed: VeryLongLag(q=5, p=5),
                   setup=VeryLongLag(q=5, p=5).setup)


def test_trigger_states_are_each_sequences_last_state():
    """Reference: Network1997.forward on each sequence alone, cut at its length."""
    experiment = _short_2c()
    template = Network1997(network_config(experiment.setup), dtype=torch.float64)
    weights = stack([Network1997(template.config, generator=torch.Generator().manual_seed(s),
                                 dtype=torch.float64).weights() for s in (0, 1)])
    batch = VeryLongLag(q=5, p=5).sample(6, torch.Generator().manual_seed(2))
    assert len(set(batch.lengths.tolist())) > 1  # padded: sequences end at different steps
    outputs, states = trigger_states(template, weights, batch)
    for k in range(2):
        member = row(weights, k)
        for n in range(6):
            length = int(batch.lengths[n])
            alone = batch.inputs[:length, n:n + 1].double()
            y, final = template(alone, weights=member)
            torch.testing.assert_close(outputs[k, n], y[-1, 0])
            torch.testing.assert_close(states[k, n], final.c[0])


def test_drift_trace_snapshots_and_table():
    snapshots = drift_trace(_short_2c(), [0, 1], budget=20, every=10, size=50)
    assert [(s.seed, s.sequences) for s in snapshots] == [(0, 10), (1, 10), (0, 20), (1, 20)]
    for s in snapshots:
        assert 0 <= s.correct <= 1 and 0 <= s.flat <= 1 and s.state >= 0 and s.weight > 0
    text = table([Snapshot(3, 2000, 0.5, 4.25, 0.75, 0.125, 1.5)])
    assert "| 3 | 2,000 | 0.500 | 4.25 | 0.75 | 0.12 | 1.50 |" in text


@pytest.mark.parametrize("name", ["2a", "1"])
def test_drift_trace_refuses_other_experiments(name):
    with pytest.raises(ValueError, match="expected 2c"):
        drift_trace(registry.experiment(name), [0], 10)


def test_main_runs_a_short_probe():
    text = main(["2c:input-gate-bias", "--seeds", "1", "--budget", "4", "--every", "2",
                 "--size", "20"])
    assert text.startswith("| seed |") and "| 0 | 4 |" in text


def test_checkpoints_give_the_traces_snapshots(tmp_path, monkeypatch):
    """Members saved as a run saves them (``MemberPool.member_state_dict``'s layout) and read
    back: the same snapshots as the trace took of the same weights at the same point."""
    experiment = _short_2c()
    traced = drift_trace(experiment, [3, 5], budget=12, every=12, size=40)
    *_, (presented, _, weights, _) = probe_training(experiment, [3, 5], 12, 12)
    assert presented == 12
    paths = []
    for k, seed in enumerate((3, 5)):
        paths.append(tmp_path / f"member-{seed}.pt")
        torch.save({"seed": seed, "criterion": {"sequences": 12},
                    "weights": _nested(map_weights(torch.clone, row(weights, k)))}, paths[-1])
    assert from_checkpoints(experiment, paths, size=40) == traced
    with pytest.raises(ValueError, match="expected 2c"):
        from_checkpoints(registry.experiment("1"), paths)
    monkeypatch.setattr(registry, "experiment", lambda name: experiment)
    assert main(["2c", "--checkpoints", *map(str, paths), "--size", "40"]) == table(traced)
    with pytest.raises(SystemExit):
        main(["2c", "--checkpoints", str(paths[0]), "--budget", "4"])
