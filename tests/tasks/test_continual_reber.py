"""The continual embedded Reber grammar: an unbroken stream of grammatical strings."""

import re

import torch

from lstmlab.tasks import ContinualEmbeddedReber
from lstmlab.tasks._reber import SYMBOLS, encode
from lstmlab.tasks._setup import weight_count

# The embedded Reber grammar written out by hand (see test_reber.py for the derivation).
_A5 = r"(?:PXT*V)*(?:PS|V)E"
_INNER = rf"B(?:TS*X(?:XT*V{_A5}|SE)|PT*V{_A5})"
EMBEDDED = rf"B(?:T{_INNER}TE|P{_INNER}PE)"


def text(batch, b):
    return "".join(SYMBOLS[k] for k in batch.inputs[:, b].argmax(-1).tolist())


def test_stream_is_a_concatenation_of_grammatical_strings_with_their_choices():
    task = ContinualEmbeddedReber(stream_length=3000)
    batch = task.sample(3, torch.Generator().manual_seed(0))
    for b in range(3):
        stream = text(batch, b) + SYMBOLS[int(batch.targets[-1, b].argmax())]
        # Cut after each final E (the one followed by the next string's B).
        cut = stream.rfind("EB") + 1
        assert re.fullmatch(rf"(?:{EMBEDDED})+", stream[:cut])
        strings = re.findall(EMBEDDED, stream[:cut])
        assert "".join(strings) == stream[:cut]
        reference = encode(strings)
        t = 0
        for k, string in enumerate(strings):
            n = len(string) - 1
            assert torch.equal(batch.choices[t:t + n, b], reference.choices[:n, k])
            # After the final E only the next string's B may come.
            assert batch.choices[t + n, b].tolist() == [s == "B" for s in SYMBOLS]
            t += n + 1
        targets = batch.targets[:, b].argmax(-1)
        assert torch.equal(targets[:-1], batch.inputs[1:, b].argmax(-1))
        assert batch.choices[torch.arange(3000), b, targets].all()  # what comes is allowed


def test_stream_continues_where_it_stopped_and_seeds():
    task = ContinualEmbeddedReber()
    whole = task.stream(2, torch.Generator().manual_seed(1)).next(400)
    parts = task.stream(2, torch.Generator().manual_seed(1))
    first, second = parts.next(150), parts.next(250)
    torch.testing.assert_close(torch.cat([first.inputs, second.inputs]), whole.inputs,
                               rtol=0, atol=0)
    torch.testing.assert_close(torch.cat([first.choices, second.choices]), whole.choices,
                               rtol=0, atol=0)
    other = task.stream(2, torch.Generator().manual_seed(2)).next(400)
    assert not torch.equal(other.inputs, whole.inputs)


def test_criterion_and_error_free_length():
    task = ContinualEmbeddedReber(stream_length=200)
    batch = task.sample(3, torch.Generator().manual_seed(3))
    good = torch.where(batch.choices, 0.35, 0.65)  # squared errors 0.4225 < 0.49
    assert task.is_correct(good, batch).all()
    assert task.error_free_length(good, batch).tolist() == [200, 200, 200]
    bad = good.clone()
    allowed = int(batch.choices[37, 1].nonzero()[0])
    bad[37, 1, allowed] = 0.29  # an allowed symbol predicted too weakly
    forbidden = int((~batch.choices[120, 2]).nonzero()[0])
    bad[120, 2, forbidden] = 0.71
    assert task.is_correct(bad, batch).tolist() == [True, False, False]
    assert task.error_free_length(bad, batch).tolist() == [200, 37, 120]


def test_setup_weight_count_and_protocol():
    assert ContinualEmbeddedReber().stream_length == 100_000
    task = ContinualEmbeddedReber(stream_length=20)
    assert weight_count(task.setup) == 424
    sizes = [b.batch_size for b in task.test_batches(torch.Generator().manual_seed(0), 4)]
    assert sizes == [4, 4, 2] and task.test_size == 10
