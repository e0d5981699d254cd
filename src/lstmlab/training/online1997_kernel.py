"""[H97]'s online truncated-gradient algorithm (``lstmlab.training.online1997``) as one C loop.

The networks of the 1997 experiments are tiny (Exp. 1: 276 weights; Exp. 4: 93), so a step of
``online_sequence`` costs a few thousand flops but about forty torch operators, each with its own
dispatch and allocation: in torch a step takes ~0.3 ms, here a few microseconds. The loop below
computes the same equations, in the same order per step, as the readable torch code, which is
the reference: ``tests/training/test_online1997_kernel.py`` checks every output against it.

One call presents one sequence to every member: for k, for t, for b (see ``online_sequence`` for
the shapes and the equations). Members are independent (no reduction crosses k), so a member's
numbers do not depend on the population around it. A member whose mask is zero at step t for
every b has no error there and is skipped, and the input-to-output products and updates skip
inputs that are zero at that step for every b (one-hot inputs: Exp. 2a's 10,302 such weights
cost 101 operations per step); the readable code adds the exact zeros instead.

Squashing functions are passed as (kind, a, b): kind 0 the identity, kind 1 ``a * sigmoid + b``
(logistic: 1, 0; [H97]'s g: 4, -2; h: 2, -1), with derivative ``a * s (1 - s)``.
"""

from __future__ import annotations

import ctypes
from functools import cache

import torch
from torch import Tensor

from lstmlab import native
from lstmlab.cells.lstm1997 import G_1997, H_1997, IDENTITY, LOGISTIC, Squash

#: The squashing functions the kernel knows, as (kind, a, b).
SQUASH_CODES: dict[int, tuple[float, float, float]] = {
    id(IDENTITY): (0.0, 1.0, 0.0), id(LOGISTIC): (1.0, 1.0, 0.0),
    id(G_1997): (1.0, 4.0, -2.0), id(H_1997): (1.0, 2.0, -1.0)}

