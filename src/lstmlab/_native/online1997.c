/* [H97]'s online truncated-gradient algorithm as one C loop: lstmlab/training/
   online1997_kernel.py binds it; online1997.py's readable torch code is its reference.

   Speed (BENCHMARKS.md, "µs per member-step"). A step of the paper's nets is ~1,500 flops and
   ~25 exponentials, so what costs is latency and call overhead, not arithmetic. The loop is
   therefore written in phases over small contiguous arrays, each either vectorizable (the
   portable build has SSE2 and glibc's 2-wide libmvec exp, see lstmlab_native.h) or made of
   independent dependency chains:
   - every logistic is computed once per step, in a branch-free loop over a whole vector
     (libmvec's exp), and kept: the derivatives f'(x) = a s (1 - s) reuse it instead of calling
     exp again (the first version computed 44 exponentials per Exp. 1 step, now 25);
   - dot products run four rows at a time, each row summed in its own order (q ascending, as
     before), so their results are bit for bit those of one row at a time; only the add
     latency chains overlap;
   - the step's buffers are written by their first term instead of being zeroed and then
     added to (0 + a x kept, so the numbers are the same bit for bit), and the update is one
     fused pass (column mask, gradient sum, weight change) with the branches on the trainable
     mask and the update mode hoisted out of it. */
#include "lstmlab_native.h"

typedef struct { double kind, a, b; } squash;

/* Sparse steps (below) are the dense ones bit for bit only where both loops round a * b + c
   alike: the portable build, without FP contraction. The -march=native build contracts into
   FMAs loop by loop as the compiler sees fit (the two loops differed in the last bit), so
   there every step is dense and its numbers stay those it always had. */
#ifdef LSTMLAB_FP_CONTRACT
#define SPARSE_EXACT 0
#else
#define SPARSE_EXACT 1
#endif


/* sv[i] = logistic(x[i]) for n entries; a plain loop that the compiler vectorizes through
   libmvec's exp (2 lanes in the portable build). */
static inline void logistic(long n, const double *restrict x, double *restrict sv) {
  for (long i = 0; i < n; i++) sv[i] = 1 / (1 + exp(-x[i]));
}

/* out[r] = sum_q Wt[r * n + q] * z[q] for r < rows, each sum in order q = 0, 1, ...; four rows
   share one pass over z so that four add chains are in flight instead of one. */
static inline void matvec(long rows, long n, const double *restrict Wt, const double *restrict z,
                          double *restrict out) {
  long r = 0;
  for (; r + 4 <= rows; r += 4) {
    const double *w0 = Wt + r * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (long q = 0; q < n; q++) {
      a0 += z[q] * w0[q]; a1 += z[q] * w1[q]; a2 += z[q] * w2[q]; a3 += z[q] * w3[q];
    }
    out[r] = a0; out[r + 1] = a1; out[r + 2] = a2; out[r + 3] = a3;
  }
  for (; r + 2 <= rows; r += 2) {
    const double *w0 = Wt + r * n, *w1 = w0 + n;
    double a0 = 0, a1 = 0;
    for (long q = 0; q < n; q++) { a0 += z[q] * w0[q]; a1 += z[q] * w1[q]; }
    out[r] = a0; out[r + 1] = a1;
  }
  for (; r < rows; r++) {
    const double *w0 = Wt + r * n;
    double a0 = 0;
    for (long q = 0; q < n; q++) a0 += z[q] * w0[q];
    out[r] = a0;
  }
}

/* matvec over the columns cols[0 .. ncols) only (ascending), four rows at a time as matvec:
   each row's sum is matvec's with the terms of the other columns left out. Where those
   columns of z are zero (the inputs zero at this step) and the weights finite, each left-out
   term is 0 * w = +-0 and a sum that starts at +0 never becomes -0 (round to nearest gives +0
   for x + (-x)), so adding it changes nothing: the result is matvec's bit for bit. */
