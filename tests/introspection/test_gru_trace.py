"""trace_gru against a per-step loop of torch.nn.GRUCell's math, and the identities of its
retention: h_T = (prod z) h_0 + sum_t (prod_{s>t} z_s) (1 - z_t) n_t."""

import pytest
import torch

from lstmlab.introspection import decompose_hidden, overwritten, trace_gru, update_retention
from lstmlab.layers import GRU


def reference_gru(model, x, h0=None, lengths=None):
    """Per step, torch.nn.GRU's documented equations; x (T, B, I); reverse reads each sequence
    from lengths[b]-1 down to 0. {(layer, direction): dict r, z, n, h (T, B, H)}."""
    steps, batch, _ = x.shape
    lengths = torch.full((batch,), steps) if lengths is None else torch.as_tensor(lengths)
    directions = 2 if model.bidirectional else 1
    result, layer_input = {}, x
    for layer in range(model.num_layers):
        outs = []
        for d in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh = getattr(model, "weight_ih" + sfx), getattr(model, "weight_hh" + sfx)
            b_ih, b_hh = getattr(model, "bias_ih" + sfx), getattr(model, "bias_hh" + sfx)
            h = x.new_zeros(batch, model.hidden_size) if h0 is None else \
                h0[layer * directions + d].clone()
            rec = {k: x.new_zeros(steps, batch, model.hidden_size) for k in "rznh"}
            for b in range(batch):
                hb = h[b]
                order = range(int(lengths[b]) - 1, -1, -1) if d else range(int(lengths[b]))
                for t in order:
                    gi = layer_input[t, b] @ w_ih.T + b_ih
                    gh = hb @ w_hh.T + b_hh
                    r = torch.sigmoid(gi[:model.hidden_size] + gh[:model.hidden_size])
                    z = torch.sigmoid(gi[model.hidden_size:2 * model.hidden_size]
                                      + gh[model.hidden_size:2 * model.hidden_size])
                    n = torch.tanh(gi[2 * model.hidden_size:] + r * gh[2 * model.hidden_size:])
                    hb = (1 - z) * n + z * hb
                    for k, v in zip("rznh", (r, z, n, hb), strict=True):
                        rec[k][t, b] = v
            result[layer, d] = rec
            outs.append(rec["h"])
        layer_input = torch.cat(outs, -1)
    return result


def _check(traced, reference):
    for (layer, d), values in reference.items():
        got = traced.layers[layer][d]
        for k, field in zip("rznh", ("reset", "update", "candidate", "hidden"), strict=True):
            torch.testing.assert_close(getattr(got, field), values[k], atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("ours", [False, True])
def test_every_layer_and_direction_equals_the_step_loop(ours):
    torch.manual_seed(0)
    model = torch.nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True,
                         dtype=torch.float64)
    if ours:
        mine = GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True,
                   dtype=torch.float64)
        mine.load_state_dict(model.state_dict())
        model = mine
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    h0 = torch.randn(4, 2, 4, dtype=torch.float64)
    _check(trace_gru(model.eval(), x, h0), reference_gru(model, x.transpose(0, 1), h0))


def test_packed_lengths_and_masking():
    torch.manual_seed(1)
    model = torch.nn.GRU(3, 4, bidirectional=True, dtype=torch.float64)
    x = torch.randn(5, 3, 3, dtype=torch.float64)
    lengths = [5, 2, 4]
    traced = trace_gru(model, x, lengths=lengths)
    reference = reference_gru(model, x, lengths=lengths)
    _check(traced, reference)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
    _check(trace_gru(model, packed), reference)
    assert traced[0].mask[:, 1].tolist() == [True, True, False, False, False]


def test_retention_decomposes_the_final_state():
    torch.manual_seed(2)
    model = torch.nn.GRU(3, 4, bidirectional=True, dtype=torch.float64)
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    h0 = torch.randn(2, 2, 4, dtype=torch.float64)
    traced = trace_gru(model, x, h0)
    _, h_n = model(x, h0)
    for d in range(2):
        layer = traced.layers[0][d]
        initial, parts = decompose_hidden(layer)
        torch.testing.assert_close(initial + parts.sum(0), h_n[d], atol=1e-12, rtol=1e-12)
        share = update_retention(layer)
        z = layer.update
        # closed form at one step: forward t=2 -> prod z_3..z_6; reverse t=2 -> prod z_0..z_1
        expected = z[3:].prod(0) if d == 0 else z[:2].prod(0)
        torch.testing.assert_close(share[2], expected)
        previous = torch.cat([h0[d][None], layer.hidden[:-1]]) if d == 0 else \
            torch.cat([layer.hidden[1:], h0[d][None]])
        torch.testing.assert_close(overwritten(layer), (1 - z) * previous)


def test_refuses_what_is_not_a_gru():
    with pytest.raises(ValueError, match="torch.nn.GRU"):
        trace_gru(torch.nn.LSTM(2, 3), torch.zeros(4, 2))
    model = torch.nn.GRU(2, 3, num_layers=2, dropout=0.5)
    with pytest.raises(ValueError, match="eval"):
        trace_gru(model, torch.zeros(4, 2))
    with pytest.raises(ValueError, match="hx must have shape"):
        trace_gru(model.eval(), torch.zeros(4, 1, 2), torch.zeros(1, 1, 3))
