"""The fast path's matrix products: oneDNN with packed weights, or MKL through ``torch.mm``.

On the AMD CPUs we run on, MKL takes a slow code path, and oneDNN's ``_linear_pointwise`` with a
weight packed once by ``_reorder_linear_weight`` runs a product faster per flop (BENCHMARKS.md:
the GFLOP/s table's per-step peaks, MKL's addmm beside oneDNN packed). Both ops are private to
torch and have no autograd, which the fast path does not need (it writes its backward pass
out); when they are missing, or for float64, other devices and small products, ``torch.mm``
does the work. Shapes: a weight (N, K), y (M, K), products (M, N).
"""

from __future__ import annotations

import torch
from torch import Tensor

# oneDNN for the float32 products on CPU when a product has at least ONEDNN_MIN multiply-adds:
# below that, packing and the call cost more. A constant: callers choose by ``onednn_min``.
ONEDNN_MIN = 1 << 22


class Product:
    """``y @ weight.T (+ bias)`` for a fixed weight (N, K) and about ``rows`` rows of y: oneDNN
    with the weight packed once (``_linear_pointwise``) for float32 on CPU when the product has
    at least ``onednn_min`` multiply-adds, else ``torch.mm`` (always, with ``onednn_min=None``).
    No autograd: ``compiled`` uses it inside the forward and backward passes it writes out."""

    def __init__(self, weight: Tensor, rows: int, onednn_min: int | None = ONEDNN_MIN) -> None:
        self.weight, self.packed = weight, None
        if onednn_min is not None and weight.dtype == torch.float32 \
                and weight.device.type == "cpu" and rows * weight.numel() >= onednn_min \
                and torch.backends.mkldnn.is_available():
            try:
                self.packed = torch.ops.mkldnn._reorder_linear_weight(weight, rows)
            except (RuntimeError, AttributeError):
                self.packed = None

    def __call__(self, y: Tensor, bias: Tensor | None = None) -> Tensor:
        if self.packed is not None:
            return torch.ops.mkldnn._linear_pointwise(y, self.packed, bias, "none", [], "")
        if bias is None:
            return torch.mm(y, self.weight.T)
        return torch.addmm(bias, y, self.weight.T)


def use_onednn_weight_gradients(flat: Tensor, flat_xs: Tensor, onednn_min: int | None) -> bool:
    """Whether ``weight_gradients_onednn`` does the weight gradients of this size (the caller
    asked for it: ``Tuning.onednn_weight_gradients``)."""
    return (onednn_min is not None and flat.dtype == torch.float32
            and flat.numel() * flat_xs.shape[1] >= onednn_min
            and torch.backends.mkldnn.is_available())


def weight_gradients_onednn(flat: Tensor, flat_xs: Tensor, y0: Tensor, ys: Tensor,
                             input_weight: bool, hidden_weight: bool
                             ) -> tuple[Tensor | None, Tensor | None]:
    """``dpre.T @ xs`` (G, I) and ``dpre.T @ y_prev`` (G, R) as oneDNN products of the
    transposed operands (``_linear_pointwise(a, b)`` is ``a @ b.T``)."""
    linear = torch.ops.mkldnn._linear_pointwise
    dpre_t = flat.T.contiguous()  # (G, T*B)
    dweight_ih = dweight_hh = None
    if input_weight:
        dweight_ih = linear(dpre_t, flat_xs.T.contiguous(), None, "none", [], "")
    if hidden_weight:
        batch, width = y0.shape
        y_prev_t = flat.new_empty(width, flat.shape[0])  # (R, T*B): y0, then ys[:-1]
        y_prev_t[:, :batch] = y0.T
        y_prev_t[:, batch:] = ys[:-1].reshape(-1, width).T
        dweight_hh = linear(dpre_t, y_prev_t, None, "none", [], "")
    return dweight_ih, dweight_hh