static inline void matvec_cols(long rows, long n, const double *restrict Wt,
                               const double *restrict z, long ncols, const long *restrict cols,
                               double *restrict out) {
  long r = 0;
  for (; r + 4 <= rows; r += 4) {
    const double *w0 = Wt + r * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (long p = 0; p < ncols; p++) {
      const long q = cols[p];
      a0 += z[q] * w0[q]; a1 += z[q] * w1[q]; a2 += z[q] * w2[q]; a3 += z[q] * w3[q];
    }
    out[r] = a0; out[r + 1] = a1; out[r + 2] = a2; out[r + 3] = a3;
  }
  for (; r + 2 <= rows; r += 2) {
    const double *w0 = Wt + r * n, *w1 = w0 + n;
    double a0 = 0, a1 = 0;
    for (long p = 0; p < ncols; p++) { const long q = cols[p]; a0 += z[q] * w0[q]; a1 += z[q] * w1[q]; }
    out[r] = a0; out[r + 1] = a1;
  }
  for (; r < rows; r++) {
    const double *w0 = Wt + r * n;
    double a0 = 0;
    for (long p = 0; p < ncols; p++) a0 += z[cols[p]] * w0[cols[p]];
    out[r] = a0;
  }
}

/* The columns i < I where some of the B rows x[b * I + i] is nonzero (ascending) into nz; stops
   once more than `limit` are found (returns limit + 1 then). A block of 8 columns is first
   tested at once: x != 0 (nan included) exactly when its bits shifted left by one (the sign
   dropped) are not all zero, and the OR of those over the block vectorizes; a one-hot row
   then costs ~I / 8 tests instead of I compares and branches. */
static inline long nonzero_columns(long B, long I, const double *restrict x, long limit,
                                   long *restrict nz) {
  long n = 0;
  for (long i0 = 0; i0 < I; i0 += 8) {
    const long i1 = i0 + 8 < I ? i0 + 8 : I;
    unsigned long long any = 0;
    for (long b = 0; b < B; b++)
      for (long i = i0; i < i1; i++) {
        unsigned long long bits;
        memcpy(&bits, x + b * I + i, sizeof bits);
        any |= bits << 1;
      }
    if (!any) continue;
    for (long i = i0; i < i1; i++) {
      int hit = 0;
      for (long b = 0; b < B; b++) hit |= x[b * I + i] != 0;
      if (hit) {
        if (n == limit) return limit + 1;
        nz[n++] = i;
      }
    }
  }
  return n;
}

/* Whether the weights of the input columns (the first I of each of the R rows of M) are all
   finite: only then is 0 * w zero, and skipping a zero input exact (0 * inf is nan). */
static inline int finite_input_columns(long R, long M, long I, const double *restrict W) {
  int finite = 1;
  for (long r = 0; r < R; r++)
    for (long i = 0; i < I; i++) finite &= isfinite(W[r * M + i]) != 0;
  return finite;
}

/* The columns a sparse step reads: the nonzero inputs nz[0 .. n_nz) (ascending), then every
   recurrent and bias column I .. M - 1; returns their number. */
static inline long step_columns(long I, long M, long n_nz, const long *restrict nz,
                                long *restrict cols) {
  long n = 0;
  for (long p = 0; p < n_nz; p++) cols[n++] = nz[p];
  for (long q = I; q < M; q++) cols[n++] = q;
  return n;
}

/* y += a x over n entries, or (fresh) y = 0 + a x: what the zeroed buffer plus its first term
   gives, bit for bit (signed zeros included), without zeroing the buffer first. */
static inline void axpy(int fresh, long n, double a, const double *restrict x,
                        double *restrict y) {
  if (fresh) for (long i = 0; i < n; i++) y[i] = 0 + a * x[i];
  else for (long i = 0; i < n; i++) y[i] += a * x[i];
}

/* y = q(x) from sv = logistic(x) (kind 1: a sv + b; kind 0, the identity: x), and its
   derivative d = a sv (1 - sv) (kind 0: 1), for n entries. */
