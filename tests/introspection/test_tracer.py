"""trace() equals the step-by-step LSTM equations for every layout torch.nn.LSTM accepts."""

from __future__ import annotations

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from lstmlab.cells import LSTMCell
from lstmlab.introspection import trace
from lstmlab.layers import LSTM, unroll

TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-5}
FIELDS = dict(zip("ifgoch", ("input", "forget", "candidate", "output", "cell", "hidden"),
                  strict=True))
CONFIGS = {
    "one-layer": dict(num_layers=1),
    "three-layers": dict(num_layers=3),
    "bidirectional": dict(num_layers=2, bidirectional=True),
    "proj": dict(num_layers=2, proj_size=3),
    "proj-bidirectional": dict(num_layers=2, proj_size=3, bidirectional=True),
    "no-bias": dict(num_layers=2, bias=False),
}


def assert_matches(result, reference, dtype):
    tol = TOLERANCE[dtype]
    for (layer, direction), record in reference.items():
        layer_trace = result.layers[layer][direction]
        assert layer_trace.reverse == (direction == 1)
        for key, name in FIELDS.items():
            torch.testing.assert_close(getattr(layer_trace, name), record[key], rtol=0, atol=tol,
                                       msg=f"layer {layer} direction {direction} {name}")


def random_hx(model, batch, dtype, generator):
    rows = model.num_layers * (2 if model.bidirectional else 1)
    size = model.proj_size or model.hidden_size
    return (torch.randn(rows, batch, size, dtype=dtype, generator=generator),
            torch.randn(rows, batch, model.hidden_size, dtype=dtype, generator=generator))


