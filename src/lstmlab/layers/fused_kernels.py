"""The gate math of one step, forward and backward, as small C loops: one call per step.

The fast path (``lstmlab.layers.fused``) does a step of a variant cell as one matrix product
(torch) and one call of a kernel below, instead of ten or so small torch operations, each with
its own dispatch, allocation and pass over memory. The kernels compute exactly the equations of
the cells' docstrings (``lstmlab.cells.peephole``, ``cifg``, ``lstm1997``); the backward kernels
are their derivatives, written out. Shapes: B batch, H hidden, G gate rows (4H peephole, 3H
CIFG, R = 2C + H for the 1997 cell: C blocks of S cells), all row-major and contiguous.

Building: ``lstmlab.native`` (compiled once per machine, cached; ``load()`` returns None
when no compiler or libmvec is there and the caller falls back to the readable path).
"""

from __future__ import annotations

import ctypes
from functools import cache

import torch
from torch import Tensor

from lstmlab import native

_HEADER = r"""
#include <math.h>
/* glibc's vector variants (libmvec), declared as <math.h> does under -ffast-math */
__attribute__((__simd__("notinbranch"))) float expf(float);
__attribute__((__simd__("notinbranch"))) float tanhf(float);
__attribute__((__simd__("notinbranch"))) double exp(double);
__attribute__((__simd__("notinbranch"))) double tanh(double);
"""

