"""The member pool against plain per-member runs, its join/leave order and its checkpoints.

Reference: each member trained alone (a population of one) by the same lockstep step,
``online_sequence``, on the same sequences; the pool, with members joining and leaving at
different steps, must give every member exactly (bit for bit) its lone weights.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from typing import Any

import pytest
import torch
import torch.utils._pytree as pytree
from torch.testing import assert_close

from lstmlab.training._network1997 import Network1997, NetworkWeights1997, population_weights
from lstmlab.training._network1997_table10 import EXPERIMENT_4, experiment_2ab
from lstmlab.training._online1997 import online_sequence
from lstmlab.training._pool import MemberPool, load_nested, row, stack

F64 = torch.float64
CONFIG = replace(EXPERIMENT_4, init_range=0.5, input_gate_bias=(-1.0, 0.5))


@dataclass
class Record:
    """A member's record: its name and a counter it keeps (for the checkpoint round trip)."""

    name: str
    seen: int = 0

    def state_dict(self) -> dict[str, Any]:
        return {"seen": self.seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seen = state["seen"]


def _equal(a, b) -> bool:
    """Two states of the same structure hold the same tensors, bit for bit, and the same Nones."""
    leaves_a, spec_a = pytree.tree_flatten(a)
    leaves_b, spec_b = pytree.tree_flatten(b)
    return spec_a == spec_b and all(
        (x is None and y is None) or (x is not None and y is not None and torch.equal(x, y))
        for x, y in zip(leaves_a, leaves_b, strict=True))


def _weights(seed: int, config=CONFIG) -> NetworkWeights1997:
    return Network1997(config, generator=torch.Generator().manual_seed(seed), dtype=F64).weights()


def _sequence(config, name: str, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Member ``name``'s sequence at its own step ``step``: (T, B, I), (T, B, O), (T, B)."""
    gen = torch.Generator().manual_seed(hash((name, step)) % 2**31)
    T, B = 7, 2
    return (torch.randn(T, B, config.input_size, generator=gen, dtype=F64),
            torch.rand(T, B, config.output_size, generator=gen, dtype=F64),
            (torch.rand(T, B, generator=gen, dtype=F64) < 0.6).to(F64))


def _step(network, weights, sequences):
    inputs, targets, mask = (torch.stack(parts, dim=1) for parts in zip(*sequences, strict=True))
    return online_sequence(network, weights, inputs, targets, mask, learning_rate=0.3).weights


# (name, seed, joins at lockstep step, leaves after lockstep step)
SCHEDULE = [("a", 1, 0, 5), ("b", 2, 0, 2), ("c", 3, 1, 6), ("d", 4, 3, 4), ("e", 5, 4, 8)]


@pytest.mark.parametrize("config", [CONFIG, replace(experiment_2ab(3), init_range=0.5)],
                         ids=["exp4 all biases", "exp2a input-to-output"])
def test_members_that_join_and_leave_get_their_lone_runs_weights(config):
    network = Network1997(config, dtype=F64)
    pool: MemberPool[Record, NetworkWeights1997] = MemberPool()
    final = {}
    for step in range(9):
        for name, seed, joins, _ in SCHEDULE:
            if joins == step:
                pool.join(Record(name), _weights(seed, config))
        pool.update(_step(network, pool.stacked,
                          [_sequence(config, m.name, m.seen) for m in pool]))
        for m in pool:
            m.seen += 1
        leaving = [k for k, m in enumerate(pool)
                   if next(s[3] for s in SCHEDULE if s[0] == m.name) == step]
        final.update({m.name: w for m, w in pool.leave(leaving)})
    assert len(pool) == 0 and pool.stacked is None
    for name, seed, joins, leaves in SCHEDULE:
        alone = stack([_weights(seed, config)])
        for own_step in range(leaves - joins + 1):
            alone = _step(network, alone, [_sequence(config, name, own_step)])
        assert _equal(final[name], row(alone, 0)), name


def test_leave_returns_each_members_row_and_keeps_the_others_in_order():
    pool: MemberPool[str, dict[str, torch.Tensor | None]] = MemberPool()
    for k in range(5):
        pool.join(f"m{k}", {"w": torch.full((2, 3), float(k)), "absent": None})
    gone = pool.leave([3, 0])
    assert [name for name, _ in gone] == ["m3", "m0"]
    assert [float(state["w"][0, 0]) for _, state in gone] == [3.0, 0.0]
    assert all(state["absent"] is None for _, state in gone)
    assert pool.records == ("m1", "m2", "m4")
    assert_close(pool.stacked["w"][:, 0, 0], torch.tensor([1.0, 2.0, 4.0]))
    pool.join("m5", {"w": torch.full((2, 3), 5.0), "absent": None})
    assert pool.records[-1] == "m5" and float(pool.row(3)["w"][1, 2]) == 5.0
    gone[0][1]["w"].add_(100.0)  # a leaver's row is its own, not a view of the stack
    assert float(pool.stacked["w"].max()) == 5.0


def test_bad_joins_updates_and_leaves_are_refused():
    pool: MemberPool[str, dict[str, torch.Tensor]] = MemberPool()
    with pytest.raises(ValueError, match="no members"):
        pool.update({"w": torch.zeros(1, 2)})
    pool.join("a", {"w": torch.zeros(2)})
    with pytest.raises(ValueError, match=r"state\['w'\]: expected"):
        pool.join("b", {"w": torch.zeros(3)})
    with pytest.raises(ValueError, match="structure"):
        pool.join("b", {"v": torch.zeros(2)})
    with pytest.raises(ValueError, match="expected a dict"):
        pool.update([torch.zeros(1, 2)])
    with pytest.raises(IndexError, match="distinct member indices"):
        pool.leave([0, 0])
    with pytest.raises(IndexError, match="member index"):
        pool.row(1)
    with pytest.raises(ValueError, match="at least one"):
        stack([])
    assert pool.records == ("a",)


def _round_trip(payload: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_checkpoint_round_trip_restores_records_and_rows():
    pool: MemberPool[Record, NetworkWeights1997] = MemberPool()
    for k, seed in enumerate((7, 8, 9)):
        pool.join(Record(f"m{k}", seen=10 * k), _weights(seed))
    saved = _round_trip(pool.state_dict())
    restored: MemberPool[Record, NetworkWeights1997] = MemberPool()
    restored.load_state_dict(saved, lambda k: (Record(f"m{k}"), _weights(100 + k)))
    assert restored.records == pool.records
    assert _equal(restored.stacked, pool.stacked)
    with pytest.raises(ValueError, match="empty pool"):
        restored.load_state_dict(saved, lambda k: (Record("x"), _weights(0)))


def test_a_saved_state_that_does_not_fit_is_refused_and_the_old_layout_loads():
    like = _weights(1)
    pool: MemberPool[Record, NetworkWeights1997] = MemberPool()
    pool.join(Record("a"), like)
    state = pool.member_state_dict(0)["state"]
    state["weight_ho"] = state["weight_ho"][:, :1]
    with pytest.raises(ValueError, match=r"state\.weight_ho: expected"):
        load_nested(state, like)
    other = population_weights(Network1997(CONFIG, dtype=torch.float32), [torch.Generator()])
    with pytest.raises(ValueError, match="float64"):
        load_nested(pool.member_state_dict(0)["state"], row(other, 0))
    # The layout member checkpoints were written in before the pool: every field named, the
    # absent ones as None.
    old = {"cell": like.cell._asdict(), **{n: getattr(like, n)
                                           for n in NetworkWeights1997._fields[1:]}}
    assert _equal(load_nested(old, like), like)
