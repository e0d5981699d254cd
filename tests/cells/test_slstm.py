"""sLSTM against the reference, xlstm's vanilla (pure PyTorch) backend, and against itself.

The reference cell (``xlstm.blocks.slstm.cell.sLSTMCell``, backend "vanilla") takes the gate
pre-activations W x_t (B, S, 4H) and holds the recurrence R (K, 4D, D) and one bias (4H); we map
our ``weight_hh`` (4H, D) onto its R and ``bias_ih + bias_hh`` onto its bias, and feed it
``x @ weight_ih.T`` computed from a copy of our ``weight_ih``, so every gradient can be compared.
"""

import pytest
import torch
from cell_references import require
from torch.testing import assert_close

from lstmlab.cells import SLSTMCell, SLSTMState
from lstmlab.layers import SLSTM, unroll

B, T, I, H = 3, 7, 5, 8


def _reference(cell: SLSTMCell):
    """xlstm's vanilla sLSTM cell holding ``cell``'s recurrence and bias."""
    require("xlstm")
    from xlstm.blocks.slstm.cell import sLSTMCell, sLSTMCellConfig

    K, D = cell.num_heads, cell.head_size
    reference = sLSTMCell(sLSTMCellConfig(hidden_size=cell.hidden_size, num_heads=K,
                                          backend="vanilla", dtype="float32"))
    with torch.no_grad():
        recurrent = cell.weight_hh.view(4, K, D, D).permute(1, 0, 2, 3).reshape(K, 4 * D, D)
        reference._recurrent_kernel_.copy_(recurrent)
        reference._bias_.copy_(cell.bias_ih + cell.bias_hh)
    return reference


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_equals_xlstm_vanilla_outputs_states_and_gradients(heads):
    torch.manual_seed(heads)
    cell = SLSTMCell(I, H, num_heads=heads)
    with torch.no_grad():  # larger gates than the default init, so m really moves
        for parameter in cell.parameters():
            parameter.mul_(4)
    reference = _reference(cell)
    xs = torch.randn(T, B, I)
    weight_out = torch.randn(T, B, H)
    weight_final = torch.randn(4, B, H)

    x_ours = xs.clone().requires_grad_()
    outputs, final, recording = unroll(cell, x_ours, record=True)
    loss = (outputs * weight_out).sum() + (torch.stack(list(final)[:3]) * weight_final[:3]).sum()
    loss.backward()

    x_ref = xs.clone().requires_grad_()
    weight_ih = cell.weight_ih.detach().clone().requires_grad_()
    pre = torch.nn.functional.linear(x_ref, weight_ih).transpose(0, 1)  # (B, T, 4H)
    ref_out, ref_state = reference(pre)  # (B, K, T, D), (4, B, H): h, c, n, m
    ref_out = ref_out.permute(2, 0, 1, 3).reshape(T, B, H)
    ref_loss = (ref_out * weight_out).sum() + (ref_state[:3] * weight_final[:3]).sum()
    ref_loss.backward()

    # float32 on both sides (xlstm's vanilla cell has no float64): torch's float32 defaults.
    # Gradients through 7 steps of 4x-scaled weights reach |x| ~ 1 and differ by a few 1e-6
    # between reduction orders (thread counts), which atol 1e-6 did not always allow.
    tolerance = {"rtol": 1.3e-6, "atol": 1e-5}
    assert_close(outputs, ref_out, **tolerance)
    for k in range(4):
        assert_close(final[k], ref_state[k], **tolerance)
    assert_close(x_ours.grad, x_ref.grad, **tolerance)
    assert_close(cell.weight_ih.grad, weight_ih.grad, **tolerance)
    K, D = heads, H // heads
    recurrent_grad = reference._recurrent_kernel_.grad.view(K, 4, D, D).permute(1, 0, 2, 3)
    assert_close(cell.weight_hh.grad, recurrent_grad.reshape(4 * H, D), **tolerance)
    assert_close(cell.bias_ih.grad, reference._bias_.grad, **tolerance)
    assert_close(cell.bias_hh.grad, reference._bias_.grad, **tolerance)
    # the gates too: i' at every step, f' from step 2 on (module docstring: at step 1 the
    # reference's f' multiplies c_0 = n_0 = 0 and is not ours)
    from xlstm.blocks.slstm.src.vanilla import slstm_forward

    with torch.no_grad():
        ref_states, _, ref_gates = slstm_forward(pre.detach().transpose(0, 1), torch.zeros(4, B, H),
                                        reference._recurrent_kernel_, reference._bias_,
                                        reference.pointwise)
    assert_close(recording.gates.input, ref_gates[:T, 0], **tolerance)
    assert_close(recording.gates.forget[1:], ref_gates[1:T, 1], **tolerance)
    assert_close(recording.gates.output, ref_gates[:T, 3], **tolerance)
    assert_close(recording.gates.candidate, torch.tanh(ref_gates[:T, 2]), **tolerance)
    for k, name in enumerate(SLSTMState._fields):  # every state at every step: h, c, n, m
        assert_close(getattr(recording.states, name), ref_states[k, 1:], **tolerance)


