"""The cell state's linear recurrence, solved two exact ways.

Given the gates, the cell state of the forget-gate LSTM (Gers, Schmidhuber & Cummins 2000, eq. 2)
is a first-order linear recurrence, elementwise per unit:

    c_t = f_t * c_{t-1} + u_t,    u_t = i_t * g_t,    c_{-1} = c0,    t = 0 .. T-1

Shapes: f, u (T, ...) (usually (T, B, H)), c0 (...). Both solvers return c (T, ...).

- ``loop_recurrence``: T fused multiply-adds in Python, the equation as written. Cost T small
  kernels; best when B*H is large (each step is a real chunk of work).
- ``scan_recurrence``: Hillis-Steele prefix scan of the affine maps ``c -> f*c + u``, composed
  pairwise: (f2, u2) o (f1, u1) = (f2*f1, f2*u1 + u2), ceil(log2 T) passes over all steps. No
  division, so nothing blows up when f underflows. Best when T is long and B*H small
  (latency-bound: the loop would pay T kernel launches for tiny work).

Both are exact up to float rounding order (they sum the same terms in a different grouping).
``linear_recurrence`` picks by the work estimate below; ``benchmarks/bench_trace.py`` times both
(BENCHMARKS.md, "c by loop" and "c by scan": at (B, T, H) = (1, 1000, 8) the scan takes 0.15x
of a forward and the loop 3.10x; at (32, 100, 128) the loop wins, 0.18x against 0.30x).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

# The scan does about 3 * T * B * H element-ops per pass; the loop pays ~ 5 µs per step. The
# scan wins while B * H * log2(T) stays below roughly this many elements (one thread, 2026-11-25:
# T = 100: scan 0.32 vs loop 0.48 ms at B*H = 512, 0.66 vs 0.54 at 1024; T = 1000: 5.8 vs
# 8.8 ms at 256, 15.0 vs 14.3 at 512).
_SCAN_MAX_WORK = 4096


def loop_recurrence(f: Tensor, u: Tensor, c0: Tensor) -> Tensor:
    """c_t = f_t * c_{t-1} + u_t, one step at a time. f, u (T, ...), c0 (...) -> c (T, ...)."""
    c = torch.empty(u.shape, dtype=u.dtype, device=u.device)
    c_prev = c0
    for t in range(u.shape[0]):
        torch.addcmul(u[t], f[t], c_prev, out=c[t])
        c_prev = c[t]
    return c


def scan_recurrence(f: Tensor, u: Tensor, c0: Tensor) -> Tensor:
    """The same recurrence by a log-depth (Hillis-Steele) scan. f, u (T, ...), c0 (...)."""
    steps = u.shape[0]
    if steps == 0:
        return u.clone()
    # Fold c0 into step 0, so c_t is the composition of maps 0..t applied to zero.
    total = torch.cat([torch.addcmul(u[:1], f[:1], c0.unsqueeze(0)), u[1:]])
    factor = f.clone()
    shift = 1
    while shift < steps:
        # After this pass, (factor[t], total[t]) compose maps max(0, t-2*shift+1) .. t.
        total = torch.cat([total[:shift], torch.addcmul(total[shift:], factor[shift:],
                                                        total[:-shift])])
        if 2 * shift < steps:
            factor = torch.cat([factor[:shift], factor[shift:] * factor[:-shift]])
        shift *= 2
    return total


def linear_recurrence(f: Tensor, u: Tensor, c0: Tensor) -> Tensor:
    """c_t = f_t * c_{t-1} + u_t by whichever exact solver should be faster at this shape.

    f, u (T, ...) and c0 (...), broadcastable to u's step shape; returns c (T, ...).
    """
    steps = u.shape[0]
    width = math.prod(u.shape[1:])
    if steps > 1 and width * math.ceil(math.log2(steps)) <= _SCAN_MAX_WORK:
        return scan_recurrence(f, u, c0)
    return loop_recurrence(f, u, c0)
