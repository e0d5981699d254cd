"""RTRL written out for the competitors' fully recurrent net (Williams & Zipser 1989).

``lstmlab.training.RTRL`` is exact for any cell but builds every step's Jacobians with
``torch.func`` (milliseconds a step). The 1997 paper's RTRL competitor is one particular net, a
tanh hidden layer (``ElmanCell``, optionally with the inputs passed to the outputs, ``SkipCell``)
under logistic output units, so its sensitivities can be written out, as Williams & Zipser did:

    net_t  = x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh,     h_t = tanh(net_t)       (B, H)
    d_t    = 1 - h_t^2
    P_t[b, k, θ] = dh_t[b, k] / dθ,                                                      P_0 = 0
    P_t[k, (i, j)] for W_hh:  d_t[k] * (sum_l W_hh[k, l] P_{t-1}[l, (i, j)] + δ_ki h_{t-1}[j])
    P_t[k, (i, j)] for W_ih:  d_t[k] * (sum_l W_hh[k, l] P_{t-1}[l, (i, j)] + δ_ki x_t[j])
    P_t[k, i]      for b_ih, b_hh (equal):  d_t[k] * (sum_l W_hh[k, l] P_{t-1}[l, i] + δ_ki)
    y_t    = sigmoid(z_t @ V.T + c),   z_t = [x_t, h_t] (skip) or h_t
    E(t)   = sum_b mask_t[b] sum_k (y_t[b, k] - target_t[b, k])^2 / B     ([H97] eq. 16)
    dE(t)/dθ = sum_{b, k} dE(t)/dh_t[b, k] P_t[b, k, θ]          (cell weights)

and the readout's gradient by ordinary backpropagation. With ``online=True`` the weights are
updated after every step that carries error and the sensitivities run on across the updates,
exactly as ``RTRL(online=True)`` does; the tests check the two against each other.
Cost per step O(B H^2 W) with W = H (I + H + 2): the O(n^4) of fully recurrent RTRL.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lstmlab.competitors._fully_recurrent import SkipCell
from lstmlab.training._algorithm import StepOutcome
from lstmlab.training._batch import BatchLike


@dataclass(frozen=True)
class WilliamsZipser:
    """Exact RTRL for ``fully_recurrent_net`` models, trained on [H97] eq. 16's squared error.

    Call it like the training algorithms: ``algorithm(model, batch, loss, optimizer)``; the
    ``loss`` argument must be ``lstmlab.training.sum_squared_error`` (the only loss whose
    gradient is written out here).
    """

    online: bool = True

    def __call__(self, model, batch: BatchLike, loss, optimizer) -> StepOutcome:
        from lstmlab.training import sum_squared_error

        if loss is not sum_squared_error:
            raise ValueError("loss: WilliamsZipser is written for sum_squared_error only")
        skip = isinstance(model.cell, SkipCell)
        cell = model.cell.cell if skip else model.cell
        readout = model.readout
        inputs, targets, mask = batch.inputs, batch.targets, batch.mask
        steps, size, width = inputs.shape
        hidden = cell.hidden_size
        eye = torch.eye(hidden, dtype=inputs.dtype)
        p_hh = inputs.new_zeros(size, hidden, hidden, hidden)
        p_ih = inputs.new_zeros(size, hidden, hidden, width)
        p_b = inputs.new_zeros(size, hidden, hidden)
        h = inputs.new_zeros(size, hidden)
        params = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh,
                  readout.weight, readout.bias]
        summed = [torch.zeros_like(p) for p in params]
        total = inputs.new_zeros(())
        outputs = []
        for t in range(steps):
            with torch.no_grad():
                w_hh = cell.weight_hh
                h_new = torch.tanh(inputs[t] @ cell.weight_ih.T + cell.bias_ih
                                   + h @ w_hh.T + cell.bias_hh)
                d = (1 - h_new**2)[:, :, None]
                recur = "kl,blij->bkij"
                p_hh = d[..., None] * (torch.einsum(recur, w_hh, p_hh)
                                       + eye[None, :, :, None] * h[:, None, None, :])
                p_ih = d[..., None] * (torch.einsum(recur, w_hh, p_ih)
                                       + eye[None, :, :, None] * inputs[t][:, None, None, :])
                p_b = d * (torch.einsum("kl,bli->bki", w_hh, p_b) + eye[None])
                h = h_new
                z = torch.cat([inputs[t], h], dim=-1) if skip else h
                y = torch.sigmoid(z @ readout.weight.T + readout.bias)
                outputs.append(y)
                if not bool(mask[t].any()):
                    continue
                on = mask[t].to(inputs.dtype)[:, None]
                error = (y - targets[t]) * on
                total = total + (error**2).sum() / size
                delta = 2 * error / size * y * (1 - y)                 # dE/d(readout pre), (B, O)
                dh = (delta @ readout.weight)[:, -hidden:]              # dE/dh_t, (B, H)
                grad_b = torch.einsum("bk,bki->i", dh, p_b)
                grads = [torch.einsum("bk,bkij->ij", dh, p_ih),
                         torch.einsum("bk,bkij->ij", dh, p_hh), grad_b, grad_b,
                         delta.T @ z, delta.sum(0)]
            if self.online:
                _step(optimizer, params, grads)
            else:
                summed = [s + g for s, g in zip(summed, grads, strict=True)]
        if not self.online and bool(mask.any()):
            _step(optimizer, params, summed)
        return StepOutcome(total, torch.stack(outputs))


def _step(optimizer, params: list[Tensor], grads: list[Tensor]) -> None:
    for p, g in zip(params, grads, strict=True):
        p.grad = g.clone()
    optimizer.step()
