"""[H97]'s online truncated-gradient algorithm (``lstmlab.training._online1997``) as one C loop.

The networks of the 1997 experiments are tiny (Exp. 1: 276 weights; Exp. 4: 93), so a step of
``online_sequence`` costs a few thousand flops but about forty torch operators, each with its own
dispatch and allocation: in torch a step takes ~0.3 ms, here a few microseconds. The loop below
computes the same equations, in the same order per step, as the readable torch code, which is
the reference: ``tests/training/test_online1997_kernel.py`` checks every output against it.
The C is ``lstmlab/_native/online1997.c``, built by ``lstmlab.native``.

One call presents one sequence to every member: for k, for t, for b (see ``online_sequence`` for
the shapes and the equations). Members are independent (no reduction crosses k), so a member's
numbers do not depend on the population around it. A member whose mask is zero at step t for
every b has no error there and is skipped, and the input-to-output products and updates skip
inputs that are zero at that step for every b (one-hot inputs: Exp. 2a's 10,302 such weights
cost 101 operations per step); the readable code adds the exact zeros instead. With ``sparse``
(the default of ``online_sequence``), a step where at most half the inputs are nonzero also
reads only their columns of the hidden layer's W and updates only their columns of the traces
ds_c/dw (a zero input leaves them unchanged): one-hot inputs (Exp. 2c, p + 4 = 1004 of them)
make a step cost O(R (R + 1)) instead of O(R (I + R)). Skipping 0 * w is exact while w is
finite (the kernel checks, and steps densely where it is not), so the numbers are the dense
loop's bit for bit (``tests/training/test_online1997_sparse.py``); in the portable build only:
the ``-march=native`` build, whose FP contraction may round the two loops differently, always
steps densely. The traces
are computed only up to a member's last error step (they feed nothing after it).

``forward`` (C ``forward1997_d``) is the forward pass alone, for stopping and test sets: per
sequence, only its real steps (``lengths``), outputs 0 after its end.

Squashing functions are passed as their ``Squash.kernel_code`` (kind, a, b): kind 0 the
identity, kind 1 ``a * sigmoid + b`` (logistic: 1, 0; [H97]'s g: 4, -2; h: 2, -1), with
derivative ``a * s (1 - s)`` (``lstmlab.cells._squash``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmlab.cells import Squash
from lstmlab.native import Library
from lstmlab.native import load as native_load

#: How much slower the readable torch path is, for the fallback's warning (BENCHMARKS.md).
SLOWER = "18x-100x slower on the paper's nets (BENCHMARKS.md)"
#: ``dims``' names, in the C function's order.
DIMS = ("T", "K", "B", "I", "C", "S", "O", "recurrent", "output_gate", "has_bias", "has_io",
        "has_bo", "mode", "sparse")
#: ``forward``'s dims: :data:`DIMS` without ``mode``.
FORWARD_DIMS = tuple(name for name in DIMS if name != "mode")


def load() -> Library | None:
    """The compiled loop of ``online1997.c`` (built on first use, then cached on disk), or
    None when it cannot be built."""
    return native_load("online1997.c", SLOWER)


def available(dtype: torch.dtype, device: torch.device, squashes: tuple[Squash, ...]) -> bool:
    """Whether the kernel can run: float64 on the CPU, known squashing functions, built."""
    return (dtype == torch.float64 and device.type == "cpu"
            and _codes(squashes) is not None and load() is not None)


_CODES: dict[tuple, Tensor | None] = {}


def _codes(squashes: tuple[Squash, ...]) -> Tensor | None:
    """The ``sq`` argument, (kind, a, b) per squashing function, or None if one has no C form
    (kept per tuple of functions: a call of a small net costs microseconds)."""
    try:
        return _CODES[squashes]
    except KeyError:
        codes = [q.kernel_code for q in squashes]
        sq = None if None in codes else torch.tensor([v for c in codes for v in c],
                                                     dtype=torch.float64)
        if len(_CODES) < 256:
            _CODES[squashes] = sq
        return sq
    except TypeError:  # unhashable: not one of ours
        return None


def _library() -> Library:
    library = load()
    if library is None:
        raise RuntimeError("the online1997 kernel is not available (no C compiler?)")
    return library


def run(dims: tuple[int, ...], squashes: tuple[Squash, ...], tensors: list[Tensor | None]) -> None:
    """Call the kernel: ``dims`` (T, K, B, I, C, S, O, recurrent, output_gate, has_bias,
    has_io, has_bo, mode, sparse); ``tensors`` in the C signature's order after ``sq`` (float64 CPU
    tensors, or None for NULL). Every tensor is checked against the C prototype's length
    (``lstmlab/_native/online1997.c``) before the call; a weight that ``has_io``/``has_bo`` says
    is there must be given, with its gradient, and one that is absent must be None."""
    library = _library()
    if len(dims) != len(DIMS):
        raise ValueError(f"dims: expected {len(DIMS)} sizes {DIMS}, received {len(dims)}")
    if len(tensors) != 19:
        raise ValueError(f"tensors: expected 19 (inputs .. loss), received {len(tensors)}")
    sizes = dict(zip(DIMS, dims, strict=True))
    # (W_io, its trainable mask, its gradient), (b_o, mask, gradient): positions in tensors
    for flag, weight, gradient in (("has_io", 6, 15), ("has_bo", 7, 16)):
        if sizes[flag] not in (0, 1):
            raise ValueError(f"dims: {flag} must be 0 or 1, received {sizes[flag]}")
        given = tensors[weight] is not None, tensors[gradient] is not None
        if given != (bool(sizes[flag]),) * 2:
            raise ValueError(f"{flag}={sizes[flag]}: the weight and its gradient must "
                             f"{'both be given' if sizes[flag] else 'both be None'}")
        if not sizes[flag] and tensors[weight + 5] is not None:
            raise ValueError(f"{flag}=0: its trainable mask must be None")
    _flags(sizes, "sparse")
    if sizes["mode"] not in (0, 1, 2):
        raise ValueError(f"dims: mode must be 0, 1 or 2, received {sizes['mode']}")
    library.kernel("online1997_d")(*dims, _sq(squashes), *tensors)


def forward(dims: tuple[int, ...], squashes: tuple[Squash, ...],
            tensors: list[Tensor | None]) -> None:
    """Call the forward pass alone (``forward1997_d``): ``dims`` as :func:`run`'s without
    ``mode`` (:data:`FORWARD_DIMS`); ``tensors`` (inputs, lengths (int64), W, W_ho, W_io,
    b_o, outputs), checked against the C prototype like :func:`run`'s."""
    library = _library()
    if len(dims) != len(FORWARD_DIMS):
        raise ValueError(f"dims: expected {len(FORWARD_DIMS)} sizes {FORWARD_DIMS}, received "
                         f"{len(dims)}")
    if len(tensors) != 7:
        raise ValueError(f"tensors: expected 7 (inputs .. outputs), received {len(tensors)}")
    sizes = dict(zip(FORWARD_DIMS, dims, strict=True))
    for flag, weight in (("has_io", 4), ("has_bo", 5)):
        if sizes[flag] not in (0, 1) or (tensors[weight] is not None) != bool(sizes[flag]):
            raise ValueError(f"{flag}={sizes[flag]}: its weight must "
                             f"{'be given' if sizes[flag] else 'be None'}")
    _flags(sizes, "sparse")
    library.kernel("forward1997_d")(*dims, _sq(squashes), *tensors)


def _flags(sizes: dict[str, int], *more: str) -> None:
    for name in ("recurrent", "output_gate", "has_bias", *more):
        if sizes[name] not in (0, 1):
            raise ValueError(f"dims: {name} must be 0 or 1, received {sizes[name]}")


def _sq(squashes: tuple[Squash, ...]) -> Tensor:
    sq = _codes(squashes)
    if sq is None:
        raise ValueError("squashes: expected squashing functions with a kernel_code (cells.squash)")
    return sq