static inline void squash_apply(const squash *q, long n, const double *restrict x,
                                const double *restrict sv, double *restrict y) {
  if (q->kind == 0) for (long i = 0; i < n; i++) y[i] = x[i];
  else for (long i = 0; i < n; i++) y[i] = q->a * sv[i] + q->b;
}
static inline void squash_derivative(const squash *q, long n, const double *restrict sv,
                                     double *restrict d) {
  if (q->kind == 0) for (long i = 0; i < n; i++) d[i] = 1;
  else for (long i = 0; i < n; i++) d[i] = q->a * (sv[i] * (1 - sv[i]));
}

/* One sequence presented to each of K members: for k, for t, for b (online1997.py's
   online_sequence has the shapes and the equations). mode: 0 update after every step, 1 update
   once after the sequence with the summed steps, 2 no update. sq: g, h, f_k as 3 x (kind, a,
   b). Weights (K, ...) are updated in place (W's bias column is first multiplied by colmask's,
   as the torch code does); grads (K, ...) receive sum_t dE(t)/dw (any content is overwritten);
   outputs (T, K, B, O); loss (K,). The trainable masks t* (K, ...) may be NULL; colmask (R, M).
   R = C + H (+ C with output gates) net inputs of the hidden layer, M = I (+ R when recurrent)
   (+ 1 with biases) senders. */
