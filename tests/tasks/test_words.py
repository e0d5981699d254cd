"""Words drawn ahead (lstmlab.tasks._words) against torch's own draws, call by call."""

import numpy as np
import pytest
import torch

from lstmlab.reproduce._cached_task import CachedLongLag
from lstmlab.tasks import Adding, EmbeddedReber, Multiplication, NoiseFreeLongLag, TemporalOrder
from lstmlab.tasks._batch import sample_each
from lstmlab.tasks._words import MAX_RANGE, WordStream, draw_words, sample_words, skip


def same_state(a: torch.Generator, b: torch.Generator) -> bool:
    return torch.equal(a.get_state(), b.get_state())


@pytest.mark.parametrize("seed", [0, 1, 29, 2**31 + 5])
def test_words_are_the_mt19937_stream(seed):
    """The reference: NumPy's MT19937 with the same (legacy, init_genrand) seeding."""
    engine = np.random.MT19937()
    engine._legacy_seeding(seed)
    expected = engine.random_raw(3001).astype(np.uint32)
    g = torch.Generator().manual_seed(seed)
    np.testing.assert_array_equal(draw_words(g, 3001)[:3001], expected)


def test_randint_is_one_word_modulo_its_range_for_every_range_used():
    """Every range 1 .. 2**16 (the samplers' ranges lie far below), and nonzero lows."""
    g, h = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    words = draw_words(h, 2 * MAX_RANGE)
    drawn = torch.cat([torch.randint(span, (2,), generator=g) for span in range(1, MAX_RANGE + 1)])
    spans = np.repeat(np.arange(1, MAX_RANGE + 1, dtype=np.uint32), 2)
    np.testing.assert_array_equal(drawn.numpy(), (words % spans).astype(np.int64))
    stream = WordStream(torch.Generator().manual_seed(3), chunk=64)
    g = torch.Generator().manual_seed(3)
    for low, high in [(100, 111), (22, 31), (0, 2), (-5, 4), (1, 2), (500, 551), (0, MAX_RANGE)]:
        for n in (1, 3, 70):
            np.testing.assert_array_equal(stream.integers(low, high, n),
                                          torch.randint(low, high, (n,), generator=g).numpy())
    with pytest.raises(ValueError, match="high - low"):
        stream.integers(0, MAX_RANGE + 1, 1)


@pytest.mark.parametrize("seed", [0, 11])
def test_rand_is_24_bits_of_a_word_for_every_size_a_task_draws(seed):
    """float32 ``torch.rand(n)`` for n = 1 .. 1,200 (Exp. 4 draws T .. 1.1 T values, T <= 1000),
    one call each, bit for bit; the generators end in the same state."""
    g = torch.Generator().manual_seed(seed)
    stream = WordStream(torch.Generator().manual_seed(seed), chunk=5000)
    for n in range(1, 1201):
        expected = torch.rand(n, generator=g).numpy()
        np.testing.assert_array_equal(stream.uniform(n).view(np.uint32), expected.view(np.uint32))
    stream.sync()
    assert same_state(stream.generator, g)


@pytest.mark.parametrize("n", [0, 1, 2, 623, 624, 625, 4095, 4096, 10_001])
def test_sync_leaves_the_generator_where_single_draws_leave_it(n):
    g = torch.Generator().manual_seed(5)
    for _ in range(n):
        torch.randint(3, (1,), generator=g)
    stream = WordStream(torch.Generator().manual_seed(5), chunk=1000)
    for _ in range(n):
        stream.word()
    stream.sync()
    assert same_state(stream.generator, g)
    other = torch.Generator().manual_seed(5)
    skip(other, n)
    assert same_state(other, g)
    # and the next draws go on from there, by either path
    assert torch.equal(torch.rand(9, generator=stream.generator), torch.rand(9, generator=g))


def test_discard_forgets_the_words_ahead():
    g = torch.Generator().manual_seed(1)
    stream = WordStream(g)
    stream.take(5)
    saved = torch.Generator().manual_seed(99).get_state()
    g.set_state(saved)  # a checkpoint loaded into the generator
    stream.discard()
    assert stream.word() == int(draw_words(torch.Generator().manual_seed(99), 2)[0])
    stream.sync()
    fresh = torch.Generator().manual_seed(99)
    skip(fresh, 1)
    assert same_state(g, fresh)


def _tasks(name, seeds):
    if name == "1":
        return [EmbeddedReber("1-5", data_seed=s % 3) for s in seeds]
    if name == "1-allowed":
        return [EmbeddedReber("1-5", data_seed=s % 3, targets="allowed") for s in seeds]
    if name == "1-switched":  # a task whose table was built, then switched to other targets
        tasks = [EmbeddedReber("1-5", data_seed=s % 3) for s in seeds]
        for task in tasks:
            task._training_table()
        return [task.with_targets("allowed") for task in tasks]
    if name == "2a":
        return [CachedLongLag(NoiseFreeLongLag(p=20)) for _ in seeds]
    if name == "4":
        return [Adding(T=100) for _ in seeds]
    if name == "4-1000":
        return [Adding(T=1000) for _ in seeds]
    if name == "5":
        return [Multiplication(T=100) for _ in seeds]
    return [TemporalOrder(name) for _ in seeds]


def assert_batches_equal(a, b):
    for field in ("inputs", "targets", "mask", "lengths", "labels", "choices"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x is None) == (y is None), field
        if x is not None:
            assert x.dtype == y.dtype and x.shape == y.shape, field
            assert torch.equal(x, y), field


@pytest.mark.parametrize("name", ["1", "1-allowed", "1-switched", "2a", "4", "4-1000", "5", "6a",
                                  "6b"])
def test_sample_words_is_sample_each_bit_for_bit(name):
    """A population of 7 for 60 steps: every batch equal to the generators' own draws
    (``sample_each``, itself tested equal to ``sample(1, g)`` per member), members leaving and
    joining (new streams) and a sync in the middle (a checkpoint); the generators agree at
    the end."""
    seeds = list(range(7))
    tasks = _tasks(name, seeds)
    reference = [torch.Generator().manual_seed(s) for s in seeds]
    streams = [WordStream(torch.Generator().manual_seed(s), chunk=256) for s in seeds]
    for step in range(60):
        if step == 20:
            streams[3].sync()
        if step == 30:  # member 2 leaves, a new one joins at the end
            for group in (tasks, reference, streams):
                del group[2]
            tasks += _tasks(name, [40])
            reference.append(torch.Generator().manual_seed(40))
            streams.append(WordStream(torch.Generator().manual_seed(40), chunk=256))
        assert_batches_equal(sample_words(tasks, streams), sample_each(tasks, reference))
    for stream, generator in zip(streams, reference, strict=True):
        stream.sync()
        assert same_state(stream.generator, generator)


def test_a_subclass_with_its_own_sample_draws_from_its_generator():
    """Not from Adding's word sampler: the generators draw, after a sync (``sample_each``)."""
    class Shifted(Adding):
        def sample(self, batch_size, generator):
            torch.rand(1, generator=generator)
            return super().sample(batch_size, generator)

    tasks = [Shifted(T=30), Shifted(T=30)]
    streams = [WordStream(torch.Generator().manual_seed(s)) for s in (0, 1)]
    streams[0].take(3)  # words ahead: the fallback syncs before the generators draw
    expected_first = torch.Generator().manual_seed(0)
    skip(expected_first, 3)
    reference = [expected_first, torch.Generator().manual_seed(1)]
    assert_batches_equal(sample_words(tasks, streams), sample_each(tasks, reference))

