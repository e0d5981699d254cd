"""A step-by-step re-run of a recurrent model that keeps every state in the autograd graph.

Gradient flow needs dL/dc_t and dL/dh_t at every step, which the fused kernels never expose. So
the model is re-run one step at a time with its own weights, and every state it passes through
stays a node of the graph: ``Rerun.states[layer][direction]`` holds, per step, the state tensors
exactly as the next step and the output read them. Asking autograd for the gradient of the loss
with respect to those tensors is the same single backward pass as adding a zero perturbation
eps_t to each state and differentiating by eps_t (the DESIGN's trick): dL/d(s_t + eps_t) at
eps_t = 0 is dL/ds_t, the *total* derivative through every later path (for an LSTM's c_t: the
carousel c_{t+1} = f * c_t + ..., and h_t = o_t * tanh(c_t) into the gates and the output).

Models: ``torch.nn.LSTM`` (also with ``proj_size``), ``torch.nn.RNN`` (tanh or relu), written
out below with torch's equations, and ours (``lstmlab.layers.LSTM/RNN`` with any cell), which run
their own cells. Shapes: T time, B batch, I input, H hidden, P the size of h, L layers,
D directions. Layer l > 0 reads layer l-1's (forward, reverse) h; no dropout (eval mode).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor, nn

from lstmlab.cells.state import HiddenState, LSTMState
from lstmlab.introspection.fused import standard_weights
from lstmlab.layers.unroll import check_lengths

Step = Callable[[Tensor, NamedTuple], NamedTuple]


class Rerun(NamedTuple):
    """``output`` (T, B, D*P) time-major with zeros past each sequence's end; ``final`` the
    state after each sequence's last step, as the model returns it (``(h_n, c_n)`` or ``h_n``,
    (L*D, B, .)); ``initial`` and ``states``: per layer and direction, the state before the first
    step and the state after each step t (tuple of T NamedTuples in input position order)."""

    output: Tensor
    final: Tensor | tuple[Tensor, Tensor]
    initial: tuple[tuple[NamedTuple, ...], ...]
    states: tuple[tuple[tuple[NamedTuple, ...], ...], ...]


def is_lstm(model: nn.Module) -> bool:
    return getattr(model, "mode", None) == "LSTM"


def _torch_lstm_step(model: nn.Module, layer: int, direction: int) -> Step:
    w = standard_weights(model, layer, direction)

    def step(x_t: Tensor, state: NamedTuple) -> NamedTuple:
        pre = x_t @ w.weight_ih.T + state.h @ w.weight_hh.T
        if w.bias_ih is not None:
            pre = pre + w.bias_ih + w.bias_hh
        i, f, g, o = pre.chunk(4, dim=-1)
        c = torch.sigmoid(f) * state.c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return LSTMState(h if w.weight_hr is None else h @ w.weight_hr.T, c)

    return step


def _torch_rnn_step(model: nn.Module, layer: int, direction: int) -> Step:
    w = standard_weights(model, layer, direction)
    activation = torch.tanh if model.nonlinearity == "tanh" else torch.relu

    def step(x_t: Tensor, state: NamedTuple) -> NamedTuple:
        pre = x_t @ w.weight_ih.T + state.h @ w.weight_hh.T
        if w.bias_ih is not None:
            pre = pre + w.bias_ih + w.bias_hh
        return HiddenState(activation(pre))

    return step


def step_function(model: nn.Module, layer: int, direction: int) -> Step:
    """One step of layer ``layer``, direction ``direction``: ``step(x_t, state) -> state``."""
    if hasattr(model, "bound_cell"):  # ours: the layer's own cell, any variant
        cell = model.bound_cell(layer * (2 if model.bidirectional else 1) + direction)
        return lambda x_t, state: cell(x_t, state)[0]
    if isinstance(model, nn.LSTM):
        return _torch_lstm_step(model, layer, direction)
    if isinstance(model, nn.RNN):
        return _torch_rnn_step(model, layer, direction)
    raise ValueError(f"model must be a torch.nn.LSTM/RNN or an lstmlab.layers.LSTM/RNN, got "
                     f"{type(model).__name__}")


def initial_state(
    model: nn.Module, hx: Tensor | tuple[Tensor, Tensor] | None, x: Tensor
) -> list[NamedTuple]:
    """Per row (layer * D + direction), the state before step 0, each tensor (B, .)."""
    rows = model.num_layers * (2 if model.bidirectional else 1)
    batch = x.shape[1]
    if is_lstm(model):
        sizes = (model.proj_size or model.hidden_size, model.hidden_size)
        if hx is None:
            hx = tuple(x.new_zeros(rows, batch, size) for size in sizes)
        if not isinstance(hx, tuple | list) or len(hx) != 2:
            raise ValueError(f"hx must be a tuple (h0, c0), got {type(hx).__name__}")
    else:
        sizes = (model.hidden_size,)
        hx = (x.new_zeros(rows, batch, model.hidden_size) if hx is None else hx,)
    for k, (tensor, size) in enumerate(zip(hx, sizes, strict=True)):
        if not isinstance(tensor, Tensor) or tuple(tensor.shape) != (rows, batch, size):
            received = tuple(tensor.shape) if isinstance(tensor, Tensor) else type(tensor)
            raise ValueError(f"hx[{k}] must have shape {(rows, batch, size)}, got {received}")
    # a leaf that requires grad, so the graph exists even for a model with frozen weights
    tensors = [t.detach().clone().requires_grad_(True) for t in hx]
    fields = ("h", "c") if is_lstm(model) else ("h",)
    starts = []
    for row in range(rows):
        given = dict(zip(fields, (t[row] for t in tensors), strict=True))
        if hasattr(model, "bound_cell"):  # the cell's own state type (e.g. the 1997 cell's)
            empty = model.bound_cell(row).initial_state(batch, dtype=x.dtype, device=x.device)
            starts.append(empty._replace(**given))
        else:
            starts.append((LSTMState if is_lstm(model) else HiddenState)(**given))
    return starts


def rerun(
    model: nn.Module, x: Tensor, hx: Tensor | tuple[Tensor, Tensor] | None = None,
    lengths: Tensor | None = None,
) -> Rerun:
    """Run ``model`` step by step on time-major ``x`` (T, B, I) from ``hx`` (zeros if None).

    ``lengths`` (B,): sequence b holds steps 0 .. lengths[b]-1 (the reverse direction reads
    them backwards); past its end the state stays and the output is zero, as for packed input.
    """
    if model.training and model.dropout > 0 and model.num_layers > 1:
        raise ValueError(f"model has dropout={model.dropout} and is in training mode; call "
                         "model.eval() first so the re-run is the model's computation")
    steps, batch = x.shape[:2]
    if lengths is not None:
        lengths = check_lengths(lengths, steps, batch).to(x.device)
    directions = 2 if model.bidirectional else 1
    starts = initial_state(model, hx, x)
    layer_input, initial, states, finals = x, [], [], []
    with torch.enable_grad():
        for layer in range(model.num_layers):
            outputs, layer_initial, layer_states = [], [], []
            for direction in range(directions):
                step = step_function(model, layer, direction)
                state = starts[layer * directions + direction]
                layer_initial.append(state)
                recorded: list[NamedTuple | None] = [None] * steps
                output = [None] * steps
                for t in range(steps - 1, -1, -1) if direction else range(steps):
                    new = step(layer_input[t], state)
                    recorded[t] = new
                    if lengths is None:
                        state, output[t] = new, new.h
                    else:
                        active = (t < lengths).unsqueeze(-1)
                        state = type(new)(*(torch.where(active, n, s)
                                            for n, s in zip(new, state, strict=True)))
                        output[t] = new.h * active
                finals.append(state)
                outputs.append(torch.stack(output))
                layer_states.append(tuple(recorded))
            initial.append(tuple(layer_initial))
            states.append(tuple(layer_states))
            layer_input = torch.cat(outputs, dim=-1)
        h_n = torch.stack([state.h for state in finals])
        final = (h_n, torch.stack([state.c for state in finals])) if is_lstm(model) else h_n
    return Rerun(layer_input, final, tuple(initial), tuple(states))
