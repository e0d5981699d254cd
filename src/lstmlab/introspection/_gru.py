"""Every gate of a GRU at every step, and what its update gate keeps: ``trace_gru``.

Accepts ``torch.nn.GRU`` and ``lstmlab.layers.GRU`` (the same equations, torch's, written in
``lstmlab.cells._gru``). Shapes: T time, B batch, I input, H hidden, L layers, D directions; all
tensors in *input position order* (index t read x_t; a reverse direction processes t = T-1
first), as in ``Trace``.

    r_t = sigmoid(x_t @ W_ir.T + b_ir + h_{t-1} @ W_hr.T + b_hr)         reset gate
    z_t = sigmoid(x_t @ W_iz.T + b_iz + h_{t-1} @ W_hz.T + b_hz)         update gate
    n_t = tanh(x_t @ W_in.T + b_in + r_t * (h_{t-1} @ W_hn.T + b_hn))    candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

So z_t is the share of h_{t-1} that step t keeps (the GRU's forget gate is z, not 1 - z: a unit
with z = 1 copies its state), 1 - z_t the share it writes from n_t. Unrolled to the last step T:

    h_T = (prod_{s<=T} z_s) * h_0 + sum_t (prod_{s=t+1..T} z_s) * (1 - z_t) * n_t

``update_retention[t] = prod_{s=t+1..T} z_s`` is the share of step t's write still in h_T (the
LSTM's ``retention`` with f replaced by z), and ``overwritten_t = (1 - z_t) * h_{t-1}`` the
content step t replaced (the LSTM's ``discarded``).

How it is traced: each layer and direction runs torch's fused GRU kernel for the h sequence;
r, z, n then follow from x and h_{t-1} in three batched products over all steps (no per-step
Python loop). Variable lengths (a ``PackedSequence`` or ``lengths``) are handled as in
``_tracer.py``: values past a sequence's end are zero and ``mask`` is False there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import _VF, Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from lstmlab.introspection._trace import TraceError
from lstmlab.introspection._tracer import lengths_mask, prepare_input, processing_index, reorder


@dataclass(frozen=True)
class GRULayerTrace:
    """One layer and direction: ``reset``, ``update``, ``candidate``, ``hidden`` (T, B, H) the
    activated r, z, n and h_t; ``initial_hidden`` (B, H) the state before the first processed
    step; ``mask`` (T, B) True at real steps or None; ``reverse``."""

    reset: Tensor
    update: Tensor
    candidate: Tensor
    hidden: Tensor
    initial_hidden: Tensor
    mask: Tensor | None = None
    reverse: bool = False


@dataclass(frozen=True)
class GRUTrace:
    """All layers and directions: ``layers[layer][direction]`` (direction 1 = reverse)."""

    layers: tuple[tuple[GRULayerTrace, ...], ...]

    def __getitem__(self, layer: int) -> GRULayerTrace:
        return self.layers[layer][0]

    @property
    def num_layers(self) -> int:
        return len(self.layers)


def is_gru(model: nn.Module) -> bool:
    """True for torch.nn.GRU and lstmlab.layers.GRU."""
    return getattr(model, "mode", None) == "GRU" and hasattr(model, "num_layers")


def _weights(model: nn.Module, layer: int, direction: int) -> list[Tensor]:
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if model.bias else [])
    return [getattr(model, name + suffix).detach() for name in names]


def _direction(model: nn.Module, layer: int, direction: int, x: Tensor, h0: Tensor,
               lengths: Tensor | None, mask: Tensor | None) -> GRULayerTrace:
    reverse = direction == 1
    index = processing_index(x.shape[0], lengths, reverse)
    params = _weights(model, layer, direction)
    steps = reorder(x, index, reverse)
    hidden, _ = _VF.gru(steps, h0.unsqueeze(0), params, model.bias, 1, 0.0, False, False,
                        False)
    weight_ih, weight_hh = params[:2]
    bias_ih, bias_hh = params[2:] if model.bias else (None, None)
    previous = torch.cat([h0.unsqueeze(0), hidden[:-1]])
    from_input = nn.functional.linear(steps, weight_ih, bias_ih).chunk(3, dim=-1)
    from_hidden = nn.functional.linear(previous, weight_hh, bias_hh).chunk(3, dim=-1)
    r = torch.sigmoid(from_input[0] + from_hidden[0])
    z = torch.sigmoid(from_input[1] + from_hidden[1])
    n = torch.tanh(from_input[2] + r * from_hidden[2])
    fields = [r, z, n, hidden]
    if mask is not None:
        keep = mask.unsqueeze(-1).to(hidden.dtype)
        fields = [t * keep for t in fields]
    r, z, n, hidden = (reorder(t, index, reverse) for t in fields)
    return GRULayerTrace(r, z, n, hidden, h0, mask, reverse)


def trace_gru(model: nn.Module, x: Tensor | PackedSequence, hx: Tensor | None = None, *,
              lengths: Tensor | Sequence[int] | None = None) -> GRUTrace:
    """r, z, n, h of every layer and direction of ``model`` on ``x`` (module docstring).

    ``x``: (T, B, I), (B, T, I) with ``batch_first``, unbatched (T, I), or packed; ``hx``
    h_0 (L*D, B, H) or (L*D, H) unbatched, zeros if None.
    """
    if not is_gru(model):
        raise TraceError(f"model must be a torch.nn.GRU or an lstmlab.layers.GRU, got "
                         f"{type(model).__name__}")
    if model.training and model.dropout > 0 and model.num_layers > 1:
        raise TraceError(f"model has dropout={model.dropout} between layers and is in "
                         "training mode; call model.eval() first")
    x, lengths, unbatched = prepare_input(model, x, lengths)
    reference = model.weight_ih_l0
    if x.dtype != reference.dtype or x.device != reference.device:
        raise TraceError(f"x must have the model's dtype {reference.dtype} and device "
                         f"{reference.device}, got {x.dtype} on {x.device}")
    directions = 2 if model.bidirectional else 1
    rows = model.num_layers * directions
    if hx is None:
        hx = x.new_zeros(rows, x.shape[1], model.hidden_size)
    else:
        expected = (rows, model.hidden_size) if unbatched else (rows, x.shape[1],
                                                                model.hidden_size)
        if not isinstance(hx, Tensor) or tuple(hx.shape) != expected:
            received = tuple(hx.shape) if isinstance(hx, Tensor) else type(hx).__name__
            raise TraceError(f"hx must have shape {expected}, got {received}")
        hx = hx.detach().unsqueeze(1) if unbatched else hx.detach()
    mask = None if lengths is None else lengths_mask(lengths, x.shape[0])
    layers = []
    x = x.detach()
    with torch.no_grad():
        for layer in range(model.num_layers):
            traces = tuple(_direction(model, layer, d, x, hx[layer * directions + d], lengths,
                                      mask) for d in range(directions))
            layers.append(traces)
            x = torch.cat([t.hidden for t in traces], dim=-1)
    return GRUTrace(tuple(layers))


def _step_mask(layer: GRULayerTrace) -> Tensor:
    if layer.mask is not None:
        return layer.mask
    return torch.ones(layer.update.shape[:2], dtype=torch.bool, device=layer.update.device)


def previous_hidden(layer: GRULayerTrace) -> Tensor:
    """(T, B, H) h_{t-1}, the state each step started from (zero at masked-out steps)."""
    hidden, start, mask = layer.hidden, layer.initial_hidden.unsqueeze(0), _step_mask(layer)
    if not layer.reverse:
        previous = torch.cat([start, hidden[:-1]])
    else:
        next_is_real = torch.cat([mask[1:], torch.zeros_like(mask[:1])]).unsqueeze(-1)
        previous = torch.where(next_is_real, torch.cat([hidden[1:], start]), start)
    return previous * mask.unsqueeze(-1).to(hidden.dtype)


def overwritten(layer: GRULayerTrace) -> Tensor:
    """(T, B, H): (1 - z_t) * h_{t-1}, the old content step t replaced; 0 where masked."""
    keep = _step_mask(layer).unsqueeze(-1).to(layer.update.dtype)
    return (1 - layer.update) * previous_hidden(layer) * keep


def update_retention(layer: GRULayerTrace) -> Tensor:
    """(T, B, H): prod_{s=t+1..T} z_s, the share of step t's write (1 - z_t) * n_t still in h
    at the sequence's last step; zero at masked-out steps."""
    mask = _step_mask(layer).unsqueeze(-1)
    keep = torch.where(mask, layer.update, torch.ones_like(layer.update))
    keep = keep.flip(0) if layer.reverse else keep
    inclusive = keep.flip(0).cumprod(0).flip(0)
    share = torch.cat([inclusive[1:], torch.ones_like(keep[:1])])
    share = share.flip(0) if layer.reverse else share
    return share * mask.to(share.dtype)


def decompose_hidden(layer: GRULayerTrace) -> tuple[Tensor, Tensor]:
    """h_T split by origin for full-length sequences: ((prod z) * h_0 (B, H), contributions
    (T, B, H) = update_retention[t] * (1 - z_t) * n_t); their sum is h_T."""
    share = update_retention(layer)
    written = (1 - layer.update) * layer.candidate * _step_mask(layer).unsqueeze(-1)
    keep = layer.update.flip(0) if layer.reverse else layer.update
    return keep.prod(0) * layer.initial_hidden, share * written
