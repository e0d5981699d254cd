"""Shared references for the introspection tests: the LSTM step written out, one step at a time."""

from __future__ import annotations

import pytest
import torch


def reference_lstm(model, x, hx=None, lengths=None):
    """torch.nn.LSTM's equations as a per-step loop (torch.nn.LSTMCell's math, plus proj_size).

    x (T, B, I); returns {(layer, direction): dict of (T, B, .) tensors i, f, g, o, c, h in input
    order, zero past each sequence's end}. Steps past lengths[b] leave sequence b's state alone;
    the reverse direction reads sequence b from lengths[b]-1 down to 0.
    """
    steps, batch, _ = x.shape
    directions = 2 if model.bidirectional else 1
    hidden_size, out_size = model.hidden_size, model.proj_size or model.hidden_size
    if lengths is None:
        lengths = torch.full((batch,), steps)
    result = {}
    layer_input = x
    for layer in range(model.num_layers):
        outputs = []
        for direction in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if direction else "")
            w_ih, w_hh = getattr(model, "weight_ih" + sfx), getattr(model, "weight_hh" + sfx)
            b = getattr(model, "bias_ih" + sfx, None)
            b = 0 if b is None else b + getattr(model, "bias_hh" + sfx)
            w_hr = getattr(model, "weight_hr" + sfx, None)
            row = layer * directions + direction
            h = x.new_zeros(batch, out_size) if hx is None else hx[0][row].clone()
            c = x.new_zeros(batch, hidden_size) if hx is None else hx[1][row].clone()
            record = {k: x.new_zeros(steps, batch, hidden_size) for k in "ifgoc"}
            record["h"] = x.new_zeros(steps, batch, out_size)
            order = range(steps - 1, -1, -1) if direction else range(steps)
            for t in order:
                active = (t < lengths).unsqueeze(-1)  # padding steps leave the state alone
                pre = layer_input[t] @ w_ih.T + h @ w_hh.T + b
                i, f, g, o = pre.chunk(4, dim=-1)
                i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
                c_new = f * c + i * g
                h_new = o * c_new.tanh()
                if w_hr is not None:
                    h_new = h_new @ w_hr.T
                c, h = torch.where(active, c_new, c), torch.where(active, h_new, h)
                for key, value in zip("ifgoch", (i, f, g, o, c, h), strict=True):
                    record[key][t] = value * active
            result[(layer, direction)] = record
            outputs.append(record["h"])
        layer_input = torch.cat(outputs, dim=-1)
    return result


@pytest.fixture
def lstm_reference():
    with torch.no_grad():
        yield reference_lstm
