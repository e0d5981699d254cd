"""Unit finding recovers a planted unit; both scores equal their textbook definitions."""

from __future__ import annotations

import pytest
import torch

from lstmlab.introspection import rank_units, trace
from lstmlab.introspection._units import auc, point_biserial


def planted_model(hidden, unit, generator):
    """Input channel 0 carries the label; unit ``unit`` opens its input gate, closes its forget
    gate and writes g = tanh(4 * label - 2): its cell copies the label as about -0.96 / +0.96.
    Every other unit has random weights and also sees channel 0."""
    model = torch.nn.LSTM(3, hidden).double()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.uniform_(-0.5, 0.5, generator=generator)
        rows = [gate * hidden + unit for gate in range(4)]  # i, f, g, o rows of the unit
        model.weight_ih_l0[rows] = 0.0
        model.weight_hh_l0[rows] = 0.0
        model.bias_hh_l0[rows] = 0.0
        model.bias_ih_l0[rows] = torch.tensor([30.0, -30.0, -2.0, 0.0], dtype=torch.float64)
        model.weight_ih_l0[2 * hidden + unit, 0] = 4.0
    return model


@pytest.mark.parametrize("score", [point_biserial, auc])
def test_the_planted_unit_ranks_first(score):
    generator = torch.Generator().manual_seed(0)
    hidden, unit = 16, 11
    model = planted_model(hidden, unit, generator)
    labels = torch.rand(40, 6, generator=generator) < 0.4
    x = torch.randn(40, 6, 3, dtype=torch.float64, generator=generator)
    x[..., 0] = labels.double()
    layer = trace(model, x, lengths=[40, 40, 30, 40, 12, 40])[0]
    ranking = rank_units(layer.cell, labels, mask=layer.mask, score=score)
    assert int(ranking.units[0]) == unit
    assert int(ranking.signs[0]) == 1  # g = tanh(4 * label - 2): high when the label is 1
    torch.testing.assert_close(ranking.scores[0], torch.tensor(1.0, dtype=torch.float64),
                               rtol=0, atol=1e-12)
    assert float(ranking.scores[1]) < 0.95  # the runner-up only sees the label through noise


def test_point_biserial_is_scipys():
    stats = pytest.importorskip("scipy.stats")
    generator = torch.Generator().manual_seed(1)
    labels = torch.rand(50, generator=generator) < 0.3
    values = torch.randn(50, 4, dtype=torch.float64, generator=generator) + labels[:, None] * 0.7
    ours = point_biserial(values, labels)
    for k in range(4):
        expected = abs(stats.pointbiserialr(labels.numpy(), values[:, k].numpy()).statistic)
        assert float(ours[k]) == pytest.approx(expected, abs=1e-12)


def test_auc_counts_pairs_with_ties_as_half():
    generator = torch.Generator().manual_seed(2)
    labels = torch.rand(30, generator=generator) < 0.5
    values = torch.randint(0, 4, (30, 3), generator=generator).double()  # many ties
    values[:, 2] = -values[:, 2]  # a unit that is low for the label scores the same
    positive, negative = values[labels], values[~labels]
    wins = (positive[:, None] > negative[None]).double() + 0.5 * (
        positive[:, None] == negative[None]).double()
    area = wins.mean((0, 1))
    torch.testing.assert_close(auc(values, labels), torch.maximum(area, 1 - area), rtol=0,
                               atol=1e-12)


def test_bad_labels_are_refused():
    states = torch.randn(4, 2, 3)
    with pytest.raises(ValueError, match="both classes"):
        rank_units(states, torch.ones(4, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match="0/1"):
        rank_units(states, torch.full((4, 2), 2))
    with pytest.raises(ValueError, match="labels"):
        rank_units(states, torch.ones(3, 2, dtype=torch.bool))
