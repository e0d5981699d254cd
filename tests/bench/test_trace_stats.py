"""Trace statistics against closed forms and numpy written here."""

import pytest
import torch

from lstmlab.bench._trace_stats import correlation_ratio, field_report, probe_accuracy


def test_correlation_ratio_equals_the_textbook_formula():
    generator = torch.Generator().manual_seed(0)
    values = torch.randn(200, 3, generator=generator, dtype=torch.float64)
    classes = torch.randint(0, 4, (200,), generator=generator)
    values[:, 0] += 3.0 * classes  # a unit driven by the class
    x, k = values.numpy(), classes.numpy()
    expected = []
    for u in range(3):
        grand = x[:, u].mean()
        between = sum((k == c).sum() * (x[k == c, u].mean() - grand) ** 2 for c in range(4))
        expected.append(between / ((x[:, u] - grand) ** 2).sum())
    torch.testing.assert_close(correlation_ratio(values, classes, 4),
                               torch.tensor(expected, dtype=torch.float64))
    assert expected[0] > 0.9 and max(expected[1:]) < 0.1


def test_a_constant_unit_explains_nothing():
    values = torch.ones(10, 1)
    assert float(correlation_ratio(values, torch.arange(10) % 2, 2)[0]) == 0.0


def test_probe_reads_a_distributed_code_that_no_single_unit_holds():
    # parity coded only by the sign of the sum of two units: no unit alone separates it
    generator = torch.Generator().manual_seed(1)
    classes = torch.randint(0, 2, (400,), generator=generator)
    noise = torch.randn(400, generator=generator, dtype=torch.float64) * 3
    values = torch.stack([noise + (2 * classes - 1), -noise + (2 * classes - 1)], 1)
    assert float(correlation_ratio(values, classes, 2).max()) < 0.3
    train, test = probe_accuracy(values[:200], classes[:200], values[200:], classes[200:], 2)
    assert train == 1.0 and test == 1.0


def test_flips_of_a_parity_unit_are_one_at_a_one_and_zero_at_a_zero():
    bits = torch.randint(0, 2, (30, 4), generator=torch.Generator().manual_seed(2))
    running = bits.cumsum(0) % 2
    state = (2.0 * running - 1.0).unsqueeze(-1)  # (T, B, 1): +1 odd, -1 even
    gate = (1.0 - 0.8 * bits).unsqueeze(-1).float()  # a forget-like gate, low at a 1
    report = field_report({"state.c": state, "gate.forget": gate}, running, 2, bits, 2,
                          short=20, long_from=15)
    assert report["state.c"]["flips"] == pytest.approx([0.0, 1.0])
    assert report["state.c"]["eta2"] == pytest.approx([1.0, 1.0])
    assert report["state.c"]["probe"] == [1.0, 1.0]
    assert report["gate.forget"]["symbol_eta2"] == pytest.approx(1.0)
    assert report["gate.forget"]["symbol_means"] == pytest.approx([1.0, 0.2])


def test_windows_outside_the_trace_are_refused():
    with pytest.raises(ValueError, match="short"):
        field_report({}, torch.zeros(5, 1, dtype=torch.long), 2,
                     torch.zeros(5, 1, dtype=torch.long), 2, short=9, long_from=1)