SOURCE = r"""
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { double kind, a, b; } squash;

static inline double sig(double x) { return 1 / (1 + exp(-x)); }
static inline double fn(const squash *q, double x) {
  return q->kind == 0 ? x : q->a * sig(x) + q->b;
}
static inline double dfn(const squash *q, double x) {
  if (q->kind == 0) return 1;
  double s = sig(x);
  return q->a * (s * (1 - s));
}

/* dims: T K B I C S O recurrent output_gate has_bias has_io has_bo mode (0 step, 1 sequence,
   2 none); sq: g, h, f_k as 3 x (kind, a, b). Weights (K, ...) are updated in place; grads
   (K, ...) receive sum_t of -dE(t)/dw (the descent direction); outputs (T, K, B, O);
   loss (K,). trainable masks (K, ...) or NULL; colmask (R, M). */
void online1997_d(const long *dims, const double *sq, const double *inputs,
    const double *targets, const double *mask, const double *alpha, double *W, double *Who,
    double *Wio, double *bo, const double *colmask, const double *tW, const double *tho,
    const double *tio, const double *tbo, double *gW, double *gho, double *gio, double *gbo,
    double *outputs, double *loss) {
  const long T = dims[0], K = dims[1], B = dims[2], I = dims[3], C = dims[4], S = dims[5],
      O = dims[6], recurrent = dims[7], og = dims[8], has_bias = dims[9], has_io = dims[10],
      has_bo = dims[11], mode = dims[12];
  const squash *g = (const squash *)sq, *h = g + 1, *f = g + 2;
  const long H = C * S, R = C + H + (og ? C : 0), M = I + (recurrent ? R : 0) + has_bias;
  /* per (b): z (M), net (R), y_in (C), y_out (C), gc (H), s (H), hs (H), yc (H), netk (O),
     yk (O), ek (O), es (H), eout (C), trace_in (H*M), trace_cell (H*M) */
  const long per_b = M + R + 2 * C + 5 * H + 3 * O + C + 2 * H * M;
  double *work = malloc(sizeof(double) * (B * per_b + R * M + O * H + O * I + O));
  /* the inputs nonzero at this step for some b: the input-to-output products and updates
     skip the others (one-hot inputs: Exp. 2a's 101 x 101 weights cost 101 per step) */
  long *nz = malloc(sizeof(long) * (I > 0 ? I : 1)), n_nz = 0;
  for (long k = 0; k < K; k++) {
    double *Wk = W + k * R * M, *Whok = Who + k * O * H;
    double *Wiok = has_io ? Wio + k * O * I : NULL, *bok = has_bo ? bo + k * O : NULL;
    double *gWk = gW + k * R * M, *ghok = gho + k * O * H;
    double *giok = has_io ? gio + k * O * I : NULL, *gbok = has_bo ? gbo + k * O : NULL;
    double *stW = work + B * per_b, *stho = stW + R * M, *stio = stho + O * H,
           *stbo = stio + O * I;
    const double ak = alpha[k];
    memset(work, 0, sizeof(double) * B * per_b);
    for (long b = 0; b < B; b++) {  /* y_out = 1 without output gates */
      double *y_out = work + b * per_b + M + R + C;
      for (long j = 0; j < C; j++) y_out[j] = og ? 0 : 1;
    }
    loss[k] = 0;
    for (long t = 0; t < T; t++) {
      int error = 0;
      n_nz = 0;
      for (long i = 0; i < I; i++) {
        int any = 0;
        for (long b = 0; b < B; b++) any |= inputs[((t * K + k) * B + b) * I + i] != 0;
        if (any) nz[n_nz++] = i;
      }
      for (long b = 0; b < B; b++) {
        double *z = work + b * per_b, *net = z + M, *y_in = net + R, *y_out = y_in + C,
               *gc = y_out + C, *s = gc + H, *hs = s + H, *yc = hs + H, *netk = yc + H,
               *yk = netk + O, *ek = yk + O, *es = ek + O, *eout = es + H,
               *tr_in = eout + C, *tr_cell = tr_in + H * M;
        const double *x = inputs + ((t * K + k) * B + b) * I;
        /* z(t) = [x(t), y^in(t-1), y^c(t-1), y^out(t-1), 1] */
        long m = 0;
        for (long i = 0; i < I; i++) z[m++] = x[i];
        if (recurrent) {
          for (long j = 0; j < C; j++) z[m++] = y_in[j];
          for (long c = 0; c < H; c++) z[m++] = yc[c];
          if (og) for (long j = 0; j < C; j++) z[m++] = y_out[j];
        }
        if (has_bias) z[m++] = 1;
        for (long r = 0; r < R; r++) {
          const double *w = Wk + r * M;
          double acc = 0;
          for (long q = 0; q < M; q++) acc += z[q] * w[q];
          net[r] = acc;
        }
        for (long j = 0; j < C; j++) {
          y_in[j] = sig(net[j]);
          if (og) y_out[j] = sig(net[C + H + j]);
        }
        for (long j = 0; j < C; j++) {
          const double din = y_in[j] * (1 - y_in[j]);
          for (long v = 0; v < S; v++) {
            const long c = j * S + v;
            const double netc = net[C + c];
            gc[c] = fn(g, netc);
            s[c] = s[c] + y_in[j] * gc[c];
            hs[c] = fn(h, s[c]);
            yc[c] = y_out[j] * hs[c];
            /* traces (eqs. 25, 27) */
            const double a_in = gc[c] * din, a_cell = y_in[j] * dfn(g, netc);
            double *ti = tr_in + c * M, *tc = tr_cell + c * M;
            for (long q = 0; q < M; q++) { ti[q] += a_in * z[q]; tc[q] += a_cell * z[q]; }
          }
        }
        double *out = outputs + ((t * K + k) * B + b) * O;
        for (long o = 0; o < O; o++) {
          double acc = 0;
          for (long c = 0; c < H; c++) acc += yc[c] * Whok[o * H + c];
          if (has_io) {
            double acc_io = 0;
            for (long n = 0; n < n_nz; n++) acc_io += x[nz[n]] * Wiok[o * I + nz[n]];
            acc = acc + acc_io;
          }
          if (has_bo) acc = acc + bok[o];
          netk[o] = acc;
          yk[o] = fn(f, acc);
          out[o] = yk[o];
        }
        if (mask[(t * K + k) * B + b] != 0) error = 1;
      }
      if (!error) continue;
      /* backward pass, truncated (eqs. 19-28) */
      memset(stW, 0, sizeof(double) * (R * M + O * H));
      memset(stbo, 0, sizeof(double) * O);
      if (has_io)
        for (long o = 0; o < O; o++) for (long n = 0; n < n_nz; n++) stio[o * I + nz[n]] = 0;
      for (long b = 0; b < B; b++) {
        double *z = work + b * per_b, *net = z + M, *y_in = net + R, *y_out = y_in + C,
               *gc = y_out + C, *s = gc + H, *hs = s + H, *yc = hs + H, *netk = yc + H,
               *yk = netk + O, *ek = yk + O, *es = ek + O, *eout = es + H,
               *tr_in = eout + C, *tr_cell = tr_in + H * M;
        const double *x = inputs + ((t * K + k) * B + b) * I;
        const double *tg = targets + ((t * K + k) * B + b) * O;
        const double mk = mask[(t * K + k) * B + b];
        (void)gc;
        double sq_sum = 0;
        for (long o = 0; o < O; o++) {
          const double miss = (tg[o] - yk[o]) * mk;
          sq_sum += miss * miss;
          ek[o] = dfn(f, netk[o]) * miss;
        }
        loss[k] += 0.5 * sq_sum;
        for (long j = 0; j < C; j++) {
          double acc_out = 0;
          for (long v = 0; v < S; v++) {
            const long c = j * S + v;
            double delta = 0;
            for (long o = 0; o < O; o++) delta += ek[o] * Whok[o * H + c];
            es[c] = y_out[j] * dfn(h, s[c]) * delta;
            acc_out += hs[c] * delta;
          }
          eout[j] = y_out[j] * (1 - y_out[j]) * acc_out;
        }
        for (long j = 0; j < C; j++) {
          double *row_in = stW + j * M;
          for (long v = 0; v < S; v++) {
            const long c = j * S + v;
            const double *ti = tr_in + c * M, *tc = tr_cell + c * M;
            double *row_c = stW + (C + c) * M;
            for (long q = 0; q < M; q++) { row_in[q] += es[c] * ti[q]; row_c[q] += es[c] * tc[q]; }
          }
          if (og) {
            double *row_out = stW + (C + H + j) * M;
            for (long q = 0; q < M; q++) row_out[q] += eout[j] * z[q];
          }
        }
        for (long o = 0; o < O; o++) {
          for (long c = 0; c < H; c++) stho[o * H + c] += ek[o] * yc[c];
          if (has_io)
            for (long n = 0; n < n_nz; n++) stio[o * I + nz[n]] += ek[o] * x[nz[n]];
          if (has_bo) stbo[o] += ek[o];
        }
      }
      for (long q = 0; q < R * M; q++) stW[q] *= colmask[q];
      for (long q = 0; q < R * M; q++) gWk[q] += stW[q];
      for (long q = 0; q < O * H; q++) ghok[q] += stho[q];
      if (has_io)
        for (long o = 0; o < O; o++)
          for (long n = 0; n < n_nz; n++) giok[o * I + nz[n]] += stio[o * I + nz[n]];
      if (has_bo) for (long q = 0; q < O; q++) gbok[q] += stbo[q];
      if (mode == 0) {
        const double *m1 = tW ? tW + k * R * M : NULL, *m2 = tho ? tho + k * O * H : NULL;
        const double *m3 = tio ? tio + k * O * I : NULL, *m4 = tbo ? tbo + k * O : NULL;
        for (long q = 0; q < R * M; q++) Wk[q] += m1 ? ak * stW[q] * m1[q] : ak * stW[q];
        for (long q = 0; q < O * H; q++) Whok[q] += m2 ? ak * stho[q] * m2[q] : ak * stho[q];
        if (has_io)
          for (long o = 0; o < O; o++)
            for (long n = 0; n < n_nz; n++) {
              const long q = o * I + nz[n];
              Wiok[q] += m3 ? ak * stio[q] * m3[q] : ak * stio[q];
            }
        if (has_bo)
          for (long q = 0; q < O; q++) bok[q] += m4 ? ak * stbo[q] * m4[q] : ak * stbo[q];
      }
    }
  }
  free(work);
  free(nz);
}
"""

