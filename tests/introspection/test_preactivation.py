"""The gate pre-activation split: the three terms sum to the pre-activation, computed here
step by step from torch's equations, and to logit(f) of the trace, to 1e-10 in float64."""

import pytest
import torch

from lstmlab.introspection import gate_terms, trace
from lstmlab.layers import LSTM


def _reference_pre(model, x, lengths, gate_block):
    """Per layer and direction, (T, B, H) pre-activation of one gate block, by a plain loop."""
    steps, batch = x.shape[:2]
    size, directions = model.hidden_size, 2 if model.bidirectional else 1
    rows = slice(gate_block * size, (gate_block + 1) * size)
    out, layer_input = [], x
    for layer in range(model.num_layers):
        pres, hiddens = [], []
        for direction in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if direction else "")
            w_ih, w_hh = getattr(model, "weight_ih" + sfx), getattr(model, "weight_hh" + sfx)
            b = getattr(model, "bias_ih" + sfx) + getattr(model, "bias_hh" + sfx)
            w_hr = getattr(model, "weight_hr" + sfx, None)
            pre_gate = torch.zeros(steps, batch, size, dtype=x.dtype)
            hidden = torch.zeros(steps, batch, w_hh.shape[1], dtype=x.dtype)
            for n in range(batch):
                h = torch.zeros(w_hh.shape[1], dtype=x.dtype)
                c = torch.zeros(size, dtype=x.dtype)
                order = range(int(lengths[n]))
                for t in (reversed(order) if direction else order):
                    pre = w_ih @ layer_input[t, n] + w_hh @ h + b
                    pre_gate[t, n] = pre[rows]
                    i, f, g, o = pre.chunk(4)
                    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
                    h = o.sigmoid() * c.tanh()
                    h = h if w_hr is None else w_hr @ h
                    hidden[t, n] = h
            pres.append(pre_gate)
            hiddens.append(hidden)
        out.append(pres)
        layer_input = torch.cat(hiddens, dim=-1)
    return out


@pytest.mark.parametrize("make", [
    lambda: torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2),
    lambda: torch.nn.LSTM(4, 6),
    lambda: LSTM(3, 5, num_layers=2, bidirectional=True),
])
@pytest.mark.parametrize("gate", ["forget", "input"])
def test_terms_sum_to_the_pre_activation(make, gate):
    torch.manual_seed(0)
    model = make().double()
    x = torch.randn(6, 3, model.input_size, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    layers = gate_terms(model, x, lengths=lengths, gate=gate)
    reference = _reference_pre(model, x, lengths, ["input", "forget"].index(gate))
    traced = trace(model, x, lengths=lengths)
    mask = traced[0].mask.unsqueeze(-1)
    for terms, expected, layer_trace in zip(layers, reference, traced.layers, strict=True):
        for one, pre, direction_trace in zip(terms, expected, layer_trace, strict=True):
            torch.testing.assert_close(one.total, pre, rtol=0, atol=1e-10)
            activated = getattr(direction_trace, gate)
            logit = torch.logit(activated).where(mask, torch.zeros_like(activated))
            torch.testing.assert_close(one.total, logit, rtol=0, atol=1e-10)


def test_input_term_is_the_word_alone_and_recurrent_term_the_context():
    """Same input at one step, different histories: the input term agrees there and the
    recurrent term differs; zero h0 gives a zero recurrent term at step 0."""
    torch.manual_seed(1)
    model = torch.nn.LSTM(3, 4).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    x[4, 1] = x[4, 0]
    (terms,), = gate_terms(model, x)
    torch.testing.assert_close(terms.input[4, 0], terms.input[4, 1], rtol=0, atol=0)
    assert (terms.recurrent[4, 0] - terms.recurrent[4, 1]).abs().max() > 1e-3
    assert torch.equal(terms.recurrent[0], torch.zeros(2, 4, dtype=torch.float64))
    torch.testing.assert_close(terms.bias, (model.bias_ih_l0 + model.bias_hh_l0)[4:8].detach())


def test_batch_first_equals_time_major():
    torch.manual_seed(2)
    model = torch.nn.LSTM(3, 4, batch_first=True).double()
    twin = torch.nn.LSTM(3, 4).double()
    twin.load_state_dict(model.state_dict())
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    lengths = torch.tensor([5, 3])
    (a,), = gate_terms(model, x, lengths=lengths)
    (b,), = gate_terms(twin, x.transpose(0, 1), lengths=lengths)
    for name in ("input", "recurrent", "total"):
        torch.testing.assert_close(getattr(a, name), getattr(b, name), rtol=0, atol=0)
    assert torch.equal(a.total[3:, 1], torch.zeros(2, 4, dtype=torch.float64))


def test_bad_gate_and_model_are_named():
    with pytest.raises(ValueError, match="gate"):
        gate_terms(torch.nn.LSTM(2, 3), torch.zeros(4, 1, 2), gate="cell")
    with pytest.raises(ValueError, match="model"):
        gate_terms(torch.nn.GRU(2, 3), torch.zeros(4, 1, 2))
