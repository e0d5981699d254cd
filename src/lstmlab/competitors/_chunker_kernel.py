"""The history compressor's online update on one sequence as one C call (``Chunker.train_step``).

``Chunker.train_step`` runs the automatizer A and the chunker C over a sequence step by step in
torch and backpropagates through both (``lstmlab.competitors._chunker`` has the equations and
names). On 2a (p = 100, one hidden unit per net) that is hundreds of tiny operations per step.
``chunker_train`` (``lstmlab/_native/chunker.c``) computes the same update in float64, with the
fully recurrent net's C pieces (``fully_recurrent_net.h``):

    A:  run_forward over x (readout from [x_t, h^A_t], O + H logistic outputs)      a_out (T, O + H)
    missed_t     = max_{k < O} |a_out_t[k] - target_t[k]| > surprise
    unexpected_0 = 1,  unexpected_t = missed_{t-1}
    C:  new_t = tanh([x_t, t / scale] @ W^C_ih.T + b + h^C_{t-1} @ W^C_hh.T + b')
        h^C_t = new_t and last_t = [x_t, t / scale] where unexpected_t, else carried over
        c_pred_t = sigmoid([last_t, h^C_t] @ V^C.T + c^C)
    prediction_t = c_pred_t where max_k c_pred_t > max_{k < O} a_out_t, else a_out_t[:O]
    loss = sum_t mask_t (|a_out_t[:O] - target_t|^2 + |a_out_t[O:] - (h^C_t + 1) / 2|^2)
         + sum_t (missed_t and mask_t) |c_pred_t - target_t|^2

with h^C_t held constant in A's collapse target (detached), then BPTT through each net (through
C's held-over states too) and one SGD step of every weight. The tests hold it equal to
``train_step`` to 1e-10 over several sequences; :func:`train_chunker` returns None where the
kernel cannot run, and the caller falls back to ``train_step``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from lstmlab.competitors._chunker import Chunker
from lstmlab.native import Library
from lstmlab.native import load as native_load

#: How much slower ``Chunker.train_step`` is, for the fallback's warning (BENCHMARKS.md).
SLOWER = "40x-80x slower per sequence (BENCHMARKS.md)"


def load() -> Library | None:
    """The compiled kernel of ``chunker.c`` (built on first use, then cached on disk), or None
    when it cannot be built."""
    return native_load("chunker.c", SLOWER)


def train_chunker(net: Chunker, inputs: Tensor, targets: Tensor, mask: Tensor,
                  lengths: Tensor | None = None) -> Tensor | None:
    """``net.train_step`` on one sequence, in C: ``inputs`` (T, 1, I), ``targets`` (T, 1, O),
    ``mask`` (T, 1) bool, ``lengths`` (1,) or None (time stamps t / T). Updates ``net``'s
    weights in place; returns the system's prediction (T, 1, O) made while learning, or None
    when the kernel cannot run (no compiler, batch size not 1, weights not float64)."""
    library = load()
    params = list(net.parameters())
    if (library is None or inputs.dim() != 3 or inputs.shape[1] != 1
            or any(p.dtype != torch.float64 or not p.is_contiguous() for p in params)):
        return None
    steps, _, width = inputs.shape
    hidden, outputs = net.config.hidden_size, net.output_size
    x = inputs.to(torch.float64).contiguous()
    target = targets.to(torch.float64).contiguous()
    marks = mask.to(torch.uint8).contiguous()
    scale = float(steps if lengths is None else lengths[0])
    prediction = x.new_empty(steps, 1, outputs)
    loss = x.new_zeros(1)
    train = library.kernel("chunker_train")
    sizes = (steps, width, hidden, outputs)
    work = train.empty("work", *sizes, dtype=torch.float64)  # the length the C prototype says
    train(*sizes, x, target, marks, scale, float(net.config.surprise),
          float(net.config.learning_rate), *params, prediction, loss, work)
    return prediction
