"""Experiment 2a's cached sequences hand out the task's own batches and verdicts, draw for draw."""

import pytest
import torch

from lstmlab.competitors import fully_recurrent_net
from lstmlab.reproduce._cached_task import CachedLongLag, DrawnPair, with_cached_encodings
from lstmlab.reproduce._registry import experiment
from lstmlab.tasks import EmbeddedReber, NoiseFreeLongLag


def _assert_same(a, b):
    for field in ("inputs", "targets", "mask", "lengths", "choices"):
        torch.testing.assert_close(getattr(a, field), getattr(b, field), rtol=0, atol=0)


def test_only_2a_long_lag_tasks_are_wrapped():
    assert type(with_cached_encodings(experiment("1")).make_task(0)) is EmbeddedReber
    assert isinstance(with_cached_encodings(experiment("2a")).make_task(0), CachedLongLag)
    assert isinstance(with_cached_encodings(experiment("2b")).make_task(0), NoiseFreeLongLag)


def test_long_lag_samples_equal_the_tasks_and_checks_judge_every_draw():
    task = NoiseFreeLongLag(p=10)
    task.test_size = 900  # the stopping set's size too (10,000 in the paper)
    cached = CachedLongLag(task)
    ours, theirs = torch.Generator().manual_seed(4), torch.Generator().manual_seed(4)
    for _ in range(10):
        a, b = cached.sample(1, ours), task.sample(1, theirs)
        _assert_same(a, b)
        torch.testing.assert_close(a.labels, b.labels, rtol=0, atol=0)
    net = fully_recurrent_net(11, 2, 11, inputs_to_outputs=True, weight_range=3.0,
                              generator=torch.Generator().manual_seed(0))

    def evaluate(batch):
        return net(batch.inputs.double())[0]

    ours, theirs = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    pairs = zip(cached.stopping_batches(ours, 300), task.stopping_batches(theirs, 300),
                strict=True)
    verdicts, errors = [], []
    for a, b in pairs:
        assert isinstance(a, DrawnPair) and a.batch_size == 2
        torch.testing.assert_close(a.draws, b.labels, rtol=0, atol=0)
        errors.append(cached.errors(evaluate(a), a))
        torch.testing.assert_close(errors[-1], task.errors(evaluate(b), b), rtol=1e-12,
                                   atol=1e-12)
        verdicts.append(cached.is_correct(evaluate(a), a))
        torch.testing.assert_close(verdicts[-1], task.is_correct(evaluate(b), b), rtol=0, atol=0)
    assert torch.cat(verdicts).shape == (900,)
    assert torch.cat(errors).unique().numel() == 2  # x and y sequences, judged apart
    with pytest.raises(ValueError, match="task"):
        CachedLongLag(NoiseFreeLongLag(p=10, random_middle=True))


@pytest.mark.parametrize("targets", ["next", "allowed"])
def test_reber_checks_on_distinct_strings_equal_the_whole_chunks_by_the_c_loop(targets):
    """Every chunk of Exp. 1's stopping and test sets: the verdicts and errors of the C loop's
    outputs on the chunk's distinct strings, handed to each string, equal those on the whole
    chunk bit for bit (weights trained a little, so that errors differ from string to string)."""
    from lstmlab.reproduce._cached_task import DistinctReber
    from lstmlab.reproduce._lstm1997 import _evaluate, network_config
    from lstmlab.training._network1997 import Network1997
    from lstmlab.training._online1997 import online_sequence
    from lstmlab.training._pool import stack

    task = EmbeddedReber("1-5", data_seed=1, targets=targets)
    distinct = DistinctReber(task)
    net = Network1997(network_config(task.setup), generator=torch.Generator().manual_seed(3),
                      dtype=torch.float64)
    weights = stack([net.weights()])
    generator = torch.Generator().manual_seed(3)
    for _ in range(30):
        batch = task.sample(1, generator)
        weights = online_sequence(net, weights, batch.inputs.double().unsqueeze(1),
                                  batch.targets.double().unsqueeze(1), batch.mask.unsqueeze(1),
                                  learning_rate=0.5).weights
    pairs = [*zip(task.stopping_batches(None, 200), distinct.stopping_batches(None, 200),
                  strict=True),
             *zip(task.test_batches(None, 100), distinct.test_batches(None, 100), strict=True)]
    assert len(pairs) == 3 + 3
    for whole, ours in pairs:
        assert ours.batch_size < whole.batch_size == len(ours.draws)
        expected, got = _evaluate(net, weights, whole, True), _evaluate(net, weights, ours, True)
        assert torch.equal(distinct.errors(got, ours), task.errors(expected, whole))
        assert torch.equal(distinct.is_correct(got, ours), task.is_correct(expected, whole))
        # every distinct string has its own error (twins may differ in the last bit: torch's
        # sum over T rounds by the column's place, why the chunk is judged whole)
        assert task.errors(expected, whole).unique().numel() >= ours.batch_size


def test_reber_chunk_parts_hand_out_the_chunks_verdicts():
    """``DistinctStrings.parts``: the verdicts of the two parts, handed to the chunk's strings
    that are their strings, are the whole chunk's string for string, for the C loop's outputs
    (an untrained net: all wrong) and for outputs right on the strings of even length only
    (both verdicts); every string in exactly one part; a part has no errors."""
    from lstmlab.reproduce._cached_task import PART, DistinctReber
    from lstmlab.reproduce._lstm1997 import _evaluate, network_config
    from lstmlab.training._network1997 import Network1997
    from lstmlab.training._pool import stack

    task = EmbeddedReber("1-5", data_seed=2)
    distinct = DistinctReber(task)
    net = Network1997(network_config(task.setup), generator=torch.Generator().manual_seed(4),
                      dtype=torch.float64)
    weights = stack([net.weights()])

    def even_right(batch):  # the allowed units at 1, the others at 0, on even lengths only
        return batch.choices.double() * (batch.lengths % 2 == 0).double()[:, None]

    for whole, ours in zip(task.stopping_batches(None, 256), distinct.stopping_batches(None, 256),
                           strict=True):
        parts = ours.parts()
        assert [p.batch_size for p in parts] == [PART, ours.batch_size - PART]
        assert ours.parts() is parts  # built once
        first = ours.draws < PART  # the chunk's strings in the first part, in the chunk's order
        for evaluate in (lambda batch: _evaluate(net, weights, batch, True), even_right):
            expected = task.is_correct(evaluate(whole), whole)
            got = [distinct.is_correct(evaluate(p), p) for p in parts]
            assert torch.equal(got[0], expected[first]) and torch.equal(got[1], expected[~first])
        assert 0 < int(expected.sum()) < whole.batch_size
        with pytest.raises(ValueError, match="verdicts only"):
            distinct.errors(even_right(parts[0]), parts[0])


def test_only_lstm1997_with_the_c_loop_runs_reber_checks_on_distinct_strings():
    from lstmlab.reproduce import Lstm1997Method, Lstm1997Settings
    from lstmlab.reproduce._cached_task import with_distinct_strings

    assert Lstm1997Method()._checks_per_sequence(experiment("1"))
    assert not Lstm1997Method(Lstm1997Settings(kernel_checks=False))._checks_per_sequence(
        experiment("1"))
    assert type(with_distinct_strings(experiment("4")).make_task(0)).__name__ == "Adding"
