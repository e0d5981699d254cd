"""Gradient flow against autograd on a per-step reference, and the vanishing gradient in numbers."""

from __future__ import annotations

import pytest
import torch

from lstmlab.introspection import gradient_flow, jacobian_norms
from lstmlab.layers import LSTM, RNN


def reference_state_grads(model, x, lengths, loss_fn):
    """torch.nn.LSTM / RNN written out per step; every state calls retain_grad()."""
    steps, batch, _ = x.shape
    lstm = isinstance(model, torch.nn.LSTM)
    directions = 2 if model.bidirectional else 1
    kept, layer_input, finals = {}, x, []
    for layer in range(model.num_layers):
        outs = []
        for d in range(directions):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh = getattr(model, "weight_ih" + sfx), getattr(model, "weight_hh" + sfx)
            b = getattr(model, "bias_ih" + sfx) + getattr(model, "bias_hh" + sfx)
            h = x.new_zeros(batch, model.proj_size or model.hidden_size)
            c = x.new_zeros(batch, model.hidden_size)
            out = [None] * steps
            for t in (range(steps - 1, -1, -1) if d else range(steps)):
                active = (t < lengths).unsqueeze(-1)
                pre = layer_input[t] @ w_ih.T + h @ w_hh.T + b
                if lstm:
                    i, f, g, o = pre.chunk(4, dim=-1)
                    c_new = f.sigmoid() * c + i.sigmoid() * g.tanh()
                    c_new.retain_grad()
                    h_new = o.sigmoid() * c_new.tanh()
                    if model.proj_size:
                        h_new = h_new @ getattr(model, "weight_hr" + sfx).T
                    kept[(layer, d, t, "c")] = c_new
                    c = torch.where(active, c_new, c)
                else:
                    h_new = pre.tanh()
                h_new.retain_grad()
                kept[(layer, d, t, "h")] = h_new
                h = torch.where(active, h_new, h)
                out[t] = h_new * active
            outs.append(torch.stack(out))
            finals.append((h, c))
        layer_input = torch.cat(outs, dim=-1)
    h_n = torch.stack([f[0] for f in finals])
    state = (h_n, torch.stack([f[1] for f in finals])) if lstm else h_n
    loss_fn(layer_input, state).backward()
    return {key: tensor.grad for key, tensor in kept.items()}


def quadratic_loss(output, state):
    h_n = state[0] if isinstance(state, tuple) else state
    weights = torch.linspace(-1, 1, output.shape[-1], dtype=output.dtype)
    return ((output * weights) ** 2).sum() + h_n.sum() + (
        state[1].pow(3).sum() if isinstance(state, tuple) else 0)


@pytest.mark.parametrize("make", [
    lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True),
    lambda: torch.nn.LSTM(3, 4, num_layers=2, proj_size=2),
    lambda: torch.nn.RNN(3, 4, num_layers=2, bidirectional=True),
], ids=["lstm-bidirectional", "lstm-proj", "rnn-bidirectional"])
def test_state_gradients_equal_per_step_autograd(make):
    generator = torch.Generator().manual_seed(0)
    model = make().double()
    x = torch.randn(7, 3, 3, dtype=torch.float64, generator=generator)
    lengths = torch.tensor([7, 3, 5])
    flow = gradient_flow(model, x, quadratic_loss, lengths=lengths)
    expected = reference_state_grads(model, x, lengths, quadratic_loss)
    lstm = isinstance(model, torch.nn.LSTM)
    for (layer, d, t, field), grad in expected.items():
        grads = flow.layers[layer][d]
        ours = grads.cell if field == "c" else grads.hidden
        real = (t < lengths).unsqueeze(-1)
        torch.testing.assert_close(ours[t], grad * real, rtol=0, atol=1e-10,
                                   msg=f"layer {layer} direction {d} step {t} {field}")
    assert (flow[0].cell is None) == (not lstm)


def test_our_layers_give_torchs_gradient_flow():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(6, 2, 3, dtype=torch.float64, generator=generator)
    for theirs, ours in ((torch.nn.LSTM(3, 4, bidirectional=True), LSTM(3, 4, bidirectional=True)),
                         (torch.nn.RNN(3, 4), RNN(3, 4))):
        theirs, ours = theirs.double(), ours.double()
        ours.load_state_dict(theirs.state_dict())
        a, b = (gradient_flow(m, x, quadratic_loss) for m in (theirs, ours))
        torch.testing.assert_close(a.loss, b.loss, rtol=0, atol=1e-10)
        for ga, gb in zip(a.layers[0], b.layers[0], strict=True):
            torch.testing.assert_close(ga.hidden, gb.hidden, rtol=0, atol=1e-10)
            torch.testing.assert_close(ga.initial_hidden, gb.initial_hidden, rtol=0, atol=1e-10)


def _init(model, generator):
    """torch's default U(-1/sqrt(H), 1/sqrt(H)), drawn from an explicit generator."""
    bound = model.hidden_size ** -0.5
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.uniform_(-bound, bound, generator=generator)
    return model


