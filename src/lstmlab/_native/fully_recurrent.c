/* The competitors' fully recurrent net trained on one sequence per call: RTRL, BPTT and
   Elman's BPTT(1). lstmlab/competitors/_fully_recurrent_kernel.py binds it. */
#include "fully_recurrent_net.h"

/* Online RTRL. x (T, I), target (T, O), mask (T,) bytes, w = {W_ih, W_hh, b_ih, b_hh, V, c}
   updated in place, out (T, O) the outputs produced while learning, loss[0] the summed squared
   error, work: scratch (its length is the layout at the top of each function). */
LSTMLAB_EXPORT void fr_rtrl(long T, long I, long H, long O, long skip,
    const double x[T * I], const double target[T * O], const unsigned char mask[T],
    double lr, double wih[H * I], double whh[H * H], double bih[H], double bhh[H],
    double v[O * (skip * I + H)], double c[O], double out[T * O], double loss[1],
    double work[2 * H * H * (I + H + 1) + 4 * H + (skip * I + H) + O + 1]) {
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

/* Full BPTT over the sequence, one update; arguments as fr_rtrl. */
LSTMLAB_EXPORT void fr_bptt(long T, long I, long H, long O, long skip,
    const double x[T * I], const double target[T * O], const unsigned char mask[T],
    double lr, double wih[H * I], double whh[H * H], double bih[H], double bhh[H],
    double v[O * (skip * I + H)], double c[O], double out[T * O], double loss[1],
    double work[(T + 1) * H + H * (I + H + 1) + O * (skip * I + H) + 2 * O + (skip * I + H) + 3 * H]) {
  double *w[6] = {wih, whh, bih, bhh, v, c};
  net n = make(I, H, O, skip, w);
  double *hs = work, *rest = hs + (T + 1) * H;
  run_forward(&n, T, x, hs, out, rest);
  loss[0] = backward_update(&n, T, x, target, mask, lr, hs, out, rest);
}

/* BPTT(1), an update after every step with error; arguments as fr_rtrl. */
LSTMLAB_EXPORT void fr_elman(long T, long I, long H, long O, long skip,
    const double x[T * I], const double target[T * O], const unsigned char mask[T],
    double lr, double wih[H * I], double whh[H * H], double bih[H], double bhh[H],
    double v[O * (skip * I + H)], double c[O], double out[T * O], double loss[1],
    double work[3 * H + (skip * I + H) + O]) {
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