# Compiled twice: real = float (suffix _f) and real = double (suffix _d).
_BODY = r"""
static inline real NAME(sig)(real x) { return 1 / (1 + EXP(-x)); }

/* peephole: xg (B, 4H) in: the input part of pre (x_t @ weight_ih.T + bias), out: the gates
   i, f, g, o (in place: a step's input part is not needed after the step); p (3, H) = p_i, p_f,
   p_o; rec (B, 4H) = h_{t-1} @ weight_hh.T. */
void NAME(peephole_forward)(long B, long H, real *restrict xg, const real *restrict rec,
    const real *restrict c_prev, const real *restrict p, real *restrict c, real *restrict h) {
  for (long b = 0; b < B; b++) {
    const real *r = rec + b * 4 * H, *cp = c_prev + b * H;
    real *q = xg + b * 4 * H, *cb = c + b * H, *hb = h + b * H;
    const real *x = q;
    for (long j = 0; j < H; j++) {
      real i = NAME(sig)(x[j] + r[j] + p[j] * cp[j]);
      real f = NAME(sig)(x[H + j] + r[H + j] + p[H + j] * cp[j]);
      real g = TANH(x[2 * H + j] + r[2 * H + j]);
      real cc = f * cp[j] + i * g;
      real o = NAME(sig)(x[3 * H + j] + r[3 * H + j] + p[2 * H + j] * cc);
      q[j] = i; q[H + j] = f; q[2 * H + j] = g; q[3 * H + j] = o;
      cb[j] = cc; hb[j] = o * TANH(cc);
    }
  }
}

/* dy, dyr: dL/dh_t from the outputs and from step t+1; dce: dL/dc_t from outside; dc: in
   dL/dc_t carried from step t+1, out dL/dc_{t-1}; full = 0 detaches the peepholes' c. */
void NAME(peephole_backward)(long B, long H, const real *restrict dy, const real *restrict dyr,
    const real *restrict dce, real *restrict dc, const real *restrict gates,
    const real *restrict c, const real *restrict c_prev, const real *restrict p, double full,
    real *restrict dpre) {
  for (long b = 0; b < B; b++) {
    const real *q = gates + b * 4 * H, *cb = c + b * H, *cp = c_prev + b * H;
    const real *d1 = dy + b * H, *d2 = dyr + b * H, *d3 = dce + b * H;
    real *dcb = dc + b * H, *da = dpre + b * 4 * H;
    for (long j = 0; j < H; j++) {
      real i = q[j], f = q[H + j], g = q[2 * H + j], o = q[3 * H + j];
      real tc = TANH(cb[j]), dh = d1[j] + d2[j];
      real ao = dh * tc * o * (1 - o);
      real dcc = dcb[j] + d3[j] + dh * o * (1 - tc * tc) + (real)full * ao * p[2 * H + j];
      real ai = dcc * g * i * (1 - i), af = dcc * cp[j] * f * (1 - f);
      da[j] = ai; da[H + j] = af; da[2 * H + j] = dcc * i * (1 - g * g); da[3 * H + j] = ao;
      dcb[j] = dcc * f + (real)full * (ai * p[j] + af * p[H + j]);
    }
  }
}

/* CIFG: xg (B, 3H) in: input part, out: gates i, g, o (f = 1 - i); p (2, H) = p_i, p_o (zeros
   without peepholes) */
void NAME(cifg_forward)(long B, long H, real *restrict xg, const real *restrict rec,
    const real *restrict c_prev, const real *restrict p, real *restrict c, real *restrict h) {
  for (long b = 0; b < B; b++) {
    const real *r = rec + b * 3 * H, *cp = c_prev + b * H;
    real *q = xg + b * 3 * H, *cb = c + b * H, *hb = h + b * H;
    const real *x = q;
    for (long j = 0; j < H; j++) {
      real i = NAME(sig)(x[j] + r[j] + p[j] * cp[j]);
      real g = TANH(x[H + j] + r[H + j]);
      real cc = (1 - i) * cp[j] + i * g;
      real o = NAME(sig)(x[2 * H + j] + r[2 * H + j] + p[H + j] * cc);
      q[j] = i; q[H + j] = g; q[2 * H + j] = o;
      cb[j] = cc; hb[j] = o * TANH(cc);
    }
  }
}

void NAME(cifg_backward)(long B, long H, const real *restrict dy, const real *restrict dyr,
    const real *restrict dce, real *restrict dc, const real *restrict gates,
    const real *restrict c, const real *restrict c_prev, const real *restrict p,
    real *restrict dpre) {
  for (long b = 0; b < B; b++) {
    const real *q = gates + b * 3 * H, *cb = c + b * H, *cp = c_prev + b * H;
    const real *d1 = dy + b * H, *d2 = dyr + b * H, *d3 = dce + b * H;
    real *dcb = dc + b * H, *da = dpre + b * 3 * H;
    for (long j = 0; j < H; j++) {
      real i = q[j], g = q[H + j], o = q[2 * H + j];
      real tc = TANH(cb[j]), dh = d1[j] + d2[j];
      real ao = dh * tc * o * (1 - o);
      real dcc = dcb[j] + d3[j] + dh * o * (1 - tc * tc) + ao * p[H + j];
      real ai = dcc * (g - cp[j]) * i * (1 - i);
      da[j] = ai; da[H + j] = dcc * i * (1 - g * g); da[2 * H + j] = ao;
      dcb[j] = dcc * (1 - i) + ai * p[j];
    }
  }
}

/* The 1997 cell. xy (B, R), R = C + H (+ C with output gates), in: the input part of pre, out:
   y = [i, h, o] (in place); saved g, c (B, H). A squash is a * sig(x) + s, or the identity
   when lin != 0. */
/* Branch-free (so the loops vectorize): lin is 0 or 1. The value and the derivative of a
   squash at net x, with sx = sig(x). */
#define SQ(x, sx, a, s, lin) ((lin) * (x) + (1 - (lin)) * ((a) * (sx) + (s)))
#define SQD(sx, a, lin) ((lin) + (1 - (lin)) * (a) * (sx) * (1 - (sx)))
/* The cell loops, written once for block index K (j when S = 1, so the loop vectorizes; j / S
   otherwise) and output gate O (o of block K, or 1 without output gates). */
#define FORWARD_CELLS(K, O) for (long j = 0; j < H; j++) { \
      real net = x[C + j] + r[C + j]; \
      real g = SQ(net, NAME(sig)(net), ga_, gs_, gl_); \
      real cc = cp[j] + yb[K] * g; \
      gb[j] = g; cb[j] = cc; yb[C + j] = (O) * SQ(cc, NAME(sig)(cc), ha_, hs_, hl_); }
void NAME(lstm1997_forward)(long B, long C, long S, long R, long out, real *restrict xy,
    const real *restrict rec, const real *restrict c_prev, double ga, double gs, long glin,
    double ha, double hs, long hlin, real *restrict gsave, real *restrict c) {
  long H = C * S;
  real ga_ = ga, gs_ = gs, gl_ = glin, ha_ = ha, hs_ = hs, hl_ = hlin;
  for (long b = 0; b < B; b++) {
    const real *r = rec + b * R, *cp = c_prev + b * H;
    real *yb = xy + b * R, *gb = gsave + b * H, *cb = c + b * H;
    const real *x = yb;
    for (long k = 0; k < C; k++) {
      yb[k] = NAME(sig)(x[k] + r[k]);
      if (out) yb[C + H + k] = NAME(sig)(x[C + H + k] + r[C + H + k]);
    }
    if (out && S == 1) FORWARD_CELLS(j, yb[C + H + j])
    else if (out) FORWARD_CELLS(j / S, yb[C + H + j / S])
    else if (S == 1) FORWARD_CELLS(j, 1)
    else FORWARD_CELLS(j / S, 1)
  }
}

/* dy, dyr (B, R): dL/dy_t from the outputs and from step t+1; dce: dL/dc_t from outside; dc: in
   dL/dc_t carried from step t+1, out dL/dc_{t-1} (the CEC passes it through unchanged). */
#define BACKWARD_CELLS(K, O, DO) for (long j = 0; j < H; j++) { \
      real dh = d1[C + j] + d2[C + j], cc = cb[j], g = gb[j]; \
      real sc = NAME(sig)(cc), sg = (g - gs_) / ga_; \
      DO; \
      real dcc = dcb[j] + d3[j] + dh * (O) * SQD(sc, ha_, hl_); \
      da[K] += dcc * g; \
      da[C + j] = dcc * yb[K] * SQD(sg, ga_, gl_); \
      dcb[j] = dcc; }
void NAME(lstm1997_backward)(long B, long C, long S, long R, long out, const real *restrict dy,
    const real *restrict dyr, const real *restrict dce, real *restrict dc,
    const real *restrict y, const real *restrict gsave, const real *restrict c, double ga,
    double gs, long glin, double ha, double hs, long hlin, real *restrict dpre) {
  long H = C * S;
  real ga_ = ga, gs_ = gs, gl_ = glin, ha_ = ha, hs_ = hs, hl_ = hlin;
  for (long b = 0; b < B; b++) {
    const real *d1 = dy + b * R, *d2 = dyr + b * R, *d3 = dce + b * H, *yb = y + b * R;
    const real *gb = gsave + b * H, *cb = c + b * H;
    real *dcb = dc + b * H, *da = dpre + b * R;
    for (long k = 0; k < C; k++) {
      da[k] = d1[k] + d2[k];
      if (out) da[C + H + k] = d1[C + H + k] + d2[C + H + k];
    }
    /* h = o * h(c): dL/do gets dh * h(c) */
    if (out && S == 1)
      BACKWARD_CELLS(j, yb[C + H + j], da[C + H + j] += dh * SQ(cc, sc, ha_, hs_, hl_))
    else if (out)
      BACKWARD_CELLS(j / S, yb[C + H + j / S], da[C + H + j / S] += dh * SQ(cc, sc, ha_, hs_, hl_))
    else if (S == 1) BACKWARD_CELLS(j, 1, (void)0)
    else BACKWARD_CELLS(j / S, 1, (void)0)
    for (long k = 0; k < C; k++) {
      da[k] *= yb[k] * (1 - yb[k]);
      if (out) da[C + H + k] *= yb[C + H + k] * (1 - yb[C + H + k]);
    }
  }
}
#undef FORWARD_CELLS
#undef BACKWARD_CELLS
#undef SQD

/* out (B, N) = x (B, K) @ m (K, N): the per-step product for small layers, where a call into
   a BLAS costs more than the arithmetic. Rows of m are read contiguously (axpy form). */
static void NAME(small_matmul)(long B, long N, long K, const real *restrict x,
    const real *restrict m, real *restrict out) {
  for (long b = 0; b < B; b++) {
    real *o = out + b * N;
    for (long n = 0; n < N; n++) o[n] = 0;
    for (long k = 0; k < K; k++) {
      real a = x[b * K + k];
      const real *row = m + k * N;
      for (long n = 0; n < N; n++) o[n] += a * row[n];
    }
  }
}

/* Whole sequences for small layers: the per-step loops of fused.py, in C. wt = weight_hh.T
   (R, G) for the forward product, w = weight_hh (G, R) for the backward one; NULL: no
   recurrent product (the 1997 cell without recurrence, or with truncated gradients). rec, dyr:
   scratch (B, G) and (B, R), dyr zeroed by the caller; on return dyr = dL/dy_0, dc = dL/dc_0. */
void NAME(peephole_sequence)(long T, long B, long H, real *xg, const real *wt,
    const real *y0, const real *c0, const real *p, real *rec, real *c, real *h) {
  long G = 4 * H;
  for (long t = 0; t < T; t++) {
    const real *yp = t ? h + (t - 1) * B * H : y0, *cp = t ? c + (t - 1) * B * H : c0;
    NAME(small_matmul)(B, G, H, yp, wt, rec);
    NAME(peephole_forward)(B, H, xg + t * B * G, rec, cp, p, c + t * B * H, h + t * B * H);
  }
}

void NAME(peephole_sequence_backward)(long T, long B, long H, const real *w, const real *dy,
    const real *dce, real *dc, real *dyr, const real *gates, const real *c,
    const real *c0, const real *p, double full, real *dpre) {
  long G = 4 * H;
  for (long t = T - 1; t >= 0; t--) {
    const real *cp = t ? c + (t - 1) * B * H : c0;
    NAME(peephole_backward)(B, H, dy + t * B * H, dyr, dce + t * B * H, dc, gates + t * B * G,
                            c + t * B * H, cp, p, full, dpre + t * B * G);
    NAME(small_matmul)(B, H, G, dpre + t * B * G, w, dyr);
  }
}

void NAME(cifg_sequence)(long T, long B, long H, real *xg, const real *wt,
    const real *y0, const real *c0, const real *p, real *rec, real *c, real *h) {
  long G = 3 * H;
  for (long t = 0; t < T; t++) {
    const real *yp = t ? h + (t - 1) * B * H : y0, *cp = t ? c + (t - 1) * B * H : c0;
    NAME(small_matmul)(B, G, H, yp, wt, rec);
    NAME(cifg_forward)(B, H, xg + t * B * G, rec, cp, p, c + t * B * H, h + t * B * H);
  }
}

void NAME(cifg_sequence_backward)(long T, long B, long H, const real *w, const real *dy,
    const real *dce, real *dc, real *dyr, const real *gates, const real *c,
    const real *c0, const real *p, real *dpre) {
  long G = 3 * H;
  for (long t = T - 1; t >= 0; t--) {
    const real *cp = t ? c + (t - 1) * B * H : c0;
    NAME(cifg_backward)(B, H, dy + t * B * H, dyr, dce + t * B * H, dc, gates + t * B * G,
                        c + t * B * H, cp, p, dpre + t * B * G);
    NAME(small_matmul)(B, H, G, dpre + t * B * G, w, dyr);
  }
}

void NAME(lstm1997_sequence)(long T, long B, long C, long S, long R, long out, real *xy,
    const real *wt, const real *y0, const real *c0, double ga, double gs, long glin, double ha,
    double hs, long hlin, real *rec, real *gsave, real *c) {
  long H = C * S;
  for (long n = 0; n < B * R; n++) rec[n] = 0;
  for (long t = 0; t < T; t++) {
    const real *yp = t ? xy + (t - 1) * B * R : y0, *cp = t ? c + (t - 1) * B * H : c0;
    if (wt) NAME(small_matmul)(B, R, R, yp, wt, rec);
    NAME(lstm1997_forward)(B, C, S, R, out, xy + t * B * R, rec, cp, ga, gs, glin, ha, hs,
                           hlin, gsave + t * B * H, c + t * B * H);
  }
}

void NAME(lstm1997_sequence_backward)(long T, long B, long C, long S, long R, long out,
    const real *w, const real *dy, const real *dce, real *dc, real *dyr, const real *y,
    const real *gsave, const real *c, double ga, double gs, long glin, double ha, double hs,
    long hlin, real *dpre) {
  long H = C * S;
  for (long t = T - 1; t >= 0; t--) {
    NAME(lstm1997_backward)(B, C, S, R, out, dy + t * B * R, dyr, dce + t * B * H, dc,
                            y + t * B * R, gsave + t * B * H, c + t * B * H, ga, gs, glin, ha,
                            hs, hlin, dpre + t * B * R);
    if (w) NAME(small_matmul)(B, R, R, dpre + t * B * R, w, dyr);
  }
}
#undef SQ
"""

