"""The shared Batch type, the common task interface, and the losses against closed forms."""

import pytest
import torch

from lstmlab.tasks import (
    Adding,
    AddingModern,
    Batch,
    ContinualEmbeddedReber,
    CopyMemory,
    EmbeddedReber,
    Multiplication,
    NoiseFreeLongLag,
    Task,
    TemporalOrder,
    TwoSequence,
    VeryLongLag,
)
from lstmlab.tasks._batch import concat, squared_error
from lstmlab.tasks._stopping import TestSetRule

TASKS = [
    EmbeddedReber(train_size=16, test_size=16),
    NoiseFreeLongLag(p=12),
    NoiseFreeLongLag(p=12, random_middle=True),
    VeryLongLag(q=20, p=10),
    TwoSequence("3a", T=30),
    TwoSequence("3c", T=30, N=1),
    Adding(T=30),
    AddingModern(T=30),
    Multiplication(T=30),
    TemporalOrder("6a"),
    TemporalOrder("6b"),
    ContinualEmbeddedReber(stream_length=50),
    CopyMemory(T=15),
]


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_every_task_follows_the_interface(task):
    assert isinstance(task, Task)
    batch = task.sample(6, torch.Generator().manual_seed(0))
    T, B = batch.steps, batch.batch_size
    assert B == 6 and batch.inputs.shape == (T, B, task.input_size)
    assert batch.targets.shape == (T, B, task.output_size) and batch.targets.dtype == torch.float32
    assert batch.mask.dtype == torch.bool and batch.lengths.dtype == torch.long
    assert int(batch.lengths.max()) == T
    valid = torch.arange(T).unsqueeze(1) < batch.lengths
    assert not (batch.mask & ~valid).any()  # no error signal after the end
    assert batch.mask[batch.lengths - 1, torch.arange(B)].all()  # always one at the last step
    assert batch.inputs[~valid].abs().sum() == 0 and batch.targets[~batch.mask].abs().sum() == 0
    outputs = torch.rand(batch.targets.shape, generator=torch.Generator().manual_seed(1))
    assert task.is_correct(outputs, batch).shape == (B,)
    assert task.errors(outputs, batch).shape == (B,)
    assert task.setup.source and all(r.source for r in task.published)
    for rule in task.stopping:
        assert rule.name


def test_a_population_gets_each_members_own_data():
    task = VeryLongLag(q=10, p=5)
    alone = [task.sample(1, torch.Generator().manual_seed(s)) for s in (3, 4, 5)]
    together = concat(alone)
    for k, single in enumerate(alone):
        n = single.steps
        torch.testing.assert_close(together.inputs[:n, k], single.inputs[:, 0], rtol=0, atol=0)
        assert together.inputs[n:, k].abs().sum() == 0 and not together.mask[n:, k].any()
    assert together.labels.tolist() == [b.labels.item() for b in alone]


def test_batch_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="mask"):
        Batch(torch.zeros(4, 2, 1), torch.zeros(4, 2, 1), torch.zeros(3, 2, dtype=torch.bool),
              torch.full((2,), 4))
    task = Adding(30)
    batch = task.sample(2, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="outputs"):
        task.is_correct(torch.zeros(batch.steps, 2, 2), batch)


def test_squared_error_is_equation_16_at_masked_steps():
    targets = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]], [[0.0, 0.0]]])  # (T=3, B=1, O=2)
    mask = torch.tensor([[False], [True], [False]])
    batch = Batch(torch.zeros(3, 1, 1), targets, mask, torch.tensor([2]))
    outputs = torch.tensor([[[9.0, 9.0]], [[0.5, 0.25]], [[9.0, 9.0]]])
    torch.testing.assert_close(squared_error(outputs, batch), torch.tensor(0.25 + 0.5625))


