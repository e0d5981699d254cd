"""Retention and the decomposition of c_T, against products written out and torch's c_n."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from lstmlab.introspection import decompose, retention, retention_matrix, trace
from lstmlab.introspection._retention import initial_retention

TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-5}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_decomposition_sums_to_the_models_final_cell(dtype):
    generator = torch.Generator().manual_seed(0)
    model = torch.nn.LSTM(4, 5, num_layers=2, bidirectional=True).to(dtype)
    x = torch.randn(12, 3, 4, dtype=dtype, generator=generator)
    lengths = torch.tensor([12, 4, 7])
    hx = (torch.randn(4, 3, 5, dtype=dtype, generator=generator),
          torch.randn(4, 3, 5, dtype=dtype, generator=generator))
    result = trace(model, pack_padded_sequence(x, lengths, enforce_sorted=False), hx)
    with torch.no_grad():
        _, (_, c_n) = model(pack_padded_sequence(x, lengths, enforce_sorted=False), hx)
    for layer in range(2):
        for direction in range(2):
            parts = decompose(result.layers[layer][direction])
            total = parts.initial + parts.contributions.sum(0)
            torch.testing.assert_close(total, c_n[2 * layer + direction], rtol=0,
                                       atol=TOLERANCE[dtype])
            torch.testing.assert_close(parts.final, c_n[2 * layer + direction], rtol=0,
                                       atol=TOLERANCE[dtype])


def test_retention_equals_the_product_written_out():
    generator = torch.Generator().manual_seed(1)
    model = torch.nn.LSTM(3, 4, bidirectional=True).double()
    x = torch.randn(9, 2, 3, dtype=torch.float64, generator=generator)
    lengths = torch.tensor([9, 5])
    result = trace(model, x, lengths=lengths)
    for direction in range(2):
        layer = result.layers[0][direction]
        share = retention(layer)
        for b, n in enumerate(lengths.tolist()):
            f = layer.forget[:n, b]
            for t in range(n):
                after = f[t + 1:] if direction == 0 else f[:t]  # steps processed after t
                expected = torch.prod(after, dim=0)
                torch.testing.assert_close(share[t, b], expected, rtol=0, atol=1e-14)
            torch.testing.assert_close(initial_retention(layer)[b], torch.prod(f, 0),
                                       rtol=0, atol=1e-14)
            assert share[n:, b].abs().sum() == 0
            matrix = retention_matrix(layer, b)
            last = n - 1 if direction == 0 else 0
            torch.testing.assert_close(matrix[:n, last], share[:n, b], rtol=0, atol=1e-14)
            first = 0 if direction == 0 else n - 1
            # what the first step wrote, seen from the second step, is scaled by one f
            second = 1 if direction == 0 else n - 2
            torch.testing.assert_close(matrix[first, second], f[second], rtol=0, atol=1e-14)
            assert matrix[second, first].abs().max() == 0  # nothing flows back in time


def test_a_unit_whose_forget_gate_is_one_retains_everything():
    model = torch.nn.LSTM(3, 4).double()
    hidden, unit = 4, 2
    with torch.no_grad():
        model.bias_hh_l0[hidden + unit] = 1e3  # sigmoid(~1e3) == 1.0 exactly in float64
    x = torch.randn(20, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    layer = trace(model, x)[0]
    assert torch.equal(layer.forget[..., unit], torch.ones(20, 2, dtype=torch.float64))
    assert torch.equal(retention(layer)[..., unit], torch.ones(20, 2, dtype=torch.float64))
    parts = decompose(layer)
    # with f = 1 the cell is the plain sum of every write: the carousel of the 1997 paper
    torch.testing.assert_close(parts.contributions[..., unit],
                               (layer.input * layer.candidate)[..., unit], rtol=0, atol=0)
    torch.testing.assert_close(layer.cell[-1, :, unit],
                               (layer.input * layer.candidate)[..., unit].sum(0), rtol=0,
                               atol=1e-12)
    assert retention(layer)[:-1, :, :unit].lt(1).all()  # other units do forget


def test_the_1997_cell_keeps_everything_it_wrote():
    """No forget gate (Hochreiter & Schmidhuber 1997): the trace reports f = 1, so retention is
    1 everywhere and c_T is c_0 plus the plain sum of the writes: the constant error carousel."""
    from lstmlab.cells import LSTM1997Cell
    from lstmlab.layers import LSTM

    def make_cell(input_size, hidden_size, bias, *, dtype=None, device=None):
        return LSTM1997Cell(input_size, hidden_size, dtype=dtype, device=device)

    model = LSTM(3, 4, cell=make_cell).double()
    x = torch.randn(7, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    layer = trace(model, x)[0]
    with torch.no_grad():
        _, (_, c_n) = model(x)
    assert torch.equal(retention(layer), torch.ones_like(layer.forget))
    parts = decompose(layer)
    torch.testing.assert_close(parts.initial + parts.contributions.sum(0), c_n[0], rtol=0,
                               atol=1e-12)
