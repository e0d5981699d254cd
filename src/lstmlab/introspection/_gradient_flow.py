"""Gradient flow: dL/dc_t and dL/dh_t at every step, and how far back a gradient reaches.

Shapes: T time, B batch, H hidden, P the size of h, L layers, D directions. Positions are input
positions; "later" is the direction's processing order.

``gradient_flow(model, x, loss_fn)``: one backward pass of a step-by-step re-run
(``_rerun.py``) gives, for any scalar loss, the total derivative of the loss by every state:
dL/dh_t (T, B, P) and, for an LSTM, dL/dc_t (T, B, H), plus dL/dh_0, dL/dc_0 by the initial
state. For a simple RNN (torch.nn.RNN or ours) the same call gives dL/dh_t, so the vanishing
gradient of Hochreiter (1991) and Hochreiter & Schmidhuber (1997, §3) can be set beside the
LSTM's: in the simple net, dh_T/dh_t = prod_{s=t+1..T} diag(tanh'(pre_s)) W_hh shrinks
geometrically when ||W_hh|| * max tanh' < 1.

``jacobian_norms(model, x)``: ||dc_T/dc_t||_2 (spectral norm of the (H, H) Jacobian, per
sequence; ||dh_T/dh_t||_2 for a simple RNN) for every t, beside the direct path of the constant
error carousel: c_T depends on c_t through c_T = (prod_{s=t+1..T} f_s) * c_t + ..., whose
Jacobian is diag(prod f) (``retention``); the rest of dc_T/dc_t goes through h and the gates.
The full Jacobian takes H backward passes (one per unit of c_T, batched with vmap where it
works), so it is meant for analysis of small and medium H.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from lstmlab.introspection._rerun import is_lstm, rerun
from lstmlab.introspection._retention import retention
from lstmlab.introspection._tracer import trace


class StateGradients(NamedTuple):
    """One layer and direction: ``hidden`` (T, B, P) dL/dh_t, ``cell`` (T, B, H) dL/dc_t (None
    for a simple RNN), ``initial_hidden`` (B, P) dL/dh_0 and ``initial_cell`` (B, H) dL/dc_0
    (the state before the first step). Zero past each sequence's end."""

    hidden: Tensor
    cell: Tensor | None
    initial_hidden: Tensor
    initial_cell: Tensor | None


@dataclass(frozen=True)
class GradientFlow:
    """``loss`` (the scalar, detached) and ``layers[layer][direction]``: ``StateGradients``."""

    loss: Tensor
    layers: tuple[tuple[StateGradients, ...], ...]

    def __getitem__(self, layer: int) -> StateGradients:
        """The forward direction of ``layer``; use ``layers[layer][1]`` for the reverse one."""
        return self.layers[layer][0]


class JacobianNorms(NamedTuple):
    """``norm`` (T, B): ||ds_T/ds_t||_2 for the cell state (LSTM) or h (simple RNN);
    ``carousel`` (T, B, H): prod_{s=t+1..T} f_s, the diagonal of the direct c path, and
    ``carousel_norm`` (T, B) its spectral norm (the largest entry); both None for an RNN."""

    norm: Tensor
    carousel: Tensor | None
    carousel_norm: Tensor | None


def _time_major(model: nn.Module, x: Tensor) -> Tensor:
    if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != model.input_size:
        layout = "(batch, time, I)" if model.batch_first else "(time, batch, I)"
        received = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x must have shape {layout} with I = {model.input_size}, "
                         f"got {received}")
    return x.transpose(0, 1) if model.batch_first else x