_VARIANTS = {
    torch.float32: "#define real float\n#define NAME(n) n##_f\n"
                   "#define EXP expf\n#define TANH tanhf\n",
    torch.float64: "#define real double\n#define NAME(n) n##_d\n"
                   "#define EXP exp\n#define TANH tanh\n",
}
_UNDEF = "#undef real\n#undef NAME\n#undef EXP\n#undef TANH\n"
SOURCE = _HEADER + "".join(defines + _BODY + _UNDEF for defines in _VARIANTS.values())
_P, _L, _D = native.POINTER, native.LONG, native.DOUBLE
_SIGNATURES = {
    "peephole_forward": [_L, _L, _P, _P, _P, _P, _P, _P],
    "peephole_backward": [_L, _L, _P, _P, _P, _P, _P, _P, _P, _P, _D, _P],
    "cifg_forward": [_L, _L, _P, _P, _P, _P, _P, _P],
    "cifg_backward": [_L, _L, _P, _P, _P, _P, _P, _P, _P, _P, _P],
    "lstm1997_forward": [_L] * 5 + [_P] * 3 + [_D, _D, _L, _D, _D, _L] + [_P] * 2,
    "lstm1997_backward": [_L] * 5 + [_P] * 7 + [_D, _D, _L, _D, _D, _L] + [_P],
    "peephole_sequence": [_L] * 3 + [_P] * 8,
    "peephole_sequence_backward": [_L] * 3 + [_P] * 9 + [_D, _P],
    "cifg_sequence": [_L] * 3 + [_P] * 8,
    "cifg_sequence_backward": [_L] * 3 + [_P] * 10,
    "lstm1997_sequence": [_L] * 6 + [_P] * 4 + [_D, _D, _L, _D, _D, _L] + [_P] * 3,
    "lstm1997_sequence_backward": [_L] * 6 + [_P] * 8 + [_D, _D, _L, _D, _D, _L] + [_P],
}


@cache
def load() -> ctypes.CDLL | None:
    """The compiled kernels (built on first use, then cached on disk), or None if unavailable."""
    return native.build_library("lstmlab_kernels", SOURCE, {
        name + suffix: arguments for name, arguments in _SIGNATURES.items()
        for suffix in ("_f", "_d")})


def kernel(name: str, dtype: torch.dtype):
    """The C function ``name`` for ``dtype`` (float32 or float64); None if unavailable."""
    library = load()
    if library is None or dtype not in _VARIANTS:
        return None
    return getattr(library, name + ("_f" if dtype == torch.float32 else "_d"))


def ptr(tensor: Tensor) -> int:
    """The address of a contiguous CPU tensor, for a kernel argument."""
    return tensor.data_ptr()