def test_test_set_rule():
    rule = TestSetRule("ST2", max_wrong=1, max_mean_error=0.1)
    correct = torch.tensor([True, False, True])
    assert rule.is_met(correct, torch.tensor([0.0, 0.2, 0.0]))  # mean 0.0667
    assert not rule.is_met(correct, torch.tensor([0.0, 0.31, 0.0]))
    assert not rule.is_met(torch.tensor([False, False, True]), torch.zeros(3))
    with pytest.raises(ValueError, match="correct"):
        rule.is_met(correct, torch.zeros(2))


def test_test_and_stopping_sets_have_the_papers_sizes():
    g = torch.Generator().manual_seed(0)
    assert sum(b.batch_size for b in TwoSequence("3a", T=30).stopping_batches(g)) == 256
    assert sum(b.batch_size for b in Adding(30).test_batches(g, batch_size=1000)) == 2560
    erg = EmbeddedReber(train_size=16, test_size=16)
    assert sum(b.batch_size for b in erg.stopping_batches(g, batch_size=10)) == 32


def test_concat_of_single_sequences_equals_padding_each_and_joining():
    """concat's fast path (one pad_sequence per field for one-sequence batches) against the
    definition written out: pad every batch with zeros to the longest, then cat along B."""
    from lstmlab.tasks import EmbeddedReber, TemporalOrder, VeryLongLag

    for task in (EmbeddedReber("1-5", 0), TemporalOrder("6a"), VeryLongLag(q=50, p=50)):
        parts = [task.sample(1, torch.Generator().manual_seed(seed)) for seed in range(7)]
        joined = concat(parts)
        steps = max(p.steps for p in parts)

        def pad(x, steps=steps):
            extra = steps - x.shape[0]
            return torch.cat([x, x.new_zeros((extra, *x.shape[1:]))]) if extra else x

        for name in ("inputs", "targets", "mask", "choices"):
            ours = getattr(joined, name)
            if ours is None:
                assert getattr(parts[0], name) is None
                continue
            expected = torch.cat([pad(getattr(p, name)) for p in parts], dim=1)
            assert ours.dtype == expected.dtype and torch.equal(ours, expected), name
            if ours.is_floating_point():  # +0.0 padding, not -0.0
                assert torch.equal(torch.signbit(ours), torch.signbit(expected)), name
        assert torch.equal(joined.lengths, torch.cat([p.lengths for p in parts]))
        if parts[0].labels is not None:
            assert torch.equal(joined.labels, torch.cat([p.labels for p in parts]))


@pytest.mark.parametrize("outputs_size", [1, 2, 4])
def test_final_verdicts_equal_the_tasks_verdicts_and_errors(outputs_size):
    """Random outputs with NaNs, infinities and exact hits, float64 against float32 targets
    too: ``final_verdicts`` equal to ``final_abs_error``/``final_mean_abs_error`` bit for bit."""
    from lstmlab.tasks._batch import (
        Batch,
        final_abs_error,
        final_mean_abs_error,
        final_step_mask,
        final_verdicts,
    )

    g = torch.Generator().manual_seed(outputs_size)
    steps, size = 13, 300
    lengths = torch.randint(1, steps + 1, (size,), generator=g)
    for dtype in (torch.float64, torch.float32):
        targets = torch.rand(steps, size, outputs_size, generator=g, dtype=dtype)
        batch = Batch(torch.zeros(steps, size, 2), targets, final_step_mask(lengths, steps),
                      lengths)
        outputs = targets.double() + 0.3 * torch.randn(steps, size, outputs_size, generator=g,
                                                       dtype=torch.float64)
        special = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, 1.0, 2.0, -1.0],
                               dtype=torch.float64)
        outputs[lengths[:7] - 1, torch.arange(7)] = special.unsqueeze(1)  # at the last steps
        outputs[:, 7:20] = targets[:, 7:20].double()  # exact hits: gap 0
        for mean_error, errors in ((True, final_mean_abs_error), (False, final_abs_error)):
            correct, got = final_verdicts(outputs, batch, 0.04, mean_error)
            assert correct == (final_abs_error(outputs, batch) < 0.04).tolist()
            expected = errors(outputs, batch).tolist()
            assert [repr(v) for v in got] == [repr(v) for v in expected]
