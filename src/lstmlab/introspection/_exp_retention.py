"""Retention under exponential gating and normalization: what an sLSTM keeps, from its trace.

Shapes: T time, B batch, H hidden. Positions are input positions, as in ``Trace``; "after t"
means later in the direction's processing order. The gates are the stabilized ones the cell
returns (``lstmlab.cells._slstm``): i'_t = exp(pre_i - m_t), f'_t = exp(log f_t + m_{t-1} - m_t).

The stabilized states obey the LSTM's linear recurrence, so unrolled to the last step T:

    c_T = (prod_{s<=T} f'_s) c_0 + sum_t (prod_{s>t} f'_s) i'_t z_t
    n_T = (prod_{s<=T} f'_s) n_0 + sum_t (prod_{s>t} f'_s) i'_t

(``lstmlab.introspection.decompose`` gives the first, term by term, for an sLSTM trace too).
Neither product is a share of what step t wrote: a product of stabilized gates telescopes,
prod_{s>t} f'_s = (prod_{s>t} f_s) exp(m_t - m_T), and carries the stabilizer. Two quantities
do not:

- ``forget_product`` = prod_{s>t} f_s, the sigmoid forget gates' product: the share of step t's
  true write exp(pre_i_t) z_t left in the true cell C_T = c_T exp(m_T). It is the sigmoid LSTM's
  retention, applied to an input that is not bounded by 1.
- ``weight`` = (prod_{s>t} f'_s) i'_t / n_T, the share of step t in what the cell outputs:

      h_T = o_T * c_T / n_T = o_T * (sum_t weight_t z_t + initial_weight * c_0 / n_0)

  with weight_t >= 0 and sum_t weight_t + initial_weight = 1 (initial_weight =
  (prod f') n_0 / n_T; 0 from the empty initial state, where c_0 / n_0 counts as 0). The
  normalized memory is a convex combination of the candidates z_t: a write is not merely kept
  or lost, it is outweighed. A write keeps its share only while later writes, scaled by
  exp(pre_i), stay small beside its own exp(pre_i_t) times what the forget gates left.
  The stabilizer cancels in each weight (numerator and n_T carry the same exp(-m_T)).

``forget_product`` is recovered from f' and m, so it is exact while no f'_s underflows (in
float32, while m rises by less than about 87 in one step); ``weight`` always is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import Tensor, nn

from lstmlab.cells import SLSTMCell, SLSTMState
from lstmlab.introspection._trace import LayerTrace, Trace
from lstmlab.layers import unroll


@dataclass(frozen=True)
class SLSTMLayerTrace(LayerTrace):
    """An sLSTM layer's ``LayerTrace`` (``input`` = i', ``forget`` = f', ``candidate`` = z,
    ``output`` = o, ``cell`` = c, ``hidden`` = h) plus ``normalizer`` n_t and ``stabilizer`` m_t
    (T, B, H) and their initial values (B, H). No masks: every step is real."""

    normalizer: Tensor | None = None
    stabilizer: Tensor | None = None
    initial_normalizer: Tensor | None = None
    initial_stabilizer: Tensor | None = None


class ExpRetention(NamedTuple):
    """For each step t (T, B, H): ``forget_product`` prod_{s>t} f_s (true forget gates),
    ``weight`` its share of c_T / n_T; ``initial_weight`` (B, H) the initial state's share.
    See the module docstring."""

    forget_product: Tensor
    weight: Tensor
    initial_weight: Tensor


def trace_slstm(model: nn.Module, x: Tensor, hx: tuple[Tensor, ...] | None = None) -> Trace:
    """Every gate and state of an ``SLSTM`` layer stack (or one ``SLSTMCell``) on ``x``.

    ``x`` (T, B, I) ((B, T, I) if ``model.batch_first``); ``hx`` as the model takes it, (h, c,
    n, m) each (L*D, B, H), or an ``SLSTMState`` of (B, H) tensors for a cell. Returns a
    ``Trace`` of ``SLSTMLayerTrace``; ``trace_slstm(model, x)[0].normalizer`` is (T, B, H).
    """
    if isinstance(model, SLSTMCell):
        cells, directions, batch_first = [model], 1, False
        states = None if hx is None else [SLSTMState(*hx)]
    elif getattr(model, "mode", None) == "SLSTM":
        directions = 2 if model.bidirectional else 1
        cells = [model.bound_cell(k) for k in range(model.num_layers * directions)]
        batch_first = model.batch_first
        states = None if hx is None else [SLSTMState(*(t[k] for t in hx))
                                          for k in range(len(cells))]
        if model.training and model.dropout > 0 and model.num_layers > 1:
            raise ValueError("model has dropout between layers and is in training mode; "
                             "call model.eval() before tracing it")
    else:
        raise ValueError(f"model must be an SLSTM or an SLSTMCell, got {type(model).__name__}")
    if not isinstance(x, Tensor) or x.dim() != 3:
        received = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x must be a 3-d tensor (time, batch, input), got {received}")
    x = (x.transpose(0, 1) if batch_first else x).detach()
    layers = []
    with torch.no_grad():
        for layer in range(len(cells) // directions):
            traces, outputs = [], []
            for direction in range(directions):
                cell = cells[layer * directions + direction]
                start = cell.initial_state(x.shape[1], dtype=x.dtype, device=x.device) \
                    if states is None else states[layer * directions + direction]
                out, _, (recorded, gates) = unroll(cell, x, start, record=True,
                                                   reverse=direction == 1)
                traces.append(SLSTMLayerTrace(
                    gates.input, gates.forget, gates.candidate, gates.output, recorded.c,
                    recorded.h, start.c, start.h, None, direction == 1, recorded.n,
                    recorded.m, start.n, start.m))
                outputs.append(out)
            layers.append(tuple(traces))
            x = torch.cat(outputs, dim=2)
    return Trace(tuple(layers))


def _processing(layer: LayerTrace, tensor: Tensor) -> Tensor:
    return tensor.flip(0) if layer.reverse else tensor


def exp_retention(layer: SLSTMLayerTrace) -> ExpRetention:
    """The shares of the module docstring, from one direction of an sLSTM trace."""
    if not isinstance(layer, SLSTMLayerTrace) or layer.normalizer is None:
        raise ValueError("layer must be an SLSTMLayerTrace (from trace_slstm), got "
                         f"{type(layer).__name__}")
    forget = _processing(layer, layer.forget)  # f' in processing order, (T, B, H)
    m = _processing(layer, layer.stabilizer)
    # suffix products prod_{s>t} f'_s: row t of the exclusive reverse cumulative product
    inclusive = forget.flip(0).cumprod(0).flip(0)
    after = torch.cat([inclusive[1:], torch.ones_like(forget[:1])])
    n_final = _processing(layer, layer.normalizer)[-1]
    weight = after * _processing(layer, layer.input) / n_final
    initial_weight = inclusive[0] * layer.initial_normalizer / n_final
    # prod_{s>t} f_s = prod_{s>t} f'_s * exp(m_T - m_t) (the stabilizer telescopes), summed
    # in logs so a tiny product times a large exp(m_T - m_t) cannot make 0 * inf
    log_forget = torch.log(forget)
    log_after = torch.cat([log_forget[1:].flip(0).cumsum(0).flip(0),
                           torch.zeros_like(forget[:1])])
    forget_product = torch.exp(log_after + m[-1] - m)
    return ExpRetention(_processing(layer, forget_product), _processing(layer, weight),
                        initial_weight)
