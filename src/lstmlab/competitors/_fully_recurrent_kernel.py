"""The competitors' fully recurrent net trained on one sequence by a C loop: RTRL, BPTT, Elman.

The 1997 competitors' nets are tiny (Experiment 1: 12 hidden units; 2a: one), so a sequence
trained by the readable torch paths (``WilliamsZipser``, ``BPTT``, ``TruncatedBPTT(1)``) costs
dozens of operator dispatches per step for a few hundred flops. The kernels run a whole
sequence (forward, gradients, SGD updates) in one call (``lstmlab/_native/fully_recurrent.c``,
its net in ``fully_recurrent_net.h``), in float64, with the net of
``lstmlab.competitors._fully_recurrent`` (module docstring of ``williams_zipser`` for the symbols):

    h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh),   h_0 = 0          (H,)
    z_t = [x_t, h_t] (skip) or h_t,   y_t = sigmoid(z_t @ V.T + c)                  (O,)
    E(t) = sum_k (y_t[k] - target_t[k])^2 at the steps the mask marks           ([H97] eq. 16)
    delta_t = 2 (y_t - target_t) y_t (1 - y_t),   dE(t)/dh_t = delta_t @ V[:, -H:]

- ``rtrl``: Williams & Zipser's sensitivities P_t (``williams_zipser``), weights updated by SGD
  after every step with error, the sensitivities running on across updates (``online=True``);
- ``bptt``: forward over the sequence, backward through every step, one SGD update;
- ``elman``: BPTT truncated to one step (the context h_{t-1} taken as input), an update after
  every step with error (``TruncatedBPTT(1)``).

Each is the same algorithm as its torch path, step for step, with every sum taken in another
order; the tests hold the two equal to 1e-10 over several sequences of training. Products with
an input or readout input that is exactly zero (one-hot inputs: all but one) are skipped, which
changes no sum (it adds exact zeros) and makes 2a's 101-unit readout cheap. The kernels take
one sequence (batch size 1, the trial loop's online setting); :func:`train_sequence` returns
None for anything else (another batch size or dtype, no compiler), and the caller falls back to
the torch path. Built by ``lstmlab.native`` (compiled once per machine, cached).
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmlab.cells import ElmanCell
from lstmlab.competitors._fully_recurrent import SkipCell
from lstmlab.competitors._williams_zipser import WilliamsZipser
from lstmlab.native import Library
from lstmlab.native import load as native_load
from lstmlab.training import BPTT, TruncatedBPTT

#: How much slower the readable torch paths are, for the fallback's warning (BENCHMARKS.md).
SLOWER = "17x-260x slower per sequence (BENCHMARKS.md)"
KINDS = ("rtrl", "bptt", "elman")


def load() -> Library | None:
    """The compiled kernels of ``fully_recurrent.c`` (built on first use, then cached on
    disk), or None when they cannot be built."""
    return native_load("fully_recurrent.c", SLOWER)


def kernel_kind(algorithm: object) -> str | None:
    """Which kernel computes ``algorithm``'s training: ``"rtrl"`` for online
    ``WilliamsZipser``, ``"bptt"`` for ``BPTT()``, ``"elman"`` for ``TruncatedBPTT(1)`` updating
    every chunk; None for anything else."""
    if isinstance(algorithm, WilliamsZipser) and algorithm.online:
        return "rtrl"
    if isinstance(algorithm, BPTT):
        return "bptt"
    if (isinstance(algorithm, TruncatedBPTT) and algorithm.truncation_length == 1
            and algorithm.update_every_chunk):
        return "elman"
    return None


def train_sequence(kind: str, model: torch.nn.Module, inputs: Tensor, targets: Tensor,
                   mask: Tensor, learning_rate: float) -> tuple[Tensor, Tensor] | None:
    """Train ``model`` (``fully_recurrent_net``, float64) on one sequence by ``kind``'s kernel,
    its weights updated in place by SGD with ``learning_rate``.

    ``inputs`` (T, 1, I), ``targets`` (T, 1, O), ``mask`` (T, 1) bool. Returns the summed
    squared error (a scalar) and the outputs produced while learning (T, 1, O), or None when
    the kernel cannot run (no compiler, batch size not 1, not float64, another cell).
    """
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, received {kind!r}")
    skip = isinstance(model.cell, SkipCell)
    cell = model.cell.cell if skip else model.cell
    library = load()
    params = [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh,
              model.readout.weight, model.readout.bias]
    if (library is None or inputs.dim() != 3 or inputs.shape[1] != 1
            or not isinstance(cell, ElmanCell) or cell.nonlinearity != "tanh" or not cell.bias
            or any(p.dtype != torch.float64 or not p.is_contiguous() for p in params)):
        return None
    steps, _, width = inputs.shape
    hidden, outputs = cell.hidden_size, model.readout.out_features
    x = inputs.to(torch.float64).contiguous()
    target = targets.to(torch.float64).contiguous()
    marks = mask.to(torch.uint8).contiguous()
    out = x.new_empty(steps, 1, outputs)
    loss = x.new_zeros(1)
    train = library.kernel(f"fr_{kind}")
    sizes = (steps, width, hidden, outputs, int(skip))
    work = train.empty("work", *sizes, dtype=torch.float64)  # the length the C prototype says
    train(*sizes, x, target, marks, float(learning_rate), *params, out, loss, work)
    return loss[0], out
