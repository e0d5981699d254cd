/* The fully recurrent net of lstmlab/competitors/_fully_recurrent.py in C: its forward
   pass, output error, BPTT and SGD pieces, shared by fully_recurrent.c (RTRL, BPTT,
   Elman) and chunker.c (the history compressor's two nets). */
#ifndef LSTMLAB_FULLY_RECURRENT_NET_H
#define LSTMLAB_FULLY_RECURRENT_NET_H

#include "lstmlab_native.h"


typedef struct { long I, H, O, skip; double *wih, *whh, *bih, *bhh, *v, *c; } net;

static inline double sig(double x) { return 1 / (1 + exp(-x)); }

/* the indices of z's nonzero entries (one-hot inputs: most are zero; skipping them adds
   nothing but exact zeros) */
static inline long nonzero(const double *z, long Z, long *idx) {
  long n = 0;
  for (long j = 0; j < Z; j++) if (z[j] != 0) idx[n++] = j;
  return n;
}

/* h_new = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh) */
static inline void hidden(const net *n, const double *x, const double *h, double *h_new) {
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
static inline long readout(const net *n, const double *x, const double *h, double *z, double *y) {
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
static inline double output_error(const net *n, long Z, const double *y, const double *target,
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
static inline void update_readout(const net *n, long Z, double lr, const double *delta,
                           const double *z) {
  long idx[Z];
  long nz = nonzero(z, Z, idx);
  for (long o = 0; o < n->O; o++) {
    double *vo = n->v + o * Z;
    for (long m = 0; m < nz; m++) vo[idx[m]] -= lr * delta[o] * z[idx[m]];
    n->c[o] -= lr * delta[o];
  }
}

static inline net make(long I, long H, long O, long skip, double *w[6]) {
  net n = {I, H, O, skip, w[0], w[1], w[2], w[3], w[4], w[5]};
  return n;
}

/* P_new[k, m] = d[k] (sum_l W_hh[k, l] P[l, m] + [k == m / M] e[m % M]), m over H x M */
static inline void propagate(long H, long M, const double *whh, const double *d, const double *P,
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
static inline void apply_sensitivity(long H, long M, double lr, const double *dh, const double *P,
                              double *W, double *W2) {
  for (long m = 0; m < H * M; m++) {
    double g = 0;
    for (long k = 0; k < H; k++) g += dh[k] * P[k * H * M + m];
    W[m] -= lr * g;
    if (W2) W2[m] -= lr * g;
  }
}

/* Forward over T steps: hs (T + 1, H) with hs[0] = 0, out (T, O); z scratch (Z,). */
static inline void run_forward(const net *n, long T, const double *x, double *hs, double *out,
                        double *z) {
  memset(hs, 0, n->H * sizeof(double));
  for (long t = 0; t < T; t++) {
    hidden(n, x + t * n->I, hs + t * n->H, hs + (t + 1) * n->H);
    readout(n, x + t * n->I, hs + (t + 1) * n->H, z, out + t * n->O);
  }
}

/* The gradient of sum_t mask_t sum_k (out_t[k] - target_t[k])^2 through every step (hs, out
   from run_forward), then one SGD update of every weight; returns that squared error. */
static inline double backward_update(const net *n, long T, const double *x, const double *target,
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

#endif
