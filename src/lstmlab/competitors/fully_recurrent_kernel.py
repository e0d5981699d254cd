"""The competitors' fully recurrent net trained on one sequence by a C loop: RTRL, BPTT, Elman.

The 1997 competitors' nets are tiny (Experiment 1: 12 hidden units; 2a: one), so a sequence
trained by the readable torch paths (``WilliamsZipser``, ``BPTT``, ``TruncatedBPTT(1)``) costs
dozens of operator dispatches per step for a few hundred flops. The kernels below run a whole
sequence (forward, gradients, SGD updates) in one call, in float64, with the net of
``lstmlab.competitors.fully_recurrent`` (module docstring of ``williams_zipser`` for the symbols):

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

import ctypes
from functools import cache

import torch
from torch import Tensor

from lstmlab import native
from lstmlab.cells.elman import ElmanCell
from lstmlab.competitors.fully_recurrent import SkipCell
from lstmlab.competitors.williams_zipser import WilliamsZipser
from lstmlab.training.bptt import BPTT, TruncatedBPTT

SOURCE = r"""
#include <math.h>
#include <string.h>

typedef struct { long I, H, O, skip; double *wih, *whh, *bih, *bhh, *v, *c; } net;

static inline double sig(double x) { return 1 / (1 + exp(-x)); }

/* the indices of z's nonzero entries (one-hot inputs: most are zero; skipping them adds
   nothing but exact zeros) */
static long nonzero(const double *z, long Z, long *idx) {
  long n = 0;
  for (long j = 0; j < Z; j++) if (z[j] != 0) idx[n++] = j;
  return n;
}

/* h_new = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh) */
static void hidden(const net *n, const double *x, const double *h, double *h_new) {
  long idx[n->I];
  long nx = nonzero(x, n->I, idx);
  for (long k = 0; k < n->H; k++) {
    double s = n->bih[k] + n->bhh[k];
    const double *wi = n->wih + k * n->I, *wh = n->whh + k * n->H;
    for (long m = 0; m < nx; m++) s += wi[idx[m]] * x[idx[m]];
    for (long j = 0; j < n->H; j++) s += wh[j] * h[j];
    h_new[k] = tanh(s);
  }
}

/* z = [x, h] or h; y = sigmoid(z @ V.T + c); returns Z */
static long readout(const net *n, const double *x, const double *h, double *z, double *y) {
  long Z = 0;
  if (n->skip) { memcpy(z, x, n->I * sizeof(double)); Z = n->I; }
  memcpy(z + Z, h, n->H * sizeof(double)); Z += n->H;
  long idx[Z];
  long nz = nonzero(z, Z, idx);
  for (long o = 0; o < n->O; o++) {
    double s = n->c[o];
    const double *vo = n->v + o * Z;
    for (long m = 0; m < nz; m++) s += vo[idx[m]] * z[idx[m]];
    y[o] = sig(s);
  }
  return Z;
}

/* delta = 2 (y - target) y (1 - y); dh = delta @ V[:, -H:]; returns the squared error */
static double output_error(const net *n, long Z, const double *y, const double *target,
                           double *delta, double *dh) {
  double e = 0;
  for (long o = 0; o < n->O; o++) {
    double err = y[o] - target[o];
    e += err * err;
    delta[o] = 2 * err * y[o] * (1 - y[o]);
  }
  for (long k = 0; k < n->H; k++) {
    double s = 0;
    for (long o = 0; o < n->O; o++) s += delta[o] * n->v[o * Z + Z - n->H + k];
    dh[k] = s;
  }
  return e;
}

/* V -= lr delta z.T; c -= lr delta (after dh was taken from the old V) */
static void update_readout(const net *n, long Z, double lr, const double *delta,
                           const double *z) {
  long idx[Z];
  long nz = nonzero(z, Z, idx);
  for (long o = 0; o < n->O; o++) {
    double *vo = n->v + o * Z;
    for (long m = 0; m < nz; m++) vo[idx[m]] -= lr * delta[o] * z[idx[m]];
    n->c[o] -= lr * delta[o];
  }
}

static net make(long I, long H, long O, long skip, double *w[6]) {
  net n = {I, H, O, skip, w[0], w[1], w[2], w[3], w[4], w[5]};
  return n;
}

/* P_new[k, m] = d[k] (sum_l W_hh[k, l] P[l, m] + [k == m / M] e[m % M]), m over H x M */
static void propagate(long H, long M, const double *whh, const double *d, const double *P,
                      const double *e, double *P_new) {
  for (long k = 0; k < H; k++) {
    double *out = P_new + k * H * M;
    for (long m = 0; m < H * M; m++) out[m] = 0;
    for (long l = 0; l < H; l++) {
      double w = whh[k * H + l];
      const double *row = P + l * H * M;
      for (long m = 0; m < H * M; m++) out[m] += w * row[m];
    }
    for (long j = 0; j < M; j++) out[k * M + j] += e[j];
    for (long m = 0; m < H * M; m++) out[m] *= d[k];
  }
}

