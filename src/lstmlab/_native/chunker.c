/* The history compressor's online update on one sequence (Chunker.train_step) as one call:
   lstmlab/competitors/_chunker_kernel.py binds it. Its two nets are the fully recurrent net
   of fully_recurrent_net.h. */
#include "fully_recurrent_net.h"

LSTMLAB_EXPORT void chunker_train(long T, long I, long H, long O, const double x[T * I],
    const double target[T * O], const unsigned char mask[T], double scale, double surprise,
    double lr, double a_wih[H * I], double a_whh[H * H], double a_bih[H], double a_bhh[H],
    double a_v[(O + H) * (I + H)], double a_c[O + H], double c_wih[H * (I + 1)],
    double c_whh[H * H], double c_bih[H], double c_bhh[H], double c_v[O * (I + 1 + H)],
    double c_c[O], double prediction[T * O], double loss[1],
    double work[(T + 1) * H * 2 + 2 * T * (O + H) + 2 * T * (I + 1) + T * H + T * O + 2 * T + (I + 1 + H)
                + H * (I + 1) + H * H + H + (O + H) * (I + 1 + H) + 2 * (O + H) + (I + 1 + H) + 3 * H]) {
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
