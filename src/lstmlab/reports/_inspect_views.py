"""One view of ``inspect``'s report per recurrent module, layer and direction, LSTM or GRU.

A ``View`` puts an LSTM's and a GRU's trace into the same rows, so the report and the explorer
treat both alike. Shapes: T time, B batch, H units (the cells of one layer and direction).

- LSTM: rows i, f, g, o, c and h as traced; ``keep`` = f (the share of c_{t-1} kept),
  ``held`` = c, ``thrown`` = |(1 - f_t) * c_{t-1}|. With ``proj_size`` P the traced h has P
  columns, not one per unit, so the h row shows o * tanh(c), the cells' output before the
  projection (h = that @ weight_hr.T).
- GRU: the explorer's six rows read i = 1 - z (the share written from n), f = z (the share of
  h_{t-1} kept), g = n, o = r (the reset gate), c = h and h = h; ``keep`` = z, ``held`` = h,
  ``thrown`` = |(1 - z_t) * h_{t-1}|.

Retention in a window: ``window_retention`` computes the (W, W, H) matrix of products of
``keep`` for the W steps shown only, so the report's memory grows with T, not T^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lstmlab.introspection import GateSaturation, GRULayerTrace, LayerTrace, discarded, overwritten
from lstmlab.introspection._saturation import gate_saturation
from lstmlab.introspection._trace import step_mask

DIRECTIONS = ("forward", "reverse")


@dataclass(frozen=True)
class View:
    """One module, layer and direction: ``rows`` (explorer rows i, f, g, o, c, h -> (T, B, H)),
    ``keep``, ``held``, ``thrown`` (T, B, H) as the module docstring says, and the saturation
    of the sigmoid gates."""

    module: str
    kind: str
    layer: int
    direction: int
    rows: dict[str, Tensor]
    keep: Tensor
    held: Tensor
    thrown: Tensor
    saturation: dict[str, GateSaturation]
    projected: bool = False

    @property
    def label(self) -> str:
        where = f"layer {self.layer} · {DIRECTIONS[self.direction]}"
        return f"{self.module} · {where}" if self.module else where

    @property
    def slug(self) -> str:
        """A file-name-safe id: ``l1_reverse`` (with the module name when it has one)."""
        name = "".join(c if c.isalnum() else "_" for c in self.module)
        return (f"{name}_" if name else "") + f"l{self.layer}_{DIRECTIONS[self.direction]}"

    @property
    def keep_name(self) -> str:
        return "Forget gates" if self.kind == "LSTM" else "Update gates z (the keep share)"


def lstm_view(layer: LayerTrace, module: str, index: int, direction: int) -> View:
    hidden = layer.hidden
    if hidden.shape[-1] != layer.cell.shape[-1]:  # proj_size: one row per cell, before W_hr
        hidden = layer.output * torch.tanh(layer.cell)
    rows = {"i": layer.input, "f": layer.forget, "g": layer.candidate, "o": layer.output,
            "c": layer.cell, "h": hidden}
    mask = step_mask(layer)
    gates = {name: gate_saturation(getattr(layer, name), mask)
             for name in ("input", "forget", "output")}
    return View(module, "LSTM", index, direction, rows, layer.forget, layer.cell,
                discarded(layer).abs(), gates, hidden is not layer.hidden)


def gru_view(layer: GRULayerTrace, module: str, index: int, direction: int) -> View:
    mask = layer.mask if layer.mask is not None else torch.ones(
        layer.update.shape[:2], dtype=torch.bool, device=layer.update.device)
    rows = {"i": 1 - layer.update, "f": layer.update, "g": layer.candidate, "o": layer.reset,
            "c": layer.hidden, "h": layer.hidden}
    gates = {"reset": gate_saturation(layer.reset, mask),
             "update": gate_saturation(layer.update, mask)}
    return View(module, "GRU", index, direction, rows, layer.update, layer.hidden,
                overwritten(layer).abs(), gates)


def views(trace, kind: str, module: str = "") -> list[View]:
    """Every layer and direction of a ``Trace`` (LSTM) or ``GRUTrace`` (GRU)."""
    make = lstm_view if kind == "LSTM" else gru_view
    return [make(layer, module, index, direction)
            for index, directions in enumerate(trace.layers)
            for direction, layer in enumerate(directions)]


def window_retention(keep: Tensor, start: int, stop: int, reverse: bool) -> Tensor:
    """(W, W, H) for positions start..stop-1 of one sequence's ``keep`` (T, H): entry [t, s]
    is the product of ``keep`` over the steps after t up to and including s in processing
    order (the share of step t's write still held at step s); 1 on the diagonal, 0 where s
    comes before t. Memory O(W^2 H), whatever T is."""
    window = keep[start:stop]
    window = window.flip(0) if reverse else window
    steps = window.shape[0]
    # row t: prod_{r=t+1..s} keep_r = exclusive prefix products from t, one cumprod per row
    matrix = window.new_zeros(steps, steps, window.shape[1])
    for t in range(steps):
        matrix[t, t] = 1
        matrix[t, t + 1:] = window[t + 1:].cumprod(0)
    return matrix.flip(0, 1) if reverse else matrix


def centred_window(steps: int, centre: int, width: int) -> tuple[int, int]:
    """[start, stop) of at most ``width`` positions around ``centre``, inside 0..steps."""
    start = max(0, min(centre - width // 2, steps - width))
    return start, min(steps, start + width)