_P = native.POINTER
_SIGNATURES = {"online1997_d": [_P] * 21}


@cache
def load() -> ctypes.CDLL | None:
    """The compiled loop (built on first use, then cached on disk), or None if unavailable."""
    return native.build_library("lstmlab_online1997", SOURCE, _SIGNATURES)


def squash_code(squash: Squash) -> tuple[float, float, float] | None:
    """(kind, a, b) of a squashing function the kernel knows, else None."""
    return SQUASH_CODES.get(id(squash))


def available(dtype: torch.dtype, device: torch.device, squashes: tuple[Squash, ...]) -> bool:
    """Whether the kernel can run: float64 on the CPU, known squashing functions, built."""
    return (dtype == torch.float64 and device.type == "cpu"
            and all(squash_code(q) is not None for q in squashes) and load() is not None)


def run(dims: tuple[int, ...], squashes: tuple[Squash, ...], tensors: list[Tensor | None]) -> None:
    """Call the kernel: ``dims`` (T, K, B, I, C, S, O, recurrent, output_gate, has_bias,
    has_io, has_bo, mode); ``tensors`` in the C signature's order after ``sq`` (contiguous
    float64 CPU tensors, or None for NULL)."""
    library = load()
    if library is None:
        raise RuntimeError("the online1997 kernel is not available (no C compiler?)")
    dims_t = torch.tensor(dims, dtype=torch.long)
    sq = torch.tensor([v for q in squashes for v in squash_code(q)], dtype=torch.float64)
    for tensor in tensors:
        if tensor is not None and not (tensor.is_contiguous() and tensor.dtype == torch.float64):
            raise ValueError("online1997 kernel: expected contiguous float64 tensors")
    library.online1997_d(dims_t.data_ptr(), sq.data_ptr(),
                         *(t.data_ptr() if t is not None else None for t in tensors))
