"""The squashing functions of Hochreiter & Schmidhuber (1997) [H97]: one type for the cell, the
set-ups of the experiments, the online method and the C kernels.

[H97] App. A.1, eqs. 3-5, by the names of Table 10 (whose caption swaps the ranges of h and g;
the running text and the appendix agree with each other, so we follow them)::

    logistic(x) = 1 / (1 + exp(-x))   range [0, 1]    gates, output units, g of 2a/2b ("g1")
    h1(x)       = 2 sigmoid(x) - 1    range [-1, 1]   the cell output squashing h (eq. 4)
    g2(x)       = 4 sigmoid(x) - 2    range [-2, 2]   the cell input squashing g (eq. 5)
    identity(x) = x                                   h of 2a/2b ("id"); a linear output unit

Each is a :class:`Squash`: its name, the function and its derivative (both of the net input),
its range, and the code by which the C kernels (``lstmlab.layers._cell_kernels``,
``lstmlab.training._online1997_kernel``) compute it: ``(kind, a, b)``, kind 1 for
``a * sigmoid(x) + b`` (derivative ``a * s (1 - s)``), kind 0 for the identity. A squash
without a code (``kernel_code=None``, e.g. one a user writes) runs on the torch paths only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

#: ``Squash.kernel_code``'s kinds, as the C kernels read them.
KIND_IDENTITY = 0.0
KIND_SIGMOID = 1.0


@dataclass(frozen=True)
class Squash:
    """A squashing function: ``fn(net)``, ``derivative(net)`` (both of the pre-activation),
    its ``range`` (low, high), and ``kernel_code`` (kind, a, b) for the C kernels, or None
    where they have no form for it."""

    name: str
    fn: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    range: tuple[float, float]
    kernel_code: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        low, high = self.range
        if not low < high:
            raise ValueError(f"range: expected (low, high) with low < high, received {self.range}")
        code = self.kernel_code
        if code is not None and (len(code) != 3 or code[0] not in (KIND_IDENTITY, KIND_SIGMOID)):
            raise ValueError(f"kernel_code: expected (kind, a, b) with kind {KIND_IDENTITY} or "
                             f"{KIND_SIGMOID}, or None, received {code}")


def _sigmoid_derivative(net: Tensor) -> Tensor:
    s = torch.sigmoid(net)
    return s * (1 - s)


def _g(net: Tensor) -> Tensor:
    return 4 * torch.sigmoid(net) - 2


def _g_derivative(net: Tensor) -> Tensor:
    return 4 * _sigmoid_derivative(net)


def _h(net: Tensor) -> Tensor:
    return 2 * torch.sigmoid(net) - 1


def _h_derivative(net: Tensor) -> Tensor:
    return 2 * _sigmoid_derivative(net)


def _identity(net: Tensor) -> Tensor:
    return net


LOGISTIC = Squash("logistic", torch.sigmoid, _sigmoid_derivative, (0.0, 1.0),
                  (KIND_SIGMOID, 1.0, 0.0))  # eq. 3
H1 = Squash("h1", _h, _h_derivative, (-1.0, 1.0), (KIND_SIGMOID, 2.0, -1.0))  # eq. 4
G2 = Squash("g2", _g, _g_derivative, (-2.0, 2.0), (KIND_SIGMOID, 4.0, -2.0))  # eq. 5
IDENTITY = Squash("identity", _identity, torch.ones_like, (-math.inf, math.inf),
                  (KIND_IDENTITY, 1.0, 0.0))

#: [H97]'s squashing functions by name.
SQUASHES: dict[str, Squash] = {squash.name: squash for squash in (LOGISTIC, H1, G2, IDENTITY)}
