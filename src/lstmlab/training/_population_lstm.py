"""A population of K standard LSTMs run as one computation, two ways.

:func:`stacked_lstm` (the default of :class:`~lstmlab.training._population.LockstepBPTT`): the
members' weights stacked along K, each step one ``torch.baddbmm`` (K, B, H) @ (K, H, 4H) plus
the gate activations for all members at once, and the backward pass written by hand
(:class:`_StackedLSTM`, its equations in the docstring): no per-step autograd nodes, no vmap,
inputs' part of the gates and the weight gradients as one batched product over all T. Each
member computes with its own weights only, so a member's NaN stays its own. At the 1997 sizes
(I = H = 8, K = 32) a training step of all K costs less than one network's step under
``train`` (``benchmarks/bench_population.py``, BENCHMARKS.md).

:func:`block_diagonal_lstm`: K members with cells :class:`~lstmlab.cells._lstm.LSTMCell`
(I inputs, H cells, no projection) are one LSTM of K·H cells reading K·I inputs whose weights
are block-diagonal: member k's cells see only member k's inputs and member k's previous
outputs. For each gate q in (i, f, g, o)

    W_ih[q] = blockdiag(weight_ih_1[q], ..., weight_ih_K[q])      (K·H, K·I)
    W_hh[q] = blockdiag(weight_hh_1[q], ..., weight_hh_K[q])      (K·H, K·H)
    b[q]    = [bias_1[q], ..., bias_K[q]]                          (K·H,)

and the K readouts act on their own slices of h. Off the blocks the weights are exact zeros,
which add exact zeros, so every member's outputs are its own network's. The blocks are built
from the stacked parameters by a differentiable ``einsum`` with the identity, so autograd hands
back each member's own gradient (the off-block gradients never reach a parameter). One call of
``torch.lstm`` (oneDNN on CPU, cuDNN on GPU) replaces the Python step loop.

One member's NaN or inf makes every member's outputs NaN (0 * inf = NaN through the
off-diagonal zeros); :class:`~lstmlab.training._population.LockstepBPTT` then redoes the batch
with :func:`~lstmlab.training._population.vmap_forward`, which keeps members apart, so only the
culprit is reported diverged. Finished members are run on zeros, so they cannot leak later.

The K·H × K·I matrices cost K times the arithmetic of K separate nets; at the 1997 sizes
(H ≈ 8) the saved per-step overhead is worth far more. Shapes: K members, T time, B batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from lstmlab.cells import LSTMCell
from lstmlab.training._model import SequenceModel

GATES = 4  # i, f, g, o, torch's order


def block_diagonal_lstm(
    template: SequenceModel,
) -> Callable[[dict[str, Tensor], Tensor], Tensor]:
    """The batched forward ``(params (K, ...), inputs (K, T, B, I)) -> outputs (K, T, B, O)``
    for a population of ``template``'s architecture (an LSTMCell without projection)."""
    cell = template.cell
    if type(cell) is not LSTMCell or cell.proj_size:
        raise ValueError(f"template.cell: expected an LSTMCell without projection, received "
                         f"{cell!r}")
    has_bias = cell.bias
    hidden = cell.hidden_size

    def forward(params: dict[str, Tensor], inputs: Tensor) -> Tensor:
        count, steps, batch, _ = inputs.shape
        flat = [_blocks(params["cell.weight_ih"]), _blocks(params["cell.weight_hh"])]
        if has_bias:
            flat += [_gate_major(params["cell.bias_ih"]), _gate_major(params["cell.bias_hh"])]
        xs = inputs.permute(1, 2, 0, 3).reshape(steps, batch, -1)  # (T, B, K·I)
        zeros = xs.new_zeros(1, batch, count * hidden)
        hs, _, _ = torch.lstm(xs, (zeros, zeros), flat, has_bias, 1, 0.0, True, False, False)
        hs = hs.view(steps, batch, count, hidden).permute(2, 0, 1, 3)  # (K, T, B, H)
        y = torch.einsum("ktbh,koh->ktbo", hs, params["readout.weight"])
        if "readout.bias" in params:
            y = y + params["readout.bias"][:, None, None, :]
        return y if template.squash is None else template.squash(y)

    return forward