def test_output_independent_of_stabilizer():
    """(c, n, m) and (c e^-d, n e^-d, m + d) are the same true state: the same h, to 1e-12."""
    torch.manual_seed(1)
    cell = SLSTMCell(I, H, num_heads=2, dtype=torch.float64)
    xs = torch.randn(T, B, I, dtype=torch.float64) * 3
    _, start, _ = unroll(cell, xs[:3])  # a reachable state with n > 0
    shift = torch.randn(B, H, dtype=torch.float64) * 5
    shifted = SLSTMState(start.h, start.c * torch.exp(-shift), start.n * torch.exp(-shift),
                         start.m + shift)
    out_a, final_a, _ = unroll(cell, xs[3:], start)
    out_b, final_b, _ = unroll(cell, xs[3:], shifted)
    assert_close(out_a, out_b, rtol=0, atol=1e-12)
    assert_close(final_a.c * torch.exp(final_a.m), final_b.c * torch.exp(final_b.m),
                 rtol=1e-12, atol=0)
    assert not torch.equal(final_a.m, final_b.m)  # the shift really changed the stabilizer


def test_gradcheck_float64():
    torch.manual_seed(2)
    cell = SLSTMCell(3, 4, num_heads=2, dtype=torch.float64)
    xs = torch.randn(3, 2, 3, dtype=torch.float64, requires_grad=True)
    names = [name for name, _ in cell.named_parameters()]
    start = SLSTMState(*(torch.rand(2, 4, dtype=torch.float64) + 0.5 for _ in range(4)))
    start = start._replace(h=start.h - 1, m=start.m - 1)
    leaves = [t.clone().requires_grad_() for t in start]

    def run(xs, *tensors):
        parameters = dict(zip(names, tensors[:len(names)], strict=True))
        state = SLSTMState(*tensors[len(names):])
        out = []
        for x in xs:
            state, gates = torch.func.functional_call(cell, parameters, (x, state))
            out.extend([*state[:3], *gates])
        return tuple(out)

    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    assert torch.autograd.gradcheck(run, (xs, *params, *leaves), fast_mode=True)
    # and from the zero state (m = -inf): the first step's f' = 0 path
    zero = [t.requires_grad_() for t in cell.initial_state(2)[:3]]
    m0 = cell.initial_state(2).m
    assert torch.autograd.gradcheck(
        lambda xs, *t: run(xs, *t, m0), (xs, *params, *zero), fast_mode=True)


def test_layer_carries_state_across_calls():
    torch.manual_seed(3)
    layer = SLSTM(I, H, num_layers=2, num_heads=2, batch_first=True)
    x = torch.randn(B, T, I)
    whole, state = layer(x)
    first, middle = layer(x[:, :4])
    second, state_b = layer(x[:, 4:], middle)
    assert_close(torch.cat([first, second], 1), whole, rtol=1e-6, atol=1e-6)
    for a, b in zip(state, state_b, strict=True):
        assert_close(a, b, rtol=1e-6, atol=1e-6)
    assert len(state) == 4 and state[3].shape == (2, B, H)
    names = {name for name, _ in layer.named_parameters()}
    assert names == {f"{p}_l{k}" for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                     for k in (0, 1)}


def test_bad_heads_named():
    with pytest.raises(ValueError, match="num_heads must divide hidden_size"):
        SLSTMCell(I, H, num_heads=3)