def gradient_flow(
    model: nn.Module, x: Tensor, loss_fn: Callable[..., Tensor],
    hx: Tensor | tuple[Tensor, Tensor] | None = None, *,
    lengths: Tensor | None = None,
) -> GradientFlow:
    """dL/dh_t and dL/dc_t for every layer, direction and step, in one backward pass.

    ``x`` (T, B, I) or (B, T, I) with ``batch_first``; ``loss_fn(output, state)`` receives what
    the model returns for a padded ``x`` (``output`` in the model's layout, zero past each
    sequence's end; ``state`` = ``(h_n, c_n)`` or ``h_n``) and returns a scalar.
    """
    steps = _time_major(model, x).detach()
    run = rerun(model, steps, hx, lengths)
    lstm = is_lstm(model)
    with torch.enable_grad():
        output = run.output.transpose(0, 1) if model.batch_first else run.output
        loss = loss_fn(output, run.final)
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            raise ValueError(f"loss_fn must return a scalar tensor, got {loss!r}")
        inputs = [tensor for layer_initial, layer_states in zip(run.initial, run.states,
                                                                strict=True)
                  for start, recorded in zip(layer_initial, layer_states, strict=True)
                  for state in (start, *recorded)
                  for tensor in ((state.h, state.c) if lstm else (state.h,))]
        grads = torch.autograd.grad(loss.reshape(()), inputs, allow_unused=True)
    grads = [torch.zeros_like(t) if g is None else g for t, g in zip(inputs, grads, strict=True)]
    fields = 2 if lstm else 1
    per_state = iter(grads)
    layers = []
    for layer_states in run.states:
        directions = []
        for recorded in layer_states:
            stacked = [[next(per_state) for _ in range(fields)] for _ in range(len(recorded) + 1)]
            hidden = torch.stack([s[0] for s in stacked[1:]])
            cell = torch.stack([s[1] for s in stacked[1:]]) if fields == 2 else None
            directions.append(StateGradients(hidden, cell, stacked[0][0],
                                             stacked[0][1] if fields == 2 else None))
        layers.append(tuple(directions))
    return GradientFlow(loss.detach(), tuple(layers))


def _final_jacobians(final: Tensor, states: list[Tensor]) -> Tensor:
    """J (T, B, H, H) with J[t, b, j, k] = d final[b, j] / d states[t][b, k]."""
    width = final.shape[-1]
    basis = torch.eye(width, dtype=final.dtype, device=final.device)
    cotangents = basis[:, None, :].expand(width, *final.shape)  # (H, B, H): unit j of each b
    try:
        rows = torch.autograd.grad(final, states, cotangents, retain_graph=True,
                                   is_grads_batched=True, allow_unused=True)
    except RuntimeError:  # an op without a batching rule: one backward pass per unit
        rows = [torch.stack(r) for r in zip(*(
            torch.autograd.grad(final, states, cotangents[j], retain_graph=True,
                                allow_unused=True) for j in range(width)), strict=True)]
    rows = [torch.zeros(width, *s.shape, dtype=s.dtype, device=s.device) if r is None else r
            for r, s in zip(rows, states, strict=True)]
    return torch.stack(rows).permute(0, 2, 1, 3)  # (T, H_j, B, H_k) -> (T, B, H_j, H_k)


def jacobian_norms(
    model: nn.Module, x: Tensor, hx: Tensor | tuple[Tensor, Tensor] | None = None, *,
    layer: int = 0, direction: int = 0,
) -> JacobianNorms:
    """||ds_T/ds_t||_2 for every step t of one layer and direction (s = c for an LSTM, h for a
    simple RNN), T the direction's last step, beside the carousel's prod f (module docstring).
    ``x`` as for ``gradient_flow`` (full-length sequences)."""
    directions = 2 if model.bidirectional else 1
    if not 0 <= layer < model.num_layers or not 0 <= direction < directions:
        raise ValueError(f"layer must be in 0..{model.num_layers - 1} and direction in "
                         f"0..{directions - 1}, got layer={layer}, direction={direction}")
    steps = _time_major(model, x).detach()
    run = rerun(model, steps, hx)
    states = [state.c if is_lstm(model) else state.h for state in run.states[layer][direction]]
    final = states[0] if direction == 1 else states[-1]
    with torch.enable_grad():
        jacobians = _final_jacobians(final, states)
    norm = torch.linalg.matrix_norm(jacobians, ord=2)
    if not is_lstm(model):
        return JacobianNorms(norm, None, None)
    carousel = retention(trace(model, x, hx).layers[layer][direction])
    return JacobianNorms(norm, carousel, carousel.amax(-1))
