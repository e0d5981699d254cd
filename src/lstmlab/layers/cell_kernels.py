"""The variant cells' gate math in C (``lstmlab/_native/cells.c``), for ``compiled_unroll``.

The compiled path (``lstmlab.layers.compiled``) does a step of a variant cell as one matrix
product (torch) and one call of a kernel of ``cells.c``, instead of ten or so small torch
operations, each with its own dispatch, allocation and pass over memory; small layers run the
whole sequence in one call. The kernels compute exactly the equations of the cells' docstrings
(``lstmlab.cells.peephole``, ``cifg``, ``lstm1997``); the backward kernels are their
derivatives, written out. Shapes: B batch, H hidden, G gate rows (4H peephole, 3H CIFG,
R = C + H (+ C with output gates) for the 1997 cell: C blocks of S cells), row-major.

Built by ``lstmlab.native`` (compiled once per machine, cached); every call checks its
arguments against the C prototypes (dtype, device, contiguity, length) before it runs.
"""

from __future__ import annotations

import torch

from lstmlab.native import Kernel, Library, load

#: How much slower the readable path (``unroll``) is, for the fallback's warning
#: (BENCHMARKS.md, the peephole, CIFG and 1997 rows, forward and forward + backward).
SLOWER = "125x-400x slower at B = 1, H = 8 and 1.1x-2.6x at B = 32, H = 128 (BENCHMARKS.md)"


def load_cells() -> Library | None:
    """The compiled kernels of ``cells.c`` (built on first use, then cached on disk), or None
    when they cannot be built."""
    return load("cells.c", SLOWER)


def kernel(name: str, dtype: torch.dtype) -> Kernel | None:
    """The C function ``name`` of ``cells.c`` for ``dtype`` (float32 or float64); None if the
    kernels are unavailable or ``dtype`` is neither."""
    library = load_cells()
    if library is None or dtype not in (torch.float32, torch.float64):
        return None
    return library.kernel(name, dtype)
