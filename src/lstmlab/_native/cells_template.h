/* The body of cells.c, included once per real type (float, double): see cells.c. */
static inline real NAME(sig)(real x) { return 1 / (1 + EXP(-x)); }

/* peephole: xg (B, 4H) in: the input part of pre (x_t @ weight_ih.T + bias), out: the gates
   i, f, g, o (in place: a step's input part is not needed after the step); p (3, H) = p_i, p_f,
   p_o; rec (B, 4H) = h_{t-1} @ weight_hh.T. */
LSTMLAB_EXPORT void NAME(peephole_forward)(long B, long H, real xg[restrict B * 4 * H],
    const real rec[restrict B * 4 * H], const real c_prev[restrict B * H],
    const real p[restrict 3 * H], real c[restrict B * H], real h[restrict B * H]) {
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
LSTMLAB_EXPORT void NAME(peephole_backward)(long B, long H, const real dy[restrict B * H],
    const real dyr[restrict B * H], const real dce[restrict B * H], real dc[restrict B * H],
    const real gates[restrict B * 4 * H], const real c[restrict B * H],
    const real c_prev[restrict B * H], const real p[restrict 3 * H], double full,
    real dpre[restrict B * 4 * H]) {
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
LSTMLAB_EXPORT void NAME(cifg_forward)(long B, long H, real xg[restrict B * 3 * H],
    const real rec[restrict B * 3 * H], const real c_prev[restrict B * H],
    const real p[restrict 2 * H], real c[restrict B * H], real h[restrict B * H]) {
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

LSTMLAB_EXPORT void NAME(cifg_backward)(long B, long H, const real dy[restrict B * H],
    const real dyr[restrict B * H], const real dce[restrict B * H], real dc[restrict B * H],
    const real gates[restrict B * 3 * H], const real c[restrict B * H],
    const real c_prev[restrict B * H], const real p[restrict 2 * H],
    real dpre[restrict B * 3 * H]) {
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
LSTMLAB_EXPORT void NAME(lstm1997_forward)(long B, long C, long S, long out,
    real xy[restrict B * (C + C * S + out * C)], const real rec[restrict B * (C + C * S + out * C)],
    const real c_prev[restrict B * C * S], double ga, double gs, long glin, double ha,
    double hs, long hlin, real gsave[restrict B * C * S], real c[restrict B * C * S]) {
  const long H = C * S, R = C + H + out * C;
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
LSTMLAB_EXPORT void NAME(lstm1997_backward)(long B, long C, long S, long out,
    const real dy[restrict B * (C + C * S + out * C)], const real dyr[restrict B * (C + C * S + out * C)],
    const real dce[restrict B * C * S], real dc[restrict B * C * S],
    const real y[restrict B * (C + C * S + out * C)], const real gsave[restrict B * C * S],
    const real c[restrict B * C * S], double ga, double gs, long glin, double ha, double hs,
    long hlin, real dpre[restrict B * (C + C * S + out * C)]) {
  const long H = C * S, R = C + H + out * C;
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

/* Whole sequences for small layers: the per-step loops of compiled.py, in C. wt = weight_hh.T
   (R, G) for the forward product, w = weight_hh (G, R) for the backward one; NULL: no
   recurrent product (the 1997 cell without recurrence, or with truncated gradients). rec, dyr:
   scratch (B, G) and (B, R), dyr zeroed by the caller; on return dyr = dL/dy_0, dc = dL/dc_0. */
LSTMLAB_EXPORT void NAME(peephole_sequence)(long T, long B, long H, real xg[T * B * 4 * H],
    const real wt[H * 4 * H], const real y0[B * H], const real c0[B * H], const real p[3 * H],
    real rec[B * 4 * H], real c[T * B * H], real h[T * B * H]) {
  long G = 4 * H;
  for (long t = 0; t < T; t++) {
    const real *yp = t ? h + (t - 1) * B * H : y0, *cp = t ? c + (t - 1) * B * H : c0;
    NAME(small_matmul)(B, G, H, yp, wt, rec);
    NAME(peephole_forward)(B, H, xg + t * B * G, rec, cp, p, c + t * B * H, h + t * B * H);
  }
}

LSTMLAB_EXPORT void NAME(peephole_sequence_backward)(long T, long B, long H,
    const real w[4 * H * H], const real dy[T * B * H], const real dce[T * B * H],
    real dc[B * H], real dyr[B * H], const real gates[T * B * 4 * H], const real c[T * B * H],
    const real c0[B * H], const real p[3 * H], double full, real dpre[T * B * 4 * H]) {
  long G = 4 * H;
  for (long t = T - 1; t >= 0; t--) {
    const real *cp = t ? c + (t - 1) * B * H : c0;
    NAME(peephole_backward)(B, H, dy + t * B * H, dyr, dce + t * B * H, dc, gates + t * B * G,
                            c + t * B * H, cp, p, full, dpre + t * B * G);
    NAME(small_matmul)(B, H, G, dpre + t * B * G, w, dyr);
  }
}

LSTMLAB_EXPORT void NAME(cifg_sequence)(long T, long B, long H, real xg[T * B * 3 * H],
    const real wt[H * 3 * H], const real y0[B * H], const real c0[B * H], const real p[2 * H],
    real rec[B * 3 * H], real c[T * B * H], real h[T * B * H]) {
  long G = 3 * H;
  for (long t = 0; t < T; t++) {
    const real *yp = t ? h + (t - 1) * B * H : y0, *cp = t ? c + (t - 1) * B * H : c0;
    NAME(small_matmul)(B, G, H, yp, wt, rec);
    NAME(cifg_forward)(B, H, xg + t * B * G, rec, cp, p, c + t * B * H, h + t * B * H);
  }
}

LSTMLAB_EXPORT void NAME(cifg_sequence_backward)(long T, long B, long H,
    const real w[3 * H * H], const real dy[T * B * H], const real dce[T * B * H],
    real dc[B * H], real dyr[B * H], const real gates[T * B * 3 * H], const real c[T * B * H],
    const real c0[B * H], const real p[2 * H], real dpre[T * B * 3 * H]) {
  long G = 3 * H;
  for (long t = T - 1; t >= 0; t--) {
    const real *cp = t ? c + (t - 1) * B * H : c0;
    NAME(cifg_backward)(B, H, dy + t * B * H, dyr, dce + t * B * H, dc, gates + t * B * G,
                        c + t * B * H, cp, p, dpre + t * B * G);
    NAME(small_matmul)(B, H, G, dpre + t * B * G, w, dyr);
  }
}

LSTMLAB_EXPORT void NAME(lstm1997_sequence)(long T, long B, long C, long S, long out,
    real xy[T * B * (C + C * S + out * C)], const real wt[LSTMLAB_NULLABLE (C + C * S + out * C) * (C + C * S + out * C)],
    const real y0[B * (C + C * S + out * C)], const real c0[B * C * S], double ga, double gs, long glin,
    double ha, double hs, long hlin, real rec[B * (C + C * S + out * C)], real gsave[T * B * C * S],
    real c[T * B * C * S]) {
  const long H = C * S, R = C + H + out * C;
  for (long n = 0; n < B * R; n++) rec[n] = 0;
  for (long t = 0; t < T; t++) {
    const real *yp = t ? xy + (t - 1) * B * R : y0, *cp = t ? c + (t - 1) * B * H : c0;
    if (wt) NAME(small_matmul)(B, R, R, yp, wt, rec);
    NAME(lstm1997_forward)(B, C, S, out, xy + t * B * R, rec, cp, ga, gs, glin, ha, hs,
                           hlin, gsave + t * B * H, c + t * B * H);
  }
}

LSTMLAB_EXPORT void NAME(lstm1997_sequence_backward)(long T, long B, long C, long S, long out,
    const real w[LSTMLAB_NULLABLE (C + C * S + out * C) * (C + C * S + out * C)], const real dy[T * B * (C + C * S + out * C)],
    const real dce[T * B * C * S], real dc[B * C * S], real dyr[B * (C + C * S + out * C)],
    const real y[T * B * (C + C * S + out * C)], const real gsave[T * B * C * S], const real c[T * B * C * S],
    double ga, double gs, long glin, double ha, double hs, long hlin,
    real dpre[T * B * (C + C * S + out * C)]) {
  const long H = C * S, R = C + H + out * C;
  for (long t = T - 1; t >= 0; t--) {
    NAME(lstm1997_backward)(B, C, S, out, dy + t * B * R, dyr, dce + t * B * H, dc,
                            y + t * B * R, gsave + t * B * H, c + t * B * H, ga, gs, glin, ha,
                            hs, hlin, dpre + t * B * R);
    if (w) NAME(small_matmul)(B, R, R, dpre + t * B * R, w, dyr);
  }
}
#undef SQ
