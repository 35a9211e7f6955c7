/*
 * Plain reference versions of the SFR kernels, in double precision, written
 * straight from the formulas of SFR.md with no algebraic shortcut. The
 * library never calls them: the tests check the fast kernels (and, by
 * finite differences, the gradients) against them.
 *
 * Letters as in reg_internal.h.
 */
#ifndef SFR_LIB_REG_REF_H
#define SFR_LIB_REG_REF_H

#include <stdint.h>

/* One pair's problem, grids already resolved (no 0 = default here). */
struct sfri_ref_pair {
    int64_t n, cs, hs, ws, ct, ht, wt;
    int64_t gh, gw, tgh, tgw;
    int norm, match, max_iter;
    double delta, eps, tol, beta;
    int eps_relative;   /* eps times the mean of each sample's cost */
    double scaling;     /* epsilon-scaling factor, 0: none */
};

/* Adaptive average pooling: in (C, H, W) -> out (Gh*Gw, C). */
void sfri_ref_pool(const double *in, int64_t c, int64_t h, int64_t w, int64_t gh, int64_t gw,
                   double *out);

/* Adds dout (Gh*Gw, C) through the pooling into din (C, H, W). */
void sfri_ref_pool_backward(const double *dout, int64_t c, int64_t h, int64_t w, int64_t gh,
                            int64_t gw, double *din);

/* cost (A, B): C_ab = (1/M) sum_j sum_{k in grp(j)} (x_aj - y_bk)^2. */
void sfri_ref_cost(const double *x, const double *y, int64_t a, int64_t b, int64_t cs,
                   int64_t ct, double *cost);

/*
 * Log-domain Sinkhorn exactly as SFR.md section 5 states it, after the
 * epsilon-scaling rounds of docs/sfr.md when scaling > 0. -1 when out of memory.
 */
int sfri_ref_sinkhorn(const double *cost, int64_t a, int64_t b, double eps, double scaling,
                      int max_iter, double tol, double *plan, int *iterations, double *error);

/*
 * L_pair for s (N, Cs, Hs, Ws) and t (N, Ct, Ht, Wt). plans (N, A, B): with
 * fixed_plan the given plans are used (for finite differences), otherwise
 * they are computed and written. ds, dt (same shapes as s, t), when not
 * NULL, receive (overwritten) dL_pair/ds and dL_pair/dt with the plan held
 * fixed. iterations and error (may be NULL) get the largest over samples.
 * Returns 0 on success, -1 when out of memory.
 */
int sfri_ref_pair_loss(const struct sfri_ref_pair *p, const double *s, const double *t,
                       double *plans, int fixed_plan, double *ds, double *dt, double *loss,
                       int *iterations, double *error);

/*
 * L_label for z (N, K) and labels (N); dz (N, K) receives dL/dz when not
 * NULL. u (N, K) is the smoothing distribution for source `past` (ignored
 * otherwise); uniform and self are computed here. NaN when out of memory.
 */
double sfri_ref_label(const double *z, const int32_t *labels, int64_t n, int64_t k, double eps_t,
                      int source, double temperature, const double *u, double gamma,
                      double *dz);

/* p (K) = softmax(z / temp) of logits z (K), shifted by the largest logit
 * (ref_head.c; the class-wise reference uses it too). */
void sfri_ref_softmax(const double *z, int64_t k, double temp, double *p);

/* The weights of a head's term: T, a_h, b_h, the mutual weight c and w(t). */
struct sfri_ref_head_weights {
    double temp, ce, kl, mutual, w;
};

/* The weighted parts of a head's loss (docs/sfr.md, "Heads"). */
struct sfri_ref_head_loss {
    double ce, kl;   /* the head's cross-entropy and its KL from the deepest logits */
    double mutual;   /* the deepest logits' KL from the head */
};

/*
 * A head's term for head logits zh (N, K) and deepest logits z (N, K):
 * *loss gets the weighted parts; dzh (N, K), when not NULL, the derivative
 * of ce + kl in zh (z constant); dz (N, K), when not NULL, the derivative
 * of mutual in z (zh constant). -1 when out of memory.
 */
int sfri_ref_head(const double *zh, const double *z, const int32_t *labels, int64_t n, int64_t k,
                  const struct sfri_ref_head_weights *wt, double *dzh, double *dz,
                  struct sfri_ref_head_loss *loss);

/*
 * weight * T^2 / N * sum_s KL(softmax(zt_row[s] / T) || softmax(z_s / T)) over
 * z (N, K), teacher rows of zt (K each) held constant, samples with
 * row[s] < 0 left out: *loss gets it; dz (N, K), when not NULL, its
 * derivative in z. -1 when out of memory. The class-wise and last-batch
 * references pick the rows.
 */
int sfri_ref_soft_target(const double *z, const double *zt, const int64_t *row, int64_t n,
                         int64_t k, double temp, double weight, double *dz, double *loss);

/* Sample s's class-wise partner: the next sample of its class, wrapping; -1 when alone. */
int64_t sfri_ref_classwise_partner(const int32_t *labels, int64_t n, int64_t s);

/*
 * The class-wise term at temperature temp, weight the product lambda * w(t),
 * each sample's prediction from z (N, K) and its partner's, held constant,
 * from zt (N, K) (the same logits; apart so that finite differences can move
 * one side): *loss gets it; dz (N, K), when not NULL, its derivative in z.
 * -1 when out of memory.
 */
int sfri_ref_classwise(const double *z, const double *zt, const int32_t *labels, int64_t n,
                       int64_t k, double temp, double weight, double *dz, double *loss);

/* Row of id in a stored batch of ids (n_prev): the lowest row holding it, -1 when none. */
int64_t sfri_ref_last_batch_row(const int64_t *prev_ids, int64_t n_prev, int64_t id);

/*
 * The last-batch term at temperature temp, weight the product lambda * w(t):
 * sample s of z (N, K), with id ids[s], learns from the row of zp (n_prev,
 * K, held constant) whose id in prev_ids is the same: *loss gets it; dz
 * (N, K), when not NULL, its derivative in z. -1 when out of memory.
 */
int sfri_ref_last_batch(const double *z, const int64_t *ids, int64_t n, const double *zp,
                        const int64_t *prev_ids, int64_t n_prev, int64_t k, double temp,
                        double weight, double *dz, double *loss);

#endif /* SFR_LIB_REG_REF_H */
