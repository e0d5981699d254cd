"""A 2c trial run by ``lstm1997`` with the sparse kernel steps and the skipped check batches is
the trial of the dense loop that builds every check batch: the same stored numbers.

Reference: the same method with ``online_sequence``/``forward_sequence`` forced dense
(``sparse=False``) and ``FreshBatches.skip_rest`` drawing (building) every remaining batch,
which is what the code did before both changes."""

from __future__ import annotations

import functools

import pytest
import torch

from kernels_required import kernels_or_skip
from lstmlab.reproduce import Lstm1997Method
from lstmlab.reproduce import _lstm1997 as lstm1997
from lstmlab.reproduce._registry import experiment
from lstmlab.tasks._batch import FreshBatches
from lstmlab.training import _online1997_kernel as online1997_kernel
from lstmlab.training._online1997 import forward_sequence, online_sequence

kernels_or_skip(online1997_kernel.load(), "online1997.c")


def _trials(seeds, budget):
    method = Lstm1997Method()
    results = list(method.run_trials(experiment("2c@q=50,p=50"), seeds, budget,
                                     lambda *_: None))
    return sorted((r.seed, r.success, r.sequences, r.test_error, r.curve) for r in results)


def _build_every_batch(self):
    for _ in self:
        pass


def test_a_short_2c_trial_is_the_same_sparse_and_dense(monkeypatch):
    checked = []
    evaluate = lstm1997._evaluate
    monkeypatch.setattr(lstm1997, "_evaluate",
                        lambda *a, **k: checked.append(a[2].batch_size) or evaluate(*a, **k))
    fast = _trials([0], 1_000)
    # the failed check at 1,000 sequences stopped after its first batch (of 10 by 1,000),
    # then the 10 batches of the test set
    assert len(checked) == 11
    with monkeypatch.context() as dense:
        dense.setattr(lstm1997, "online_sequence", functools.partial(online_sequence,
                                                                     sparse=False))
        dense.setattr(lstm1997, "forward_sequence", functools.partial(forward_sequence,
                                                                      sparse=False))
        dense.setattr(FreshBatches, "skip_rest", _build_every_batch)
        slow = _trials([0], 1_000)
    assert fast == slow
    assert all(len(curve) == 2 for *_, curve in fast)  # 1,000 sequences, a point per 500
    assert torch.tensor([test_error for *_, test_error, _ in fast]).isfinite().all()


@pytest.mark.parametrize("chunk_bytes", [1, 1 << 22])
def test_checks_evaluate_by_chunks_with_the_outputs_of_one_call(chunk_bytes, monkeypatch):
    """``_evaluate`` passes a check batch to the C forward ``_chunk_size`` sequences at a time
    (with ``CHUNK_BYTES`` 1: ``CHUNK``, 19 = 8 + 8 + 3 here; by default all 19 at once): the
    outputs of one call on the whole batch, bit for bit."""
    from lstmlab.reproduce._lstm1997 import CHUNK, _evaluate, network_config
    from lstmlab.tasks import VeryLongLag
    from lstmlab.training._network1997 import Network1997
    from lstmlab.training._pool import stack

    monkeypatch.setattr(lstm1997, "CHUNK_BYTES", chunk_bytes)
    task = VeryLongLag(q=20, p=30)
    network = Network1997(network_config(task.setup), dtype=torch.float64)
    weights = stack([network.weights()])
    batch = task.sample(2 * CHUNK + 3, torch.Generator().manual_seed(6))
    calls = []
    forward = lstm1997.forward_sequence
    monkeypatch.setattr(lstm1997, "forward_sequence",
                        lambda *a, **k: calls.append(a[2].shape[2]) or forward(*a, **k))
    whole = forward_sequence(network, weights, batch.inputs.double().unsqueeze(1),
                             batch.lengths.unsqueeze(0))[:, 0]
    torch.testing.assert_close(_evaluate(network, weights, batch, kernel=True), whole,
                               rtol=0, atol=0)
    assert calls == ([CHUNK, CHUNK, 3] if chunk_bytes == 1 else [2 * CHUNK + 3])