/* g[m] = sum_k dh[k] P[k, m], m over H x M; W -= lr g (W laid out as m) */
static void apply_sensitivity(long H, long M, double lr, const double *dh, const double *P,
                              double *W, double *W2) {
  for (long m = 0; m < H * M; m++) {
    double g = 0;
    for (long k = 0; k < H; k++) g += dh[k] * P[k * H * M + m];
    W[m] -= lr * g;
    if (W2) W2[m] -= lr * g;
  }
}

/* x (T, I), target (T, O), mask (T,) bytes, w = {W_ih, W_hh, b_ih, b_hh, V, c} updated in place,
   out (T, O) the outputs produced while learning, loss[0] the summed squared error. */
void fr_rtrl(long T, long I, long H, long O, long skip, const double *x, const double *target,
             const unsigned char *mask, double lr, double *wih, double *whh, double *bih,
             double *bhh, double *v, double *c, double *out, double *loss, double *work) {
  double *w[6] = {wih, whh, bih, bhh, v, c};
  net n = make(I, H, O, skip, w);
  long Z = (skip ? I : 0) + H;
  double *p_ih = work, *p_hh = p_ih + H * H * I, *p_b = p_hh + H * H * H;
  double *q_ih = p_b + H * H, *q_hh = q_ih + H * H * I, *q_b = q_hh + H * H * H;
  double *h = q_b + H * H, *h_new = h + H, *d = h_new + H, *z = d + H, *delta = z + Z;
  double *dh = delta + O, *one = dh + H;
  memset(p_ih, 0, (H * H * I + H * H * H + H * H) * sizeof(double));
  memset(h, 0, H * sizeof(double));
  one[0] = 1;
  double total = 0;
  for (long t = 0; t < T; t++) {
    const double *xt = x + t * I;
    hidden(&n, xt, h, h_new);
    for (long k = 0; k < H; k++) d[k] = 1 - h_new[k] * h_new[k];
    propagate(H, H, whh, d, p_hh, h, q_hh);
    propagate(H, I, whh, d, p_ih, xt, q_ih);
    propagate(H, 1, whh, d, p_b, one, q_b);
    double *s;
    s = p_hh; p_hh = q_hh; q_hh = s;
    s = p_ih; p_ih = q_ih; q_ih = s;
    s = p_b; p_b = q_b; q_b = s;
    memcpy(h, h_new, H * sizeof(double));
    double *y = out + t * O;
    readout(&n, xt, h, z, y);
    if (!mask[t]) continue;
    total += output_error(&n, Z, y, target + t * O, delta, dh);
    apply_sensitivity(H, I, lr, dh, p_ih, wih, 0);
    apply_sensitivity(H, H, lr, dh, p_hh, whh, 0);
    apply_sensitivity(H, 1, lr, dh, p_b, bih, bhh);
    update_readout(&n, Z, lr, delta, z);
  }
  loss[0] = total;
}

/* Forward over T steps: hs (T + 1, H) with hs[0] = 0, out (T, O); z scratch (Z,). */
static void run_forward(const net *n, long T, const double *x, double *hs, double *out,
                        double *z) {
  memset(hs, 0, n->H * sizeof(double));
  for (long t = 0; t < T; t++) {
    hidden(n, x + t * n->I, hs + t * n->H, hs + (t + 1) * n->H);
    readout(n, x + t * n->I, hs + (t + 1) * n->H, z, out + t * n->O);
  }
}

/* Doubles of scratch backward_update needs. */
static long backward_work(const net *n) {
  long I = n->I, H = n->H, O = n->O, Z = (n->skip ? I : 0) + H;
  return H * I + H * H + H + O * Z + O + Z + O + 3 * H;
}

/* The gradient of sum_t mask_t sum_k (out_t[k] - target_t[k])^2 through every step (hs, out
   from run_forward), then one SGD update of every weight; returns that squared error. */