def _blocks(weight: Tensor) -> Tensor:
    """(K, 4H, J) -> (4·K·H, K·J): per gate, the K matrices on the diagonal."""
    count, rows, cols = weight.shape
    eye = torch.eye(count, dtype=weight.dtype, device=weight.device)
    per_gate = weight.view(count, GATES, rows // GATES, cols)
    return torch.einsum("kghj,kl->gkhlj", per_gate, eye).reshape(rows * count, count * cols)


def _gate_major(bias: Tensor) -> Tensor:
    """(K, 4H) -> (4·K·H,): gate-major, then member, then cell."""
    count, rows = bias.shape
    return bias.view(count, GATES, rows // GATES).transpose(0, 1).reshape(-1)


def stacked_lstm(
    template: SequenceModel,
) -> Callable[[dict[str, Tensor], Tensor], Tensor]:
    """The batched forward ``(params (K, ...), inputs (K, T, B, I)) -> outputs (K, T, B, O)``
    for a population of ``template``'s architecture (an LSTMCell without projection): each
    member's own weights, one ``torch.baddbmm`` over the K members per step, the backward pass
    written by hand (:class:`_StackedLSTM`). Members never mix, so one member's NaN stays its
    own, and each member's numbers are its own network's up to summation order."""
    cell = template.cell
    if type(cell) is not LSTMCell or cell.proj_size:
        raise ValueError(f"template.cell: expected an LSTMCell without projection, received "
                         f"{cell!r}")
    has_bias = cell.bias

    def forward(params: dict[str, Tensor], inputs: Tensor) -> Tensor:
        weight_ih, weight_hh = params["cell.weight_ih"], params["cell.weight_hh"]
        if has_bias:
            bias = params["cell.bias_ih"] + params["cell.bias_hh"]
        else:
            bias = weight_ih.new_zeros(weight_ih.shape[:2])
        hs = _StackedLSTM.apply(inputs.transpose(0, 1), weight_ih, weight_hh, bias)  # (T,K,B,H)
        y = torch.einsum("tkbh,koh->ktbo", hs, params["readout.weight"])
        if "readout.bias" in params:
            y = y + params["readout.bias"][:, None, None, :]
        return y if template.squash is None else template.squash(y)

    return forward


def _to_internal(hidden: int, device: torch.device) -> Tensor:
    """Row order (o, i, f, g) from torch's (i, f, g, o): the three sigmoid gates side by side
    (one activation call), the gates that receive dc side by side (one product in backward)."""
    return torch.cat([torch.arange(3 * hidden, 4 * hidden), torch.arange(3 * hidden)]).to(device)


class _StackedLSTM(torch.autograd.Function):
    """K LSTMs, each with its own weights, run from zero state:
    ``xs`` (T, K, B, I), ``weight_ih`` (K, 4H, I), ``weight_hh`` (K, 4H, H), ``bias`` (K, 4H)
    -> ``hs`` (T, K, B, H). The equations of :class:`~lstmlab.cells._lstm.LSTMCell` per member;
    the backward pass is BPTT by hand, with ``d`` for the gradient of the loss::

        dh_t   = dhs_t + dpre_{t+1} @ weight_hh            (what step t+1 sent back)
        dc_t   = dc_{t+1} * f_{t+1} + dh_t * o_t * (1 - tanh(c_t)^2)
        dpre_t = (dc_t * g_t * i_t (1 - i_t),  dc_t * c_{t-1} * f_t (1 - f_t),
                  dc_t * i_t * (1 - g_t^2),    dh_t * tanh(c_t) * o_t (1 - o_t))
        dweight_ih = sum_t dpre_t.T @ x_t,  dweight_hh = sum_t dpre_t.T @ h_{t-1},
        dbias = sum_t dpre_t                                (one bmm each over all T)

    Everything that does not depend on the incoming gradient (the activations' derivatives
    times their partners) is computed for all T at once after the forward loop, so a step of
    the backward loop is five tensor operations and a step of the forward loop seven.
    """

    @staticmethod
    def forward(ctx, xs: Tensor, weight_ih: Tensor, weight_hh: Tensor, bias: Tensor) -> Tensor:
        steps, count, batch, inputs = xs.shape
        hidden = weight_hh.shape[2]
        order = _to_internal(hidden, xs.device)
        w_ih, w_hh, b = weight_ih[:, order], weight_hh[:, order], bias[:, order]
        # The input's part of every step at once: (K, T·B, I) @ (K, I, 4H) -> (T, K, B, 4H).
        x_by_member = xs.permute(1, 0, 2, 3).reshape(count, steps * batch, inputs)
        pre_x = torch.baddbmm(b[:, None, :], x_by_member, w_ih.transpose(1, 2))
        pre_x = pre_x.view(count, steps, batch, 4 * hidden).transpose(0, 1).contiguous()
        gates = torch.empty_like(pre_x)  # (T, K, B, 4H), (o, i, f, g) once activated
        cs = xs.new_zeros(steps + 1, count, batch, hidden)  # cs[t + 1] = c_t, cs[0] = 0
        hs = xs.new_zeros(steps + 1, count, batch, hidden)
        tanh_cs = torch.empty_like(cs[1:])
        w_hh_t = w_hh.transpose(1, 2)  # (K, H, 4H)
        for t in range(steps):
            a = gates[t]
            torch.baddbmm(pre_x[t], hs[t], w_hh_t, out=a)
            a[..., : 3 * hidden].sigmoid_()
            a[..., 3 * hidden :].tanh_()
            o, i, f, g = a.split(hidden, dim=-1)
            torch.mul(f, cs[t], out=cs[t + 1]).addcmul_(i, g)
            torch.tanh(cs[t + 1], out=tanh_cs[t])
            torch.mul(o, tanh_cs[t], out=hs[t + 1])
        ctx.save_for_backward(xs, w_ih, w_hh, gates, cs, hs, tanh_cs, order)
        return hs[1:]

    @staticmethod
    def backward(ctx, grad_hs: Tensor):
        xs, w_ih, w_hh, gates, cs, hs, tanh_cs, order = ctx.saved_tensors
        steps, count, batch, _ = gates.shape
        hidden = hs.shape[-1]
        o, i, f, g = gates.split(hidden, dim=-1)
        # factors[t] (K, B, 4, H): dpre_t = (dh_t, dc_t, dc_t, dc_t) * factors[t], (o, i, f, g).
        factors = torch.stack([tanh_cs * o * (1 - o), g * i * (1 - i),
                               cs[:-1] * f * (1 - f), i * (1 - g * g)], dim=3)
        dc_from_dh = o * (1 - tanh_cs * tanh_cs)  # (T, K, B, H)
        dpre = torch.empty_like(factors)  # (T, K, B, 4, H)
        dh = grad_hs[-1].clone()
        dc = torch.zeros_like(dh)
        dc_next = torch.zeros_like(dh)
        for t in range(steps - 1, -1, -1):
            torch.addcmul(dc_next, dh, dc_from_dh[t], out=dc)
            torch.mul(dh, factors[t, :, :, 0], out=dpre[t, :, :, 0])
            torch.mul(dc[:, :, None], factors[t, :, :, 1:], out=dpre[t, :, :, 1:])
            if t:
                torch.mul(dc, f[t], out=dc_next)
                dh = torch.baddbmm(grad_hs[t - 1], dpre[t].view(count, batch, 4 * hidden),
                                   w_hh)
        # Weight gradients over all steps at once: (K, 4H, T·B) @ (K, T·B, J).
        by_member = dpre.view(steps, count, batch, 4 * hidden).transpose(0, 1)
        by_member = by_member.reshape(count, steps * batch, 4 * hidden)
        x_by_member = xs.transpose(0, 1).reshape(count, steps * batch, -1)
        h_by_member = hs[:-1].transpose(0, 1).reshape(count, steps * batch, hidden)
        back = torch.empty_like(order)
        back[order] = torch.arange(order.numel(), device=order.device)
        grad_w_ih = grad_w_hh = grad_bias = grad_xs = None
        if ctx.needs_input_grad[1]:
            grad_w_ih = torch.bmm(by_member.transpose(1, 2), x_by_member)[:, back]
        if ctx.needs_input_grad[2]:
            grad_w_hh = torch.bmm(by_member.transpose(1, 2), h_by_member)[:, back]
        if ctx.needs_input_grad[3]:
            grad_bias = by_member.sum(1)[:, back]
        if ctx.needs_input_grad[0]:
            grad_xs = torch.bmm(by_member, w_ih).view(count, steps, batch, -1).transpose(0, 1)
        return grad_xs, grad_w_ih, grad_w_hh, grad_bias
