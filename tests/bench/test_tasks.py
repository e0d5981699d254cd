"""The bench's tasks: labels against loops written here from the task definitions."""

import pytest
import torch

from lstmlab.bench import TASKS
from lstmlab.bench._tasks import modular, parity, revision


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_parity_labels_are_the_running_parity_of_the_bits_read():
    batch = parity(50, 16, _generator())
    bits = batch.inputs.argmax(2)
    torch.testing.assert_close(bits, batch.symbol)
    for b in range(16):
        total = 0
        for t in range(50):
            total += int(bits[t, b])
            assert int(batch.labels[t, b]) == total % 2
    torch.testing.assert_close(batch.latent, batch.labels)


def test_modular_labels_are_the_running_sum_mod_5():
    batch = modular(30, 8, _generator(1))
    digits = batch.inputs.argmax(2)
    for b in range(8):
        total = 0
        for t in range(30):
            total += int(digits[t, b])
            assert int(batch.labels[t, b]) == total % 5


def test_revision_labels_are_the_latest_value_of_the_queried_key():
    batch = revision(60, 8, _generator(2))
    keys, values, queries = batch.inputs.split([4, 4, 4], dim=2)
    keys, values, queries = keys.argmax(2), values.argmax(2), queries.argmax(2)
    overwritten = 0
    for b in range(8):
        store: dict[int, int] = {}
        for t in range(60):
            overwritten += int(keys[t, b]) in store
            store[int(keys[t, b])] = int(values[t, b])
            assert int(queries[t, b]) in store  # only keys already written are asked for
            assert int(batch.labels[t, b]) == store[int(queries[t, b])]
            assert int(batch.latent[t, b]) == store.get(0, 4)
    assert overwritten > 300  # the task is about revision: keys come back again and again


@pytest.mark.parametrize("name", list(TASKS))
def test_shapes_and_sizes_match_the_task_table(name):
    task = TASKS[name]
    batch = task.draw(7, 3, _generator())
    assert batch.inputs.shape == (7, 3, task.input_size)
    assert int(batch.labels.max()) < task.classes
    assert int(batch.latent.max()) < task.latent_classes
    assert int(batch.symbol.max()) < task.symbols


def test_bad_length_is_refused_by_name():
    with pytest.raises(ValueError, match="length"):
        parity(0, 3, _generator())