static double backward_update(const net *n, long T, const double *x, const double *target,
                              const unsigned char *mask, double lr, const double *hs,
                              const double *out, double *work) {
  long I = n->I, H = n->H, O = n->O, Z = (n->skip ? I : 0) + H;
  double *g_ih = work, *g_hh = g_ih + H * I, *g_b = g_hh + H * H, *g_v = g_b + H;
  double *g_c = g_v + O * Z, *z = g_c + O, *delta = z + Z, *dh = delta + O;
  double *carry = dh + H, *dpre = carry + H;
  memset(g_ih, 0, (H * I + H * H + H + O * Z + O) * sizeof(double));
  memset(carry, 0, H * sizeof(double));
  double total = 0;
  for (long t = T - 1; t >= 0; t--) {
    const double *xt = x + t * I, *ht = hs + (t + 1) * H, *hp = hs + t * H;
    if (mask[t]) {
      if (n->skip) memcpy(z, xt, I * sizeof(double));
      memcpy(z + Z - H, ht, H * sizeof(double));
      total += output_error(n, Z, out + t * O, target + t * O, delta, dh);
      long idx[Z];
      long nz = nonzero(z, Z, idx);
      for (long o = 0; o < O; o++) {
        for (long m = 0; m < nz; m++) g_v[o * Z + idx[m]] += delta[o] * z[idx[m]];
        g_c[o] += delta[o];
      }
    } else {
      memset(dh, 0, H * sizeof(double));
    }
    for (long k = 0; k < H; k++) dpre[k] = (dh[k] + carry[k]) * (1 - ht[k] * ht[k]);
    for (long k = 0; k < H; k++) {
      for (long j = 0; j < I; j++) g_ih[k * I + j] += dpre[k] * xt[j];
      for (long j = 0; j < H; j++) g_hh[k * H + j] += dpre[k] * hp[j];
      g_b[k] += dpre[k];
    }
    for (long j = 0; j < H; j++) {
      double s = 0;
      for (long k = 0; k < H; k++) s += n->whh[k * H + j] * dpre[k];
      carry[j] = s;
    }
  }
  for (long m = 0; m < H * I; m++) n->wih[m] -= lr * g_ih[m];
  for (long m = 0; m < H * H; m++) n->whh[m] -= lr * g_hh[m];
  for (long k = 0; k < H; k++) { n->bih[k] -= lr * g_b[k]; n->bhh[k] -= lr * g_b[k]; }
  for (long m = 0; m < O * Z; m++) n->v[m] -= lr * g_v[m];
  for (long o = 0; o < O; o++) n->c[o] -= lr * g_c[o];
  return total;
}

/* Full BPTT over the sequence, one update; arguments as fr_rtrl. */
void fr_bptt(long T, long I, long H, long O, long skip, const double *x, const double *target,
             const unsigned char *mask, double lr, double *wih, double *whh, double *bih,
             double *bhh, double *v, double *c, double *out, double *loss, double *work) {
  double *w[6] = {wih, whh, bih, bhh, v, c};
  net n = make(I, H, O, skip, w);
  double *hs = work, *rest = hs + (T + 1) * H;
  run_forward(&n, T, x, hs, out, rest);
  loss[0] = backward_update(&n, T, x, target, mask, lr, hs, out, rest);
}

/* BPTT(1), an update after every step with error; arguments as fr_rtrl. */
void fr_elman(long T, long I, long H, long O, long skip, const double *x, const double *target,
              const unsigned char *mask, double lr, double *wih, double *whh, double *bih,
              double *bhh, double *v, double *c, double *out, double *loss, double *work) {
  double *w[6] = {wih, whh, bih, bhh, v, c};
  net n = make(I, H, O, skip, w);
  long Z = (skip ? I : 0) + H;
  double *h = work, *h_new = h + H, *z = h_new + H, *delta = z + Z, *dh = delta + O;
  memset(h, 0, H * sizeof(double));
  double total = 0;
  for (long t = 0; t < T; t++) {
    const double *xt = x + t * I;
    double *y = out + t * O;
    hidden(&n, xt, h, h_new);
    readout(&n, xt, h_new, z, y);
    if (mask[t]) {
      total += output_error(&n, Z, y, target + t * O, delta, dh);
      for (long k = 0; k < H; k++) {
        double dpre = dh[k] * (1 - h_new[k] * h_new[k]);
        for (long j = 0; j < I; j++) wih[k * I + j] -= lr * dpre * xt[j];
        for (long j = 0; j < H; j++) whh[k * H + j] -= lr * dpre * h[j];
        bih[k] -= lr * dpre;
        bhh[k] -= lr * dpre;
      }
      update_readout(&n, Z, lr, delta, z);
    }
    memcpy(h, h_new, H * sizeof(double));
  }
  loss[0] = total;
}
"""

_P, _L, _D = native.POINTER, native.LONG, native.DOUBLE
_ARGUMENTS = [_L] * 5 + [_P] * 3 + [_D] + [_P] * 9
KINDS = ("rtrl", "bptt", "elman")


@cache
def load() -> ctypes.CDLL | None:
    """The compiled kernels (built on first use, then cached on disk), or None if unavailable."""
    return native.build_library("lstmlab_competitors", SOURCE,
                                {f"fr_{kind}": _ARGUMENTS for kind in KINDS})


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


def _work_size(kind: str, steps: int, width: int, hidden: int, outputs: int) -> int:
    """Scratch doubles each kernel needs (the layouts at the top of each C function)."""
    z = width + hidden
    if kind == "rtrl":
        return 2 * hidden * hidden * (width + hidden + 1) + 4 * hidden + z + outputs + 1
    if kind == "bptt":
        return ((steps + 1) * hidden + hidden * (width + hidden + 1) + outputs * z
                + 2 * outputs + z + 3 * hidden)
    return 3 * hidden + z + outputs


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
    loss = x.new_zeros(())
    work = x.new_empty(_work_size(kind, steps, width, hidden, outputs))
    getattr(library, f"fr_{kind}")(
        steps, width, hidden, outputs, int(skip), x.data_ptr(), target.data_ptr(),
        marks.data_ptr(), float(learning_rate), *(p.data_ptr() for p in params),
        out.data_ptr(), loss.data_ptr(), work.data_ptr())
    return loss, out