def test_the_simple_rnn_gradient_vanishes_and_the_lstm_carousel_keeps_it():
    """T = 50, H = 32, L = sum of h_T. Simple RNN: each step back multiplies by
    diag(tanh') W_hh, ||W_hh||_2 ~ 2/sqrt(3) ~ 1.15 for U(-1/sqrt(H), 1/sqrt(H)) but tanh' < 1
    and the typical gain per step ~ 0.5, so 49 steps give ~ 1e-14. LSTM with forget bias 5:
    f ~ sigmoid(5) = 0.993, prod over 49 steps ~ 0.72 along the carousel; dL/dh_0 reaches h_0
    through one more gate product, costing roughly a factor 0.3: a ratio well above 0.1."""
    generator = torch.Generator().manual_seed(2)
    steps, hidden = 50, 32
    x = torch.randn(steps, 4, 8, dtype=torch.float64, generator=generator)
    rnn = _init(torch.nn.RNN(8, hidden).double(), generator)
    lstm = _init(torch.nn.LSTM(8, hidden).double(), generator)
    with torch.no_grad():
        lstm.bias_hh_l0[hidden:2 * hidden] = 5.0

    def last_step(output, state):
        return output[-1].sum()

    rnn_grad = gradient_flow(rnn, x, last_step)[0].hidden
    lstm_flow = gradient_flow(lstm, x, last_step)[0]
    rnn_ratio = (rnn_grad[0].norm() / rnn_grad[-1].norm()).item()
    lstm_ratio = (lstm_flow.hidden[0].norm() / lstm_flow.hidden[-1].norm()).item()
    cell_ratio = (lstm_flow.cell[0].norm() / lstm_flow.cell[-1].norm()).item()
    assert rnn_ratio < 1e-8, rnn_ratio
    assert lstm_ratio > 0.1, lstm_ratio
    assert cell_ratio > 1.0, cell_ratio  # the carousel carries dL/dc_T back undiminished
    # the decay is monotone in distance for the RNN: each 10 steps back costs > 1e-2
    norms = rnn_grad.norm(dim=(1, 2))
    assert (norms[:-10:10] / norms[10::10]).max() < 1e-2


def test_jacobian_norm_is_the_carousel_when_h_feeds_nothing_back():
    """With weight_hh = 0 the gates ignore h, so c_T = (prod f) c_t + ...: dc_T/dc_t is
    exactly diag(prod_{s=t+1..T} f_s) and its norm is the carousel's."""
    model = torch.nn.LSTM(3, 4, bidirectional=True).double()
    with torch.no_grad():
        model.weight_hh_l0.zero_()
        model.weight_hh_l0_reverse.zero_()
    x = torch.randn(8, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    for direction in range(2):
        norms = jacobian_norms(model, x, direction=direction)
        torch.testing.assert_close(norms.norm, norms.carousel_norm, rtol=0, atol=1e-12)


def test_jacobian_norm_equals_the_perturbation_jacobian():
    """Reference: the DESIGN's perturbation, c_t + eps inside step t, differentiated by
    torch.autograd.functional.jacobian, for each t."""
    model = torch.nn.LSTM(2, 3).double()
    x = torch.randn(5, 1, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    w_ih, w_hh = model.weight_ih_l0, model.weight_hh_l0
    b = model.bias_ih_l0 + model.bias_hh_l0

    def final_cell(eps, at):
        h, c = x.new_zeros(3), x.new_zeros(3)
        for t in range(5):
            i, f, g, o = (x[t, 0] @ w_ih.T + h @ w_hh.T + b).chunk(4)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh() + (eps if t == at else 0)
            h = o.sigmoid() * c.tanh()
        return c

    norms = jacobian_norms(model, x)
    for t in range(5):
        jacobian = torch.autograd.functional.jacobian(lambda e, t=t: final_cell(e, t),
                                                      x.new_zeros(3))
        torch.testing.assert_close(norms.norm[t, 0], torch.linalg.matrix_norm(jacobian, ord=2),
                                   rtol=0, atol=1e-10)


def test_rnn_jacobian_matches_the_closed_form():
    rnn = torch.nn.RNN(2, 3, bias=False).double()
    x = torch.randn(4, 1, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        output, _ = rnn(x)
    w_hh = rnn.weight_hh_l0.detach()
    expected, jacobian = [], torch.eye(3, dtype=torch.float64)
    for t in range(3, -1, -1):  # dh_3/dh_t = prod_{s=t+1..3} diag(1 - h_s^2) W_hh
        expected.insert(0, torch.linalg.matrix_norm(jacobian, ord=2))
        jacobian = jacobian @ torch.diag(1 - output[t, 0] ** 2) @ w_hh
    result = jacobian_norms(rnn, x)
    torch.testing.assert_close(result.norm[:, 0], torch.stack(expected), rtol=0, atol=1e-12)
    assert result.carousel is None


def test_variant_cells_run_their_own_step():
    from lstmlab.cells import PeepholeLSTMCell

    model = LSTM(3, 4, cell=PeepholeLSTMCell).double()
    x = torch.randn(6, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    flow = gradient_flow(model, x, lambda output, state: state[1].sum())[0]
    # L = sum of c_T: dL/dc_T = 1, and h_T feeds nothing
    torch.testing.assert_close(flow.cell[-1], torch.ones(2, 4, dtype=torch.float64), rtol=0,
                               atol=0)
    torch.testing.assert_close(flow.hidden[-1], torch.zeros(2, 4, dtype=torch.float64), rtol=0,
                               atol=0)
    # one step back, the peephole cell's c_{T-1} reaches c_T through f and the gates' peepholes
    assert flow.cell[-2].abs().min() > 0


def test_batch_first_gives_the_same_gradients():
    generator = torch.Generator().manual_seed(7)
    x = torch.randn(5, 2, 3, dtype=torch.float64, generator=generator)
    model = torch.nn.LSTM(3, 4).double()
    first = torch.nn.LSTM(3, 4, batch_first=True).double()
    first.load_state_dict(model.state_dict())
    a = gradient_flow(model, x, lambda output, state: output[-1].pow(2).sum())
    b = gradient_flow(first, x.transpose(0, 1), lambda output, state: output[:, -1].pow(2).sum())
    torch.testing.assert_close(a[0].cell, b[0].cell, rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="loss_fn"):
        gradient_flow(model, x, lambda output, state: output.sum(0))
