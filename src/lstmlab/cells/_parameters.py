"""What every torch-style cell has besides its equations: argument checks, torch's parameters,
their initialisation and the zero state.

The standard cells (``lstm``, ``gru``, ``elman``) and the variants (``peephole``, ``cifg``,
``greff``, ``fgr``) own their parameters under ``torch.nn``'s names and shapes: ``G`` weight
blocks of H rows each (G = 4 for an LSTM, 3 for a GRU or a variant missing a gate, 1 for a
simple RNN), so

    weight_ih (G*H, I)    weight_hh (G*H, R)    bias_ih, bias_hh (G*H) or None

with R the width of the recurrent input (``h``: P with a projection, else H). They are drawn
as torch draws them, every parameter ~ U(-1/sqrt(H), 1/sqrt(H)) in registration order, so the
same generator state gives the same weights as ``torch.nn.LSTM``, ``GRU`` or ``RNN``. The
1997 cell has its own parameters and initialisation (``lstm1997``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn


def check_size(name: str, value: int, *, minimum: int = 1) -> None:
    """Raise ValueError unless ``value`` is an int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")


def check_step(x: Tensor, parameter: Tensor, input_size: int, state: tuple,
               sizes: tuple[int, ...]) -> None:
    """Raise ValueError unless ``x`` is (B, input_size) in ``parameter``'s dtype and device
    and ``state``'s fields are (B, size) for ``sizes``, in the same dtype and device."""
    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != input_size:
        received = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"x must have shape (batch, {input_size}), got {received}")
    if x.dtype != parameter.dtype or x.device != parameter.device:
        raise ValueError(
            f"x must have the parameters' dtype {parameter.dtype} and device "
            f"{parameter.device}, got {x.dtype} on {x.device}"
        )
    names = getattr(state, "_fields", [str(k) for k in range(len(state))])
    for name, tensor, size in zip(names, state, sizes, strict=True):
        expected = (x.shape[0], size)
        if not isinstance(tensor, Tensor) or tuple(tensor.shape) != expected:
            received = tuple(tensor.shape) if isinstance(tensor, Tensor) else tensor
            raise ValueError(f"state.{name} must have shape {expected}, got {received!r}")
        if tensor.dtype != x.dtype or tensor.device != x.device:
            raise ValueError(
                f"state.{name} must have x's dtype {x.dtype} and device {x.device}, "
                f"got {tensor.dtype} on {tensor.device}"
            )


def register_weights(
    cell: nn.Module, blocks: int, recurrent_size: int, bias: bool, *,
    dtype: torch.dtype | None, device: torch.device | str | None,
) -> None:
    """Register torch's ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, R) and ``bias_ih``,
    ``bias_hh`` (G*H) (None without ``bias``) on ``cell``, uninitialised; G = ``blocks``,
    H = ``cell.hidden_size``, I = ``cell.input_size``, R = ``recurrent_size``."""
    rows = blocks * cell.hidden_size
    factory = {"dtype": dtype, "device": device}
    cell.weight_ih = nn.Parameter(torch.empty(rows, cell.input_size, **factory))
    cell.weight_hh = nn.Parameter(torch.empty(rows, recurrent_size, **factory))
    if bias:
        cell.bias_ih = nn.Parameter(torch.empty(rows, **factory))
        cell.bias_hh = nn.Parameter(torch.empty(rows, **factory))
    else:
        cell.register_parameter("bias_ih", None)
        cell.register_parameter("bias_hh", None)


def reset_uniform(cell: nn.Module, generator: torch.Generator | None = None) -> None:
    """Every parameter of ``cell`` ~ U(-1/sqrt(H), 1/sqrt(H)), drawn from ``generator`` in
    registration order, as ``torch.nn.LSTM``, ``GRU`` and ``RNN`` initialise."""
    bound = 1.0 / math.sqrt(cell.hidden_size)
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.uniform_(-bound, bound, generator=generator)


def zero_state(
    cell: nn.Module, kind: type[NamedTuple], sizes: tuple[int, ...], batch_size: int, *,
    dtype: torch.dtype | None, device: torch.device | None,
) -> NamedTuple:
    """``kind`` with one zero tensor (batch_size, size) per field, each its own tensor, in
    ``cell.weight_ih``'s dtype and device unless given."""
    dtype = cell.weight_ih.dtype if dtype is None else dtype
    device = cell.weight_ih.device if device is None else device
    return kind(*(torch.zeros(batch_size, size, dtype=dtype, device=device) for size in sizes))