LSTMLAB_EXPORT void online1997_d(long T, long K, long B, long I, long C, long S, long O,
    long recurrent, long og, long has_bias, long has_io, long has_bo, long mode, long sparse,
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
     yk (O), ek (O), es (H), eout (C), trace_in (H*M), trace_cell (H*M), and the cached
     logistics and derivatives: sgate (R) = logistic(net), dg (H) = g'(net_c), sh (H) =
     logistic(s), sk (O) = logistic(net_k), delta (H) */
  const long per_b = M + R + 2 * C + 5 * H + 3 * O + C + 2 * H * M + R + 3 * H + O;
  double *work = malloc(sizeof(double) * (B * per_b + R * M + O * H + O * I + O));
  /* the inputs nonzero at this step for some b: the input-to-output products and updates
     skip the others (one-hot inputs: Exp. 2a's 101 x 101 weights cost 101 per step) */
  long *nz = malloc(sizeof(long) * (I > 0 ? I : 1)), n_nz = 0;
  /* sparse: a step where at most half the inputs are nonzero (for every b) reads only those
     columns of W and updates only those columns of the traces (eqs. 25, 27): a zero input
     leaves trace_in/trace_cell unchanged (x + a 0 = x for finite a: a trace starts at +0 and
     never becomes -0) and adds nothing to net (matvec_cols). Exact, so it is chosen per step;
     it waits while a weight of an input column is not finite (checked again after an update)
     and a trace factor a_in, a_cell is not. One-hot inputs (Exp. 2c: p + 4 = 1004 of them)
     make a step O(R (R + 1)) instead of O(R (I + R)). */
  long *cols = malloc(sizeof(long) * (M > 0 ? M : 1)), ncols = 0;
  sparse = sparse && SPARSE_EXACT;
  for (long k = 0; k < K; k++) {
    double *Wk = W + k * R * M, *Whok = Who + k * O * H;
    double *Wiok = has_io ? Wio + k * O * I : NULL, *bok = has_bo ? bo + k * O : NULL;
    double *gWk = gW + k * R * M, *ghok = gho + k * O * H;
    double *giok = has_io ? gio + k * O * I : NULL, *gbok = has_bo ? gbo + k * O : NULL;
    double *stW = work + B * per_b, *stho = stW + R * M, *stio = stho + O * H,
           *stbo = stio + O * I;
    const double ak = alpha[k];
    int inputs_finite = -1;  /* finite_input_columns(Wk), -1 until needed */
    memset(work, 0, sizeof(double) * B * per_b);
    for (long b = 0; b < B; b++) {  /* y_out = 1 without output gates */
      double *y_out = work + b * per_b + M + R + C;
      for (long j = 0; j < C; j++) y_out[j] = og ? 0 : 1;
    }
    loss[k] = 0;
    /* the unwired biases (colmask's last column) are zero from the start, as the torch code's
       W[..., -1] *= column_mask[:, -1]; the gradient sums start at zero */
    if (has_bias) for (long r = 0; r < R; r++) Wk[r * M + M - 1] *= colmask[r * M + M - 1];
    memset(gWk, 0, sizeof(double) * R * M);
    memset(ghok, 0, sizeof(double) * O * H);
    if (has_io) memset(giok, 0, sizeof(double) * O * I);
    if (has_bo) memset(gbok, 0, sizeof(double) * O);
    /* the traces only feed the error steps: after member k's last one (or in a sequence with
       none, e.g. a stopping-set check) they are not computed */
    long last_error = -1;
    for (long q = 0; q < T * B; q++)
      if (mask[((q / B) * K + k) * B + q % B] != 0) last_error = q / B;
    for (long t = 0; t < T; t++) {
      int error = 0;
      n_nz = nonzero_columns(B, I, inputs + (t * K + k) * B * I, I, nz);
      int sparse_step = sparse && 2 * n_nz <= I;
      if (sparse_step && inputs_finite < 0) inputs_finite = finite_input_columns(R, M, I, Wk);
      sparse_step = sparse_step && inputs_finite;
      if (sparse_step) ncols = step_columns(I, M, n_nz, nz, cols);
      for (long b = 0; b < B; b++) {
        double *z = work + b * per_b, *net = z + M, *y_in = net + R, *y_out = y_in + C,
               *gc = y_out + C, *s = gc + H, *hs = s + H, *yc = hs + H, *netk = yc + H,
               *yk = netk + O, *ek = yk + O, *es = ek + O, *eout = es + H,
               *tr_in = eout + C, *tr_cell = tr_in + H * M, *sgate = tr_cell + H * M,
               *dg = sgate + R, *sh = dg + H, *sk = sh + H;
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
        if (sparse_step) matvec_cols(R, M, Wk, z, ncols, cols, net);
        else matvec(R, M, Wk, z, net);
        /* every row's logistic at once: the gates use it, g is a sv + b of it (rows of g
           when g is the identity compute a logistic nobody reads, cheaper than a branch) */
        logistic(R, net, sgate);
        for (long j = 0; j < C; j++) {
          y_in[j] = sgate[j];
          if (og) y_out[j] = sgate[C + H + j];
        }
        squash_apply(g, H, net + C, sgate + C, gc);
        squash_derivative(g, H, sgate + C, dg);
        for (long c = 0; c < H; c++) s[c] = s[c] + y_in[c / S] * gc[c];
        logistic(H, s, sh);
        squash_apply(h, H, s, sh, hs);
        for (long c = 0; c < H; c++) yc[c] = y_out[c / S] * hs[c];
        /* traces (eqs. 25, 27) */
        for (long j = 0; j < (t <= last_error ? C : 0); j++) {
          const double din = y_in[j] * (1 - y_in[j]);
          for (long v = 0; v < S; v++) {
            const long c = j * S + v;
            const double a_in = gc[c] * din, a_cell = y_in[j] * dg[c];
            double *restrict ti = tr_in + c * M, *restrict tc = tr_cell + c * M;
            if (sparse_step && isfinite(a_in) && isfinite(a_cell))
              for (long p = 0; p < ncols; p++) {
                const long q = cols[p];
                ti[q] += a_in * z[q]; tc[q] += a_cell * z[q];
              }
            else
              for (long q = 0; q < M; q++) { ti[q] += a_in * z[q]; tc[q] += a_cell * z[q]; }
          }
        }
        matvec(O, H, Whok, yc, netk);
        if (has_io)
          for (long o = 0; o < O; o++) {
            double acc_io = 0;
            for (long n = 0; n < n_nz; n++) acc_io += x[nz[n]] * Wiok[o * I + nz[n]];
            netk[o] = netk[o] + acc_io;
          }
        if (has_bo) for (long o = 0; o < O; o++) netk[o] = netk[o] + bok[o];
        logistic(O, netk, sk);
        squash_apply(f, O, netk, sk, yk);
        double *out = outputs + ((t * K + k) * B + b) * O;
        for (long o = 0; o < O; o++) out[o] = yk[o];
        if (mask[(t * K + k) * B + b] != 0) error = 1;
      }
      if (!error) continue;
      /* backward pass, truncated (eqs. 19-28); the step's buffers stW, stho, stbo are
         written by their first term (b = 0), not zeroed first (S > 0 covers every row) */
      if (S == 0) memset(stW, 0, sizeof(double) * R * M);
      if (has_io)
        for (long o = 0; o < O; o++) for (long n = 0; n < n_nz; n++) stio[o * I + nz[n]] = 0;
      for (long b = 0; b < B; b++) {
        double *z = work + b * per_b, *net = z + M, *y_in = net + R, *y_out = y_in + C,
               *gc = y_out + C, *s = gc + H, *hs = s + H, *yc = hs + H, *netk = yc + H,
               *yk = netk + O, *ek = yk + O, *es = ek + O, *eout = es + H,
               *tr_in = eout + C, *tr_cell = tr_in + H * M, *sgate = tr_cell + H * M,
               *dg = sgate + R, *sh = dg + H, *sk = sh + H, *delta = sk + O;
        const double *x = inputs + ((t * K + k) * B + b) * I;
        const double *tg = targets + ((t * K + k) * B + b) * O;
        const double mk = mask[(t * K + k) * B + b];
        (void)gc; (void)s;
        double sq_sum = 0;
        squash_derivative(f, O, sk, ek);  /* f'(net_k), then times the miss */
        for (long o = 0; o < O; o++) {
          const double miss = (tg[o] - yk[o]) * mk;
          sq_sum += miss * miss;
          ek[o] = ek[o] * miss;
        }
        loss[k] += 0.5 * sq_sum;
        /* delta_c = sum_o e_k W_ho[o, c], in order o = 0, 1, ... for each c; over c it is
           a contiguous (vectorizable) row of W_ho */
        for (long c = 0; c < H; c++) delta[c] = 0;
        for (long o = 0; o < O; o++)
          for (long c = 0; c < H; c++) delta[c] += ek[o] * Whok[o * H + c];
        squash_derivative(h, H, sh, es);  /* h'(s_c), then times y_out delta */
        for (long j = 0; j < C; j++) {
          double acc_out = 0;
          for (long v = 0; v < S; v++) {
            const long c = j * S + v;
            es[c] = y_out[j] * es[c] * delta[c];
            acc_out += hs[c] * delta[c];
          }
          eout[j] = y_out[j] * (1 - y_out[j]) * acc_out;
        }
        for (long j = 0; j < C; j++) {
          for (long v = 0; v < S; v++) {
            const long c = j * S + v;
            axpy(b == 0 && v == 0, M, es[c], tr_in + c * M, stW + j * M);
            axpy(b == 0, M, es[c], tr_cell + c * M, stW + (C + c) * M);
          }
          if (og) axpy(b == 0, M, eout[j], z, stW + (C + H + j) * M);
        }
        for (long o = 0; o < O; o++) {
          axpy(b == 0, H, ek[o], yc, stho + o * H);
          if (has_io)
            for (long n = 0; n < n_nz; n++) stio[o * I + nz[n]] += ek[o] * x[nz[n]];
          if (has_bo) stbo[o] = (b == 0 ? 0 : stbo[o]) + ek[o];
        }
      }
      /* the step: masked to the wired connections, summed into the gradient, and (mode 0)
         applied at once, W += alpha * step (* the trainable mask), in one pass */
      const double *m1 = tW ? tW + k * R * M : NULL, *m2 = tho ? tho + k * O * H : NULL;
      const double *m3 = tio ? tio + k * O * I : NULL, *m4 = tbo ? tbo + k * O : NULL;
      if (mode != 0)
        for (long q = 0; q < R * M; q++) gWk[q] += stW[q] * colmask[q];
      else if (m1)
        for (long q = 0; q < R * M; q++) {
          const double st = stW[q] * colmask[q];
          gWk[q] += st;
          Wk[q] += ak * st * m1[q];
        }
      else
        for (long q = 0; q < R * M; q++) {
          const double st = stW[q] * colmask[q];
          gWk[q] += st;
          Wk[q] += ak * st;
        }
      for (long q = 0; q < O * H; q++) ghok[q] += stho[q];
      if (has_io)
        for (long o = 0; o < O; o++)
          for (long n = 0; n < n_nz; n++) giok[o * I + nz[n]] += stio[o * I + nz[n]];
      if (has_bo) for (long q = 0; q < O; q++) gbok[q] += stbo[q];
      if (mode == 0) {
        inputs_finite = -1;  /* W moved: check its input columns again before a sparse step */
        if (m2) for (long q = 0; q < O * H; q++) Whok[q] += ak * stho[q] * m2[q];
        else for (long q = 0; q < O * H; q++) Whok[q] += ak * stho[q];
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
    /* mode 1: the summed steps applied once, w += (alpha * sum) [* trainable], as the torch
       code's _apply; then every gradient turned into sum_t dE(t)/dw (its sign flipped: exact) */
    const double *m1 = tW ? tW + k * R * M : NULL, *m2 = tho ? tho + k * O * H : NULL;
    const double *m3 = tio ? tio + k * O * I : NULL, *m4 = tbo ? tbo + k * O : NULL;
    if (mode == 1) {
      for (long q = 0; q < R * M; q++) Wk[q] += m1 ? ak * gWk[q] * m1[q] : ak * gWk[q];
      for (long q = 0; q < O * H; q++) Whok[q] += m2 ? ak * ghok[q] * m2[q] : ak * ghok[q];
      if (has_io)
        for (long q = 0; q < O * I; q++) Wiok[q] += m3 ? ak * giok[q] * m3[q] : ak * giok[q];
      if (has_bo) for (long q = 0; q < O; q++) bok[q] += m4 ? ak * gbok[q] * m4[q] : ak * gbok[q];
    }
    for (long q = 0; q < R * M; q++) gWk[q] = -gWk[q];
    for (long q = 0; q < O * H; q++) ghok[q] = -ghok[q];
    if (has_io) for (long q = 0; q < O * I; q++) giok[q] = -giok[q];
    if (has_bo) for (long q = 0; q < O; q++) gbok[q] = -gbok[q];
  }
  free(work);
  free(nz);
  free(cols);
}

/* The forward pass alone (no traces, no error, no update) of each member on its sequences,
   for stopping and test sets: outputs[t, k, b] for t < lengths[k * B + b], the numbers of
   online1997_d's forward pass bit for bit (the same operations in the same order; b is
   independent of the other sequences there too), and 0 after a sequence's end, where nothing
   is computed (a batch is padded to its longest sequence). W's bias column arrives masked by
   the caller, as online1997_d's does. */
LSTMLAB_EXPORT void forward1997_d(long T, long K, long B, long I, long C, long S, long O,
    long recurrent, long og, long has_bias, long has_io, long has_bo, long sparse,
    const double sq[9], const double inputs[T * K * B * I], const long lengths[K * B],
    const double W[K * (C + C * S + og * C) * (I + recurrent * (C + C * S + og * C) + has_bias)],
    const double Who[K * O * C * S], const double Wio[LSTMLAB_NULLABLE K * O * I * has_io],
    const double bo[LSTMLAB_NULLABLE K * O * has_bo], double outputs[T * K * B * O]) {
  const squash *g = (const squash *)sq, *h = g + 1, *f = g + 2;
  const long H = C * S, R = C + H + (og ? C : 0), M = I + (recurrent ? R : 0) + has_bias;
  /* z (M), net (R), sgate (R), y_in (C), y_out (C), gc (H), s (H), sh (H), hs (H), yc (H),
     netk (O), sk (O), yk (O) */
  double *work = malloc(sizeof(double) * (M + 2 * R + 2 * C + 5 * H + 3 * O));
  double *z = work, *net = z + M, *sgate = net + R, *y_in = sgate + R, *y_out = y_in + C,
         *gc = y_out + C, *s = gc + H, *sh = s + H, *hs = sh + H, *yc = hs + H,
         *netk = yc + H, *sk = netk + O, *yk = sk + O;
  /* sparse: as online1997_d's, per sequence and step (the nonzero inputs of that b alone) */
  long *cols = malloc(sizeof(long) * (M > 0 ? M : 1)), ncols = 0;
  sparse = sparse && SPARSE_EXACT;
  for (long k = 0; k < K; k++) {
    const double *Wk = W + k * R * M, *Whok = Who + k * O * H;
    const double *Wiok = has_io ? Wio + k * O * I : NULL, *bok = has_bo ? bo + k * O : NULL;
    const int may_skip = sparse && finite_input_columns(R, M, I, Wk);
    for (long b = 0; b < B; b++) {
      long steps = lengths[k * B + b];
      steps = steps < 0 ? 0 : steps > T ? T : steps;
      for (long j = 0; j < C; j++) { y_in[j] = 0; y_out[j] = og ? 0 : 1; }
      for (long c = 0; c < H; c++) { s[c] = 0; yc[c] = 0; }
      for (long t = 0; t < steps; t++) {
        const double *x = inputs + ((t * K + k) * B + b) * I;
        long m = 0;
        for (long i = 0; i < I; i++) z[m++] = x[i];
        if (recurrent) {
          for (long j = 0; j < C; j++) z[m++] = y_in[j];
          for (long c = 0; c < H; c++) z[m++] = yc[c];
          if (og) for (long j = 0; j < C; j++) z[m++] = y_out[j];
        }
        if (has_bias) z[m++] = 1;
        /* the nonzero inputs first, then (if few) the other columns */
        ncols = may_skip ? nonzero_columns(1, I, x, I / 2, cols) : I;
        if (may_skip && ncols <= I / 2) {
          for (long q = I; q < M; q++) cols[ncols++] = q;
          matvec_cols(R, M, Wk, z, ncols, cols, net);
        } else {
          matvec(R, M, Wk, z, net);
        }
        logistic(R, net, sgate);
        for (long j = 0; j < C; j++) {
          y_in[j] = sgate[j];
          if (og) y_out[j] = sgate[C + H + j];
        }
        squash_apply(g, H, net + C, sgate + C, gc);
        for (long c = 0; c < H; c++) s[c] = s[c] + y_in[c / S] * gc[c];
        logistic(H, s, sh);
        squash_apply(h, H, s, sh, hs);
        for (long c = 0; c < H; c++) yc[c] = y_out[c / S] * hs[c];
        matvec(O, H, Whok, yc, netk);
        if (has_io)  /* the zero inputs skipped, as online1997_d does: 0 * w adds nothing */
          for (long o = 0; o < O; o++) {
            double acc_io = 0;
            for (long i = 0; i < I; i++)
              if (x[i] != 0) acc_io += x[i] * Wiok[o * I + i];
            netk[o] = netk[o] + acc_io;
          }
        if (has_bo) for (long o = 0; o < O; o++) netk[o] = netk[o] + bok[o];
        logistic(O, netk, sk);
        squash_apply(f, O, netk, sk, yk);
        double *out = outputs + ((t * K + k) * B + b) * O;
        for (long o = 0; o < O; o++) out[o] = yk[o];
      }
      for (long t = steps; t < T; t++) {
        double *out = outputs + ((t * K + k) * B + b) * O;
        for (long o = 0; o < O; o++) out[o] = 0;
      }
    }
  }
  free(work);
  free(cols);
}
