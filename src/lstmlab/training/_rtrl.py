"""Real-time recurrent learning (Williams & Zipser 1989), exact, for any cell.

RTRL carries forward the sensitivity of the state to every cell parameter instead of storing
the past. With the cell's state flattened to ``S_t`` (B, N) (the fields of its state tuple
concatenated, e.g. ``[h, c]``) and its parameters flattened to ``θ`` (P,):

    M_t = dS_t/dθ = ∂S_t/∂S_{t-1} · M_{t-1} + ∂S_t/∂θ        M_0 = 0,   M_t (B, N, P)
    y_t = readout(S_t.h);  ℓ_t = loss at step t (zero where the mask is off)
    dℓ_t/dθ = ∂ℓ_t/∂S_t · M_t                                 (the cell's weights)
    dℓ_t/dφ = ∂ℓ_t/∂φ                                         (the readout's weights φ)

The per-step Jacobians ``∂S_t/∂S_{t-1}`` (B, N, N) and ``∂S_t/∂θ`` (B, N, P) come from
``torch.func.jacrev`` over a ``functional_call`` of the cell step, vmapped over the batch: exact,
and valid for any cell that torch.func can differentiate. Cost per step O(N²P) time and O(NP)
memory, the reason RTRL is for small nets ([H97] §4: "RTRL's is much worse" than O(W)).

``RTRL(online=True)`` updates the weights after every step that carries error, as the 1997
paper's RTRL competitor did; the sensitivities ``M`` run on across the updates (the usual
real-time approximation). ``online=False`` sums ``dℓ_t/dθ`` over the sequence and updates once:
the gradient of full BPTT, which :func:`rtrl_gradients` returns without updating.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.func import functional_call, jacrev, vmap

from lstmlab.training._algorithm import StepOutcome
from lstmlab.training._batch import BatchLike
from lstmlab.training._losses import Loss
from lstmlab.training._model import SequenceModel


def rtrl_gradients(model: SequenceModel, batch: BatchLike, loss: Loss) -> dict[str, Tensor]:
    """The gradient of ``loss`` over the batch by forward sensitivities: name -> dL/dθ."""
    grads = {name: torch.zeros_like(p) for name, p in model.named_parameters()}
    for _, _, step_grads in _rtrl_steps(model, batch, loss):
        for name, g in step_grads.items():
            grads[name] += g
    return grads


@dataclass(frozen=True)
class RTRL:
    """Exact RTRL; ``online``: update the weights at every step that carries error."""

    online: bool = True

    def __call__(
        self, model: SequenceModel, batch: BatchLike, loss: Loss, optimizer: torch.optim.Optimizer
    ) -> StepOutcome:
        params = dict(model.named_parameters())
        total = batch.inputs.new_zeros(())
        summed = {name: torch.zeros_like(p) for name, p in params.items()}
        outputs, any_error = [], False
        for y, step_loss, step_grads in _rtrl_steps(model, batch, loss):
            outputs.append(y)
            if not step_grads:
                continue
            any_error = True
            total = total + step_loss
            if self.online:
                _apply(optimizer, params, step_grads)
            else:
                for name, g in step_grads.items():
                    summed[name] += g
        if not self.online and any_error:
            _apply(optimizer, params, summed)
        return StepOutcome(total, torch.stack(outputs))


def _apply(optimizer, params: dict[str, Tensor], grads: dict[str, Tensor]) -> None:
    for name, p in params.items():
        p.grad = grads[name].clone()
    optimizer.step()


def _rtrl_steps(
    model: SequenceModel, batch: BatchLike, loss: Loss
) -> Iterator[tuple[Tensor, Tensor, dict[str, Tensor]]]:
    """For each step: ``y_t`` (B, O), ``ℓ_t`` and ``dℓ_t/dθ`` for every parameter of ``model``
    (no gradients, ``{}``, at steps without error).

    The weights are read afresh at each step, so a caller may update them between steps.
    """
    cell = model.cell
    inputs = batch.inputs
    kind, sizes = state_layout(model.initial_state(1, inputs))
    cell_names = [name for name, _ in cell.named_parameters()]
    other = [(name, p) for name, p in model.named_parameters() if not name.startswith("cell.")]

    jacobians = state_jacobians(cell, kind, sizes)
    batch_size = inputs.shape[1]
    s = torch.cat(tuple(model.initial_state(batch_size, inputs)), dim=-1).detach()
    sensitivity = None
    for t in range(inputs.shape[0]):
        params = {name: p.detach() for name, p in cell.named_parameters()}
        (jac_params, jac_state), s = jacobians(params, inputs[t], s)
        # ∂S_t/∂θ flattened to (B, N, P) in parameter order.
        jac_params = torch.cat([jac_params[name].flatten(2) for name in cell_names], dim=-1)
        sensitivity = (
            jac_params if sensitivity is None else torch.bmm(jac_state, sensitivity) + jac_params
        )
        if not bool(batch.mask[t].any()):
            with torch.no_grad():
                y = model.output(unflatten_state(s, kind, sizes).h)
            yield y, y.new_zeros(()), {}
            continue
        leaf = s.detach().requires_grad_()
        y = model.output(unflatten_state(leaf, kind, sizes).h)
        step_loss = loss(y[None], batch.targets[t:t + 1], batch.mask[t:t + 1])
        g_state, *g_other = torch.autograd.grad(step_loss, [leaf, *(p for _, p in other)])
        g_cell = torch.einsum("bn,bnp->p", g_state, sensitivity)
        grads = {name: g for (name, _), g in zip(other, g_other, strict=True)}
        start = 0
        for name, p in cell.named_parameters():
            grads["cell." + name] = g_cell[start:start + p.numel()].view_as(p)
            start += p.numel()
        yield y.detach(), step_loss.detach(), grads


def state_jacobians(cell: nn.Module, kind: type, sizes: list[int]):
    """``(params, x (B, I), s (B, N)) -> ((∂S_t/∂θ: name -> (B, N, *shape), ∂S_t/∂S_{t-1}
    (B, N, N)), S_t (B, N))`` for ``cell``, whose state tuple ``kind`` has fields of ``sizes``."""

    def step(params: dict[str, Tensor], x: Tensor, s: Tensor) -> tuple[Tensor, Tensor]:
        # One example: x (I,), s (N,) -> S_t (N,), returned twice (value and aux).
        state = unflatten_state(s[None], kind, sizes)
        new_state, _ = functional_call(cell, params, (x[None], state))
        new = torch.cat(tuple(new_state), dim=-1)[0]
        return new, new

    return vmap(jacrev(step, argnums=(0, 2), has_aux=True), in_dims=(None, 0, 0))


def state_layout(state: NamedTuple) -> tuple[type, list[int]]:
    """The state's tuple type and the width of each field."""
    return type(state), [field.shape[-1] for field in state]


def unflatten_state(flat: Tensor, kind: type, sizes: list[int]) -> NamedTuple:
    """``flat`` (B, N) -> the cell's state tuple."""
    return kind(*torch.split(flat, sizes, dim=-1))
