"""Exact RTRL for K networks in lockstep: the 1997 paper's RTRL competitor, many trials at once.

The recurrence of :mod:`lstmlab.training._rtrl`, for all members k at once. The per-example
Jacobians are vmapped over the batch and then over the members, so one call serves all K:

    M_t^k = ∂S_t^k/∂S_{t-1}^k · M_{t-1}^k + ∂S_t^k/∂θ_k             (K, B, N, P)
    ℓ_t^k = loss(readout_k(S_t^k.h), targets_t^k, mask_t^k)          one backward of sum_k ℓ_t^k
    dℓ_t^k/dθ_k = ∂ℓ_t^k/∂S_t^k · M_t^k;   dℓ_t^k/dφ_k = ∂ℓ_t^k/∂φ_k  (cell θ, readout φ)

``online=True``: after every step, the members that are active and have error at that step
move (as ``RTRL(online=True)`` alone); ``online=False``: each member's gradients are summed over
the batch and it moves once. The cost of a step hardly grows with K (it is overhead-bound at
the paper's sizes), which is what makes RTRL trials affordable in numbers.
Shapes: K members, T time, B batch, N state width, P cell parameters, O outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.func import functional_call, vmap

from lstmlab.training._losses import Loss
from lstmlab.training._model import SequenceModel
from lstmlab.training._optimizers import SGD, Adam
from lstmlab.training._population import Stacked
from lstmlab.training._rtrl import state_jacobians, state_layout, unflatten_state


@dataclass(frozen=True)
class LockstepRTRL:
    """Exact RTRL for a population; ``online``: update at every step that carries error."""

    online: bool = True

    def __call__(
        self, template: SequenceModel, params: Stacked, opt_state: Stacked,
        optimizer: SGD | Adam, active: Tensor, data: tuple[Tensor, Tensor, Tensor], loss: Loss,
    ) -> tuple[Stacked, Stacked, Tensor, Tensor]:
        inputs, targets, mask = data
        count, steps, batch = inputs.shape[:3]
        cell = template.cell
        kind, sizes = state_layout(template.initial_state(1, inputs))
        cell_names = [name for name, _ in cell.named_parameters()]
        shapes = [params["cell." + name].shape[1:] for name in cell_names]
        read_names = [name for name in params if name.startswith("readout.")]
        jacobians = vmap(state_jacobians(cell, kind, sizes))  # over K, then over B inside

        def member_loss(read: Stacked, s: Tensor, target: Tensor, weight: Tensor):
            # One member at step t: s (B, N), target (B, O), weight (B,) -> ℓ_t, y_t (B, O).
            y = functional_call(template.readout, read, (unflatten_state(s, kind, sizes).h,))
            y = y if template.squash is None else template.squash(y)
            return loss(y[None], target[None], weight[None]), y

        step_losses_of = vmap(member_loss)
        initial = torch.cat(tuple(template.initial_state(batch, inputs)), dim=-1)
        s = initial.expand(count, *initial.shape).contiguous()
        sensitivity, total, ys, summed = None, inputs.new_zeros(count), [], None
        for t in range(steps):
            (jac_params, jac_state), s = jacobians(
                {name: params["cell." + name] for name in cell_names}, inputs[:, t], s)
            jac_params = torch.cat([jac_params[name].flatten(3) for name in cell_names], dim=-1)
            sensitivity = (jac_params if sensitivity is None
                           else torch.matmul(jac_state, sensitivity) + jac_params)
            errors = mask[:, t].any(-1)  # (K,)
            if not bool(errors.any()):
                with torch.no_grad():
                    read = {n.removeprefix("readout."): params[n] for n in read_names}
                    ys.append(step_losses_of(read, s, targets[:, t], mask[:, t])[1])
                continue
            leaf = s.detach().requires_grad_()
            read = {n.removeprefix("readout."): params[n].detach().requires_grad_()
                    for n in read_names}
            step_losses, y = step_losses_of(read, leaf, targets[:, t], mask[:, t])
            g_state, *g_read = torch.autograd.grad(step_losses.sum(), [leaf, *read.values()])
            g_cell = torch.einsum("kbn,kbnp->kp", g_state, sensitivity)
            grads = dict(zip(read_names, g_read, strict=True))
            pieces = g_cell.split([shape.numel() for shape in shapes], dim=-1)
            for name, piece, shape in zip(cell_names, pieces, shapes, strict=True):
                grads["cell." + name] = piece.reshape(count, *shape)
            total = total + step_losses.detach()
            ys.append(y.detach())
            if self.online:
                params, opt_state = optimizer.update(params, grads, opt_state, active & errors)
            else:
                summed = grads if summed is None else {n: summed[n] + grads[n] for n in grads}
        if summed is not None:
            any_error = mask.flatten(1).any(1)
            params, opt_state = optimizer.update(params, summed, opt_state, active & any_error)
        return params, opt_state, total, torch.stack(ys, dim=1)
