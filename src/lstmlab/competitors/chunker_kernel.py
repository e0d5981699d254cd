"""The history compressor's online update on one sequence as one C call (``Chunker.train_step``).

``Chunker.train_step`` runs the automatizer A and the chunker C over a sequence step by step in
torch and backpropagates through both (``lstmlab.competitors.chunker`` has the equations and
names). On 2a (p = 100, one hidden unit per net) that is hundreds of tiny operations per step.
``chunker_train`` below computes the same update in float64, with the fully recurrent net's C
pieces (``fully_recurrent_kernel.SOURCE``):

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

import ctypes
from functools import cache

import torch
from torch import Tensor

from lstmlab import native
from lstmlab.competitors.chunker import Chunker
from lstmlab.competitors.fully_recurrent_kernel import SOURCE as NET_SOURCE

SOURCE = NET_SOURCE + r"""
void chunker_train(long T, long I, long H, long O, const double *x, const double *target,
    const unsigned char *mask, double scale, double surprise, double lr,
    double *a_wih, double *a_whh, double *a_bih, double *a_bhh, double *a_v, double *a_c,
    double *c_wih, double *c_whh, double *c_bih, double *c_bhh, double *c_v, double *c_c,
    double *prediction, double *loss, double *work) {
  double *wa[6] = {a_wih, a_whh, a_bih, a_bhh, a_v, a_c};
  double *wc[6] = {c_wih, c_whh, c_bih, c_bhh, c_v, c_c};
  net A = make(I, H, O + H, 1, wa), C = make(I + 1, H, O, 1, wc);
  long OA = O + H, IC = I + 1, ZC = IC + H;
  double *hs_a = work, *a_out = hs_a + (T + 1) * H, *t_a = a_out + T * OA;
  double *c_in = t_a + T * OA, *hs_c = c_in + T * IC, *new_c = hs_c + (T + 1) * H;
  double *last = new_c + T * H, *c_pred = last + T * IC, *keep = c_pred + T * O;
  double *c_mask = keep + T, *z = c_mask + T, *rest = z + ZC;
  /* A forward, surprises */
  run_forward(&A, T, x, hs_a, a_out, z);
  for (long t = 0; t < T; t++) {
    double worst = 0;
    for (long k = 0; k < O; k++) {
      double e = fabs(a_out[t * OA + k] - target[t * O + k]);
      if (e > worst) worst = e;
    }
    c_mask[t] = worst > surprise;
  }
  for (long t = 0; t < T; t++) keep[t] = t == 0 ? 1 : c_mask[t - 1];
  for (long t = 0; t < T; t++) c_mask[t] = c_mask[t] && mask[t];
  /* C forward over the unexpected inputs, and the system's prediction */
  memset(hs_c, 0, H * sizeof(double));
  double *held = rest;
  memset(held, 0, IC * sizeof(double));
  for (long t = 0; t < T; t++) {
    double *in = c_in + t * IC, *h_prev = hs_c + t * H, *h = hs_c + (t + 1) * H;
    memcpy(in, x + t * I, I * sizeof(double));
    in[I] = (double)t / scale;
    hidden(&C, in, h_prev, new_c + t * H);
    if (keep[t]) {
      memcpy(h, new_c + t * H, H * sizeof(double));
      memcpy(held, in, IC * sizeof(double));
    } else {
      memcpy(h, h_prev, H * sizeof(double));
    }
    memcpy(last + t * IC, held, IC * sizeof(double));
    readout(&C, held, h, z, c_pred + t * O);
    double a_max = -INFINITY, c_max = -INFINITY;
    for (long k = 0; k < O; k++) {
      if (a_out[t * OA + k] > a_max) a_max = a_out[t * OA + k];
      if (c_pred[t * O + k] > c_max) c_max = c_pred[t * O + k];
    }
    const double *chosen = a_max < c_max ? c_pred + t * O : a_out + t * OA;
    memcpy(prediction + t * O, chosen, O * sizeof(double));
    /* A's targets: the next input, and C's state mapped to [0, 1] (held constant) */
    memcpy(t_a + t * OA, target + t * O, O * sizeof(double));
    for (long j = 0; j < H; j++) t_a[t * OA + O + j] = (h[j] + 1) / 2;
  }
  /* A: BPTT through every step, one update */
  double total = backward_update(&A, T, x, t_a, mask, lr, hs_a, a_out, rest);
  /* C: BPTT through its kept steps (a held-over state passes its error back unchanged) */
  double *g_ih = rest, *g_hh = g_ih + H * IC, *g_b = g_hh + H * H, *g_v = g_b + H;
  double *g_c = g_v + O * ZC, *delta = g_c + O, *dh = delta + O, *carry = dh + H;
  double *dpre = carry + H;
  memset(g_ih, 0, (H * IC + H * H + H + O * ZC + O) * sizeof(double));
  memset(carry, 0, H * sizeof(double));
  for (long t = T - 1; t >= 0; t--) {
    const double *h = hs_c + (t + 1) * H;
    if (c_mask[t]) {
      memcpy(z, last + t * IC, IC * sizeof(double));
      memcpy(z + IC, h, H * sizeof(double));
      total += output_error(&C, ZC, c_pred + t * O, target + t * O, delta, dh);
      long idx[ZC];
      long nz = nonzero(z, ZC, idx);
      for (long o = 0; o < O; o++) {
        for (long m = 0; m < nz; m++) g_v[o * ZC + idx[m]] += delta[o] * z[idx[m]];
        g_c[o] += delta[o];
      }
      for (long k = 0; k < H; k++) carry[k] += dh[k];
    }
    if (!keep[t]) continue;
    const double *nc = new_c + t * H, *hp = hs_c + t * H, *in = c_in + t * IC;
    for (long k = 0; k < H; k++) {
      dpre[k] = carry[k] * (1 - nc[k] * nc[k]);
      for (long j = 0; j < IC; j++) g_ih[k * IC + j] += dpre[k] * in[j];
      for (long j = 0; j < H; j++) g_hh[k * H + j] += dpre[k] * hp[j];
      g_b[k] += dpre[k];
    }
    for (long j = 0; j < H; j++) {
      double s = 0;
      for (long k = 0; k < H; k++) s += c_whh[k * H + j] * dpre[k];
      carry[j] = s;
    }
  }
  for (long m = 0; m < H * IC; m++) c_wih[m] -= lr * g_ih[m];
  for (long m = 0; m < H * H; m++) c_whh[m] -= lr * g_hh[m];
  for (long k = 0; k < H; k++) { c_bih[k] -= lr * g_b[k]; c_bhh[k] -= lr * g_b[k]; }
  for (long m = 0; m < O * ZC; m++) c_v[m] -= lr * g_v[m];
  for (long o = 0; o < O; o++) c_c[o] -= lr * g_c[o];
  loss[0] = total;
}
"""

_P, _L, _D = native.POINTER, native.LONG, native.DOUBLE


@cache
def load() -> ctypes.CDLL | None:
    """The compiled kernel (built on first use, then cached on disk), or None if unavailable."""
    return native.build_library("lstmlab_chunker", SOURCE, {
        "chunker_train": [_L] * 4 + [_P] * 3 + [_D] * 3 + [_P] * 15})


def _work_size(steps: int, width: int, hidden: int, outputs: int) -> int:
    """Scratch doubles: the buffers at the top of ``chunker_train``, then the larger of A's
    ``backward_work`` and C's gradients."""
    out_a, in_c = outputs + hidden, width + 1
    z_a, z_c = width + hidden, in_c + hidden
    buffers = ((steps + 1) * hidden * 2 + 2 * steps * out_a + 2 * steps * in_c + steps * hidden
               + steps * outputs + 2 * steps + z_c)
    backward_a = (hidden * width + hidden * hidden + hidden + out_a * z_a + out_a + z_a + out_a
                  + 3 * hidden)
    backward_c = hidden * in_c + hidden * hidden + hidden + outputs * z_c + 2 * outputs + 3 * hidden
    return buffers + max(backward_a, backward_c, in_c)


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
    loss = x.new_zeros(())
    work = x.new_empty(_work_size(steps, width, hidden, outputs))
    library.chunker_train(
        steps, width, hidden, outputs, x.data_ptr(), target.data_ptr(), marks.data_ptr(), scale,
        float(net.config.surprise), float(net.config.learning_rate),
        *(p.data_ptr() for p in params), prediction.data_ptr(), loss.data_ptr(),
        work.data_ptr())
    return prediction
