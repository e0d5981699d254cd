"""Optimizer settings, usable two ways with the same numbers.

``build(params)`` gives the ``torch.optim`` optimizer a single run uses. ``init`` and ``update``
are the same rule written functionally over parameters stacked along a leading population axis
K, so that a population (:mod:`lstmlab.training._population`) moves each member exactly as its own
``torch.optim`` run would, and freezes members whose ``active`` flag is off. The formulas follow
torch's (``torch.optim.SGD`` and ``torch.optim.Adam``, no weight decay):

    SGD:       b_t = momentum * b_{t-1} + g_t  (b_1 = g_1);  θ_t = θ_{t-1} - lr * b_t
               (momentum = 0: θ_t = θ_{t-1} - lr * g_t, the paper's Δw = -α ∂E/∂w, eq. 17)
    Adam:      m_t = lerp(m_{t-1}, g_t, 1 - β1);  v_t = β2 v_{t-1} + (1 - β2) g_t²
               θ_t = θ_{t-1} - (lr / (1 - β1^t)) * m_t / (sqrt(v_t) / sqrt(1 - β2^t) + eps)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import Tensor

State = dict[str, Tensor]


def where_active(active: Tensor, new: Tensor, old: Tensor | float) -> Tensor:
    """``new`` (K, ...) where the member is active, ``old`` where it stopped; ``active`` (K,)
    bool. The one way a population keeps a stopped member's numbers frozen."""
    return torch.where(active.view(-1, *([1] * (new.dim() - 1))), new, old)


def _step_counts(params: dict[str, Tensor], dtype: torch.dtype) -> Tensor:
    """Zero step counts (K,) on the parameters' device, where ``update`` combines them with
    the (K,) ``active`` flags and the parameters."""
    first = next(iter(params.values()))
    return torch.zeros(first.shape[0], dtype=dtype, device=first.device)


@dataclass(frozen=True)
class SGD:
    """Gradient descent with learning rate ``lr`` and optional (heavy-ball) ``momentum``."""

    lr: float
    momentum: float = 0.0

    def __post_init__(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"lr: expected > 0, received {self.lr!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum: expected in [0, 1), received {self.momentum!r}")

    def build(self, params: Iterable[Tensor]) -> torch.optim.Optimizer:
        return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum)

    def init(self, params: dict[str, Tensor]) -> State:
        state = {"step": _step_counts(params, torch.get_default_dtype())}
        if self.momentum:
            state.update({"buffer." + k: torch.zeros_like(p) for k, p in params.items()})
        return state

    def update(self, params: dict[str, Tensor], grads: dict[str, Tensor], state: State,
               active: Tensor) -> tuple[dict[str, Tensor], State]:
        """One step for the stacked ``params`` (K, ...) of the ``active`` (K,) members."""
        first = state["step"] == 0
        new_params, new_state = {}, {"step": state["step"] + active.to(state["step"].dtype)}
        for key, p in params.items():
            direction = grads[key]
            if self.momentum:
                old = state["buffer." + key]
                direction = where_active(first, direction, self.momentum * old + direction)
                new_state["buffer." + key] = where_active(active, direction, old)
            new_params[key] = where_active(active, p - self.lr * direction, p)
        return new_params, new_state


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma & Ba 2015) as ``torch.optim.Adam`` computes it."""

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if not self.lr > 0:
            raise ValueError(f"lr: expected > 0, received {self.lr!r}")
        if not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas: expected two values in [0, 1), received {self.betas!r}")

    def build(self, params: Iterable[Tensor]) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=self.lr, betas=self.betas, eps=self.eps)

    def init(self, params: dict[str, Tensor]) -> State:
        state = {"step": _step_counts(params, torch.float64)}
        for key, p in params.items():
            state["exp_avg." + key] = torch.zeros_like(p)
            state["exp_avg_sq." + key] = torch.zeros_like(p)
        return state

    def update(self, params: dict[str, Tensor], grads: dict[str, Tensor], state: State,
               active: Tensor) -> tuple[dict[str, Tensor], State]:
        """One step for the stacked ``params`` (K, ...) of the ``active`` (K,) members."""
        beta1, beta2 = self.betas
        step = state["step"] + active.to(torch.float64)
        new_params, new_state = {}, {"step": step}
        for key, p in params.items():
            g = grads[key]
            m = state["exp_avg." + key].lerp(g, 1 - beta1)
            v = state["exp_avg_sq." + key] * beta2 + (1 - beta2) * g * g
            shape = (-1, *([1] * (p.dim() - 1)))
            correction1 = (1 - beta1 ** step).view(shape).to(p.dtype)
            correction2_sqrt = ((1 - beta2 ** step) ** 0.5).view(shape).to(p.dtype)
            denom = v.sqrt() / correction2_sqrt + self.eps
            new_params[key] = where_active(active, p - (self.lr / correction1) * m / denom, p)
            new_state["exp_avg." + key] = where_active(active, m, state["exp_avg." + key])
            new_state["exp_avg_sq." + key] = where_active(active, v, state["exp_avg_sq." + key])
        return new_params, new_state


@dataclass(frozen=True)
class TorchOptimizer:
    """Any ``torch.optim`` optimizer class ``kind`` at learning rate ``lr``, its other options
    torch's defaults: ``build(params) = kind(params, lr=lr)``. For a single run of the training
    loop only (``modern``'s configurable optimizer); a population needs the functional form
    that :class:`SGD` and :class:`Adam` also give."""

    kind: type[torch.optim.Optimizer]
    lr: float

    def build(self, params: Iterable[Tensor]) -> torch.optim.Optimizer:
        return self.kind(params, lr=self.lr)