@pytest.mark.parametrize(("dtype", "read_workspace"), [
    (torch.float64, True),  # float64 has no workspace path: always reconstructed
    (torch.float32, True),  # the workspace path (without proj_size)
    (torch.float32, False),  # the reconstruction in float32
], ids=["float64", "float32-workspace", "float32-reconstructed"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_trace_of_torch_lstm_equals_step_loop(lstm_reference, dtype, config, read_workspace):
    generator = torch.Generator().manual_seed(1)
    model = torch.nn.LSTM(5, 6, **config).to(dtype)
    x = torch.randn(9, 4, 5, dtype=dtype, generator=generator)
    hx = random_hx(model, 4, dtype, generator)
    result = trace(model, x, hx, read_workspace=read_workspace)
    assert_matches(result, lstm_reference(model, x, hx), dtype)
    assert result.layers[0][0].mask is None
    # the last layer's h is exactly what the model returns
    with torch.no_grad():
        output, _ = model(x, hx)
    last = torch.cat([t.hidden for t in result.layers[-1]], dim=-1)
    torch.testing.assert_close(last, output, rtol=0, atol=TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("config", [CONFIGS["bidirectional"], CONFIGS["proj-bidirectional"]],
                         ids=["bidirectional", "proj-bidirectional"])
def test_packed_and_padded_inputs_are_masked_not_invented(lstm_reference, dtype, config):
    generator = torch.Generator().manual_seed(2)
    model = torch.nn.LSTM(5, 6, **config).to(dtype)
    x = torch.randn(8, 4, 5, dtype=dtype, generator=generator)
    lengths = torch.tensor([3, 8, 1, 6])
    hx = random_hx(model, 4, dtype, generator)
    reference = lstm_reference(model, x, hx, lengths)
    padded = trace(model, x, hx, lengths=lengths)
    packed = trace(model, pack_padded_sequence(x, lengths, enforce_sorted=False), hx)
    for result in (padded, packed):
        assert_matches(result, reference, dtype)
        expected_mask = torch.arange(8)[:, None] < lengths[None, :]
        assert torch.equal(result.layers[1][1].mask, expected_mask)
    # padded steps are zero in every field
    assert padded.layers[0][1].forget[3:, 0].abs().max() == 0
    # the packed output torch returns is the traced h at the real steps
    with torch.no_grad():
        output, _ = model(pack_padded_sequence(x, lengths, enforce_sorted=False), hx)
    last = torch.cat([t.hidden for t in packed.layers[-1]], dim=-1)
    data = pack_padded_sequence(last, lengths, enforce_sorted=False).data
    torch.testing.assert_close(data, output.data, rtol=0, atol=TOLERANCE[dtype])


def test_batch_first_and_unbatched(lstm_reference):
    generator = torch.Generator().manual_seed(3)
    model = torch.nn.LSTM(5, 6, num_layers=2, batch_first=True).double()
    x = torch.randn(4, 9, 5, dtype=torch.float64, generator=generator)  # (B, T, I)
    assert_matches(trace(model, x), lstm_reference(model, x.transpose(0, 1)), torch.float64)
    single = trace(model, x[0])  # unbatched (T, I): a batch of one
    assert single[0].forget.shape == (9, 1, 6)
    torch.testing.assert_close(single[1].cell[:, 0], trace(model, x)[1].cell[:, 0], rtol=0,
                               atol=1e-12)


@pytest.mark.parametrize("config", [CONFIGS["bidirectional"], CONFIGS["proj"]],
                         ids=["bidirectional", "proj"])
def test_trace_of_our_lstm_equals_our_unroll(config):
    generator = torch.Generator().manual_seed(4)
    model = LSTM(5, 6, **config).double()
    x = torch.randn(9, 3, 5, dtype=torch.float64, generator=generator)
    lengths = torch.tensor([9, 2, 5])
    result = trace(model, x, lengths=lengths)
    layer_input = x
    directions = 2 if model.bidirectional else 1
    for layer in range(model.num_layers):
        outputs = []
        for direction in range(directions):
            cell = model.bound_cell(layer * directions + direction)
            with torch.no_grad():
                out, _, (states, gates) = unroll(cell, layer_input, record=True,
                                                 lengths=lengths, reverse=direction == 1)
            layer_trace = result.layers[layer][direction]
            expected = (gates.input, gates.forget, gates.candidate, gates.output, states.c,
                        states.h)
            for name, value in zip(FIELDS.values(), expected, strict=True):
                torch.testing.assert_close(getattr(layer_trace, name), value, rtol=0,
                                           atol=1e-12)
            outputs.append(out)
        layer_input = torch.cat(outputs, dim=-1)


def test_variant_cell_is_traced_by_recording_unroll():
    from lstmlab.cells import PeepholeLSTMCell

    generator = torch.Generator().manual_seed(5)
    model = LSTM(4, 5, num_layers=2, cell=PeepholeLSTMCell).double()
    x = torch.randn(6, 2, 4, dtype=torch.float64, generator=generator)
    result = trace(model, x)
    with torch.no_grad():
        output, (h_n, c_n) = model(x)
    torch.testing.assert_close(result[1].hidden, output, rtol=0, atol=1e-12)
    torch.testing.assert_close(result[1].cell[-1], c_n[1], rtol=0, atol=1e-12)
    # c_t = f_t * c_{t-1} + i_t * g_t holds in the recorded gates
    c_prev = torch.cat([result[1].initial_cell[None], result[1].cell[:-1]])
    torch.testing.assert_close(result[1].cell, result[1].forget * c_prev
                               + result[1].input * result[1].candidate, rtol=0, atol=1e-12)
    assert LSTMCell is not PeepholeLSTMCell


def test_bad_inputs_are_refused():
    model = torch.nn.LSTM(5, 6, num_layers=2, dropout=0.5)
    with pytest.raises(ValueError, match="dropout"):
        trace(model, torch.randn(3, 2, 5))
    model.eval()
    with pytest.raises(ValueError, match=r"x must have shape"):
        trace(model, torch.randn(3, 2, 4))
    with pytest.raises(ValueError, match=r"hx\[1\] must have shape"):
        trace(model, torch.randn(3, 2, 5), (torch.zeros(2, 2, 6), torch.zeros(1, 2, 6)))
    with pytest.raises(ValueError, match="model must be"):
        trace(torch.nn.GRU(5, 6), torch.randn(3, 2, 5))
    with pytest.raises(ValueError, match="lengths"):
        trace(model, torch.randn(3, 2, 5), lengths=[4, 1])
