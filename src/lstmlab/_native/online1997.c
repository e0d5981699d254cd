/* [H97]'s online truncated-gradient algorithm as one C loop: lstmlab/training/
   online1997_kernel.py binds it; online1997.py's readable torch code is its reference. */
#include "lstmlab_native.h"

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

/* One sequence presented to each of K members: for k, for t, for b (online1997.py's
   online_sequence has the shapes and the equations). mode: 0 update after every step, 1 only
   accumulate (the caller updates after the sequence), 2 no update. sq: g, h, f_k as
   3 x (kind, a, b). Weights (K, ...) are updated in place; grads (K, ...) receive sum_t of
   -dE(t)/dw (the descent direction); outputs (T, K, B, O); loss (K,). The trainable masks t*
   (K, ...) may be NULL; colmask (R, M). R = C + H (+ C with output gates) net inputs of the
   hidden layer, M = I (+ R when recurrent) (+ 1 with biases) senders. */
LSTMLAB_EXPORT void online1997_d(long T, long K, long B, long I, long C, long S, long O,
    long recurrent, long og, long has_bias, long has_io, long has_bo, long mode,
    const double sq[9], const double inputs[T * K * B * I], const double targets[T * K * B * O],
    const double mask[T * K * B], const double alpha[K],
    double W[K * (C + C * S + og * C) * (I + recurrent * (C + C * S + og * C) + has_bias)],
    double Who[K * O * C * S], double Wio[LSTMLAB_NULLABLE K * O * I * has_io],
    double bo[LSTMLAB_NULLABLE K * O * has_bo],
    const double colmask[(C + C * S + og * C) * (I + recurrent * (C + C * S + og * C) + has_bias)],
    const double tW[LSTMLAB_NULLABLE K * (C + C * S + og * C) * (I + recurrent * (C + C * S + og * C) + has_bias)],
    const double tho[LSTMLAB_NULLABLE K * O * C * S],
    const double tio[LSTMLAB_NULLABLE K * O * I * has_io],
    const double tbo[LSTMLAB_NULLABLE K * O * has_bo],
    double gW[K * (C + C * S + og * C) * (I + recurrent * (C + C * S + og * C) + has_bias)],
    double gho[K * O * C * S], double gio[LSTMLAB_NULLABLE K * O * I * has_io],
    double gbo[LSTMLAB_NULLABLE K * O * has_bo], double outputs[T * K * B * O],
    double loss[K]) {
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
