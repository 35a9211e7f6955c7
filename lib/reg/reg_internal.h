/*
 * The inside of an sfr_reg and the interfaces between its parts: parameters
 * (params.c), pairs and queries (reg.c), compute-time validation and the
 * workspace (validate.c, workspace.c), the fast kernels (pool.c, cost.c,
 * sinkhorn.c, label.c) and the compute driver (compute.c).
 *
 * Legend for dimension letters: N samples; Cs, Ct student and teacher
 * channels; Hs x Ws, Ht x Wt their spatial sizes; Gh x Gw, TGh x TGw their
 * pooled grids; A = Gh*Gw and B = TGh*TGw local features per sample;
 * G = min(Cs, Ct) channel groups; M = max(Cs, Ct); K classes.
 */
#ifndef SFR_LIB_REG_INTERNAL_H
#define SFR_LIB_REG_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "sfr/reg.h"
#include "tap/tap.h"

/* Dense index of each key of SFR.md section 10 (the public keys are sparse). */
enum sfri_param_index {
    SFRI_P_SINKHORN_EPS,
    SFRI_P_MAX_ITER,
    SFRI_P_TOL,
    SFRI_P_MATCH,
    SFRI_P_NORM,
    SFRI_P_DELTA,
    SFRI_P_TEACHER_GRAD,
    SFRI_P_GRID_H,
    SFRI_P_GRID_W,
    SFRI_P_TEACHER_GRID_H,
    SFRI_P_TEACHER_GRID_W,
    SFRI_P_LS_SCHEDULE,
    SFRI_P_LS_EPS_START,
    SFRI_P_LS_EPS_END,
    SFRI_P_LS_SOURCE,
    SFRI_P_LS_TEMPERATURE,
    SFRI_P_LS_BANK_SIZE,
    SFRI_P_GAMMA,
    SFRI_P_EPS_RELATIVE,
    SFRI_P_EPS_SCALING,
    SFRI_P_DEBIAS,
    SFRI_P_WARMUP,
    SFRI_P_HEAD_TEMPERATURE,
    SFRI_P_COOLDOWN,
    SFRI_P_HEAD_MUTUAL,
    SFRI_P_CLASSWISE,
    SFRI_P_CLASSWISE_TEMPERATURE,
    SFRI_P_LAST_BATCH,
    SFRI_P_LAST_BATCH_TEMPERATURE,
    SFRI_P_COUNT
};

/* The public key of dense index index (0 .. SFRI_P_COUNT - 1). */
sfr_param sfri_params_key(int index);

/* Writes every parameter's default into values[SFRI_P_COUNT]. */
void sfri_params_defaults(double *values);

/*
 * Checks value against key's type and range and writes the key's dense
 * index to *index; on failure (unknown key or bad value) records the
 * message for func and returns SFR_ERR_INVALID_ARG.
 */
sfr_status sfri_params_check(sfr_param key, double value, int *index, const char *func);

/*
 * The narrower ranges float math can carry (bounds.c): SFR_OK for a value
 * inside them or a key without one, else SFR_ERR_INVALID_ARG with a
 * message for func. sfri_params_check applies the first; sfr_reg_add_pair
 * the second to beta.
 */
sfr_status sfri_bounds_check(sfr_param key, double value, const char *func);
sfr_status sfri_beta_check(double beta, const char *func);

/* Resolved shape of one pair for the current compute. */
struct sfri_pair_shape {
    int64_t n, cs, hs, ws, ct, ht, wt;
    int64_t gh, gw, tgh, tgw;
    int64_t a, b;       /* local features per sample: Gh*Gw, TGh*TGw */
    int64_t g, m;       /* channel groups min(Cs, Ct), and max(Cs, Ct) */
    int64_t n_s, n_t;   /* student and teacher channels per group: Cs/G, Ct/G */
    /*
     * Offsets (in doubles) into each thread's region of the workspace: one
     * sample's normalized features xs (A, Cs), ys (B, Ct) and their rms
     * rs (A), rt (B), only needed while that sample's transport runs.
     */
    size_t xs, rs, ys, rt;
    /*
     * Offsets (in doubles) into the workspace slab: the gradients w.r.t. the
     * pooled features dxs (N, A, Cs), dys (N, B, Ct) (dys only with
     * teacher_grad), and per-sample loss, final error, iteration count and
     * count of solves stopped at max_iter, each (N).
     */
    size_t dxs, dys, loss, err, iters, capped;
    /* The first pair with this pair's teacher tap: its pooled teacher (ys, rt) is shared. */
    int teacher_from;
    /* Offsets (in int64) into the index slab: [start, end) of each cell. */
    size_t win_sh, win_sw, win_th, win_tw;
};

struct sfri_pair {
    sfr_tap *student, *teacher;
    double beta;
    double loss;        /* of the last successful compute, beta included */
    int iterations;     /* largest Sinkhorn iteration count of that compute */
    double error;       /* largest final row-marginal error of that compute */
    int64_t solves, capped; /* Sinkhorn solves of that compute, and those stopped at max_iter */
    struct sfri_pair_shape shape;
    /* In a compute: this pair's gradient is the first written into its
     * student's (teacher's) blocked gradient since the net's training
     * forward, which it then overwrites instead of adding to. */
    int zero_student, zero_teacher;
};

/* A self-distillation head (head.c): an auxiliary classifier's logits. */
struct sfri_head {
    sfr_tap *tap;                     /* (N, K, 1, 1) */
    double ce_weight, kl_weight;
    double ce_loss, kl_loss;          /* of the last successful compute, weights included */
    double mutual_loss;               /* the deepest classifier's KL from this head (head_mutual) */
};

/* Where one (sample id, batch row) pair of a stored batch is: sorted by id, then row. */
struct sfri_id_row {
    int64_t id, row;
};

/* One batch of the last-batch term (last_batch.c): its logits and its ids, sorted. */
struct sfri_last_slot {
    float *logits;                    /* (n, k) */
    struct sfri_id_row *order;        /* (n) */
    int64_t n, k;                     /* n = 0: empty */
    size_t logits_cap, order_cap;     /* elements; grow-only */
};

struct sfr_reg {
    uint32_t magic;                   /* SFRI_MAGIC_REG while live */
    double param[SFRI_P_COUNT];
    double progress;                  /* t in [0, 1] */

    struct sfri_pair *pairs;          /* (npairs) */
    int npairs, pairs_cap;

    struct sfri_head *heads;          /* (nheads) */
    int nheads, heads_cap;

    int64_t *ids;                     /* (nids) sample ids for the next label compute */
    int64_t nids;
    size_t ids_cap;                   /* elements */
    int ids_pending;

    /* The `past` bank, ls_bank_size rows; set_param frees it when that size changes. */
    float *bank;                      /* (ls_bank_size, bank_k) predictions softmax(z) */
    uint8_t *bank_seen;               /* (ls_bank_size) 1 once a prediction is stored */
    int64_t bank_k;                   /* 0: no bank */

    double label_loss;                /* of the last successful compute, gamma included */
    double classwise_loss;            /* likewise, the class-wise term (classwise.c) */

    /* The class-wise partners of the last compute's samples (N), then the
     * scratch of one index per class (K); grow-only. */
    int64_t *partner;
    size_t partner_cap;               /* elements */

    /* The last-batch term: slot last_cur holds the batch of the last compute
     * that had it; a compute reads it and fills the other slot, then flips. */
    struct sfri_last_slot last[2];
    int last_cur;
    int64_t *last_match;              /* (N) each sample's row in that batch, -1 none */
    size_t last_match_cap;            /* elements */
    double last_batch_loss;           /* of the last successful compute, weight included */

    /* Workspace: grow-only slabs, so computes with unchanged shapes allocate nothing. */
    double *ws;                       /* per-pair results, per-thread features and scratch */
    size_t ws_cap;
    int64_t *wi;                      /* pooling windows */
    size_t wi_cap;
    /* Each thread's region: features (feat_per_thread), then the kernels' scratch. */
    size_t thread_off, per_thread, feat_per_thread;

    atomic_int busy;                  /* 1 while a call that changes the reg runs (busy.c) */
};

/* Options of the feature term as one compute uses them. */
struct sfri_feature_opts {
    double eps, tol, delta;
    double scaling;     /* epsilon scaling factor, 0: none */
    double weight;      /* warm-up factor of the pair weights */
    int max_iter, match, norm, teacher_grad, eps_relative, debias;
};

/* Cells [start, end) along an axis of length len pooled to cells (SFR.md 2). */
void sfri_pool_windows(int64_t len, int64_t cells, int64_t *win);

/* One side of a pair: a feature map (C, H, W) pooled to a Gh x Gw grid. */
struct sfri_pool_geom {
    int64_t c, h, w, gh, gw;
    const int64_t *win_h, *win_w;   /* (Gh, 2), (Gw, 2) from sfri_pool_windows */
};

/*
 * Adaptive average pooling of one sample, channels last, then normalization.
 * in (C, H, W) -> out (A, C), r (A) the rms of each local feature (1 with
 * `none`). Returns 0 when every pooled value is finite, else -1 (a non-finite
 * input always reaches some cell). Windows are summed in float; a map whose
 * float sums overflow is pooled again in double, so finite inputs (even near
 * FLT_MAX) give finite features. buf holds sfri_pool_scratch(W, Gh, Gw)
 * doubles.
 */
int sfri_pool_normalize(const struct sfri_pool_geom *geo, const float *in, int norm,
                        double delta, double *out, double *r, double *buf);

/*
 * The same for one sample of a net tap in oneDNN's nChw16c or nChw8c
 * layout, in (C/block, H, W, block) with block 16 or 8 and C a multiple of
 * it (pool_blocked.c).
 */
int sfri_pool_normalize_blocked(const struct sfri_pool_geom *geo, int block, const float *in,
                                int norm, double delta, double *out, double *r);

/*
 * The end of both: normalizes out (A, C), just pooled from in (C, H, W)
 * (block 0) or (C/block, H, W, block) with float window sums, and writes r
 * (A); when a feature is not finite, pools in again with double sums (float
 * sums of values near FLT_MAX overflow) and normalizes that. Returns -1
 * when a feature is still not finite, else 0.
 */
int sfri_normalize_or_repool(const struct sfri_pool_geom *geo, const float *in, int block,
                             int norm, double delta, double *out, double *r);

/* Doubles of scratch the pooling of a side needs. */
static inline size_t sfri_pool_scratch(int64_t w, int64_t gh, int64_t gw)
{
    return (size_t)(w + gh + gw);
}

/* Doubles of scratch the gradient of the pooling of a side needs. */
static inline size_t sfri_pool_backward_scratch(int64_t w, int64_t gh, int64_t gw)
{
    return (size_t)(gh + gw + ((gh + 1) * w + 1) / 2);
}

/*
 * The gradient of pool_normalize: given dout (A, C) w.r.t. the normalized
 * features out (A, C) with their r (A), turns dout in place into the
 * gradient w.r.t. the pooled features, then adds it through the pooling
 * into grad (C, H, W). buf holds sfri_pool_backward_scratch(W, Gh, Gw) doubles.
 * It is sfri_normalize_backward then sfri_unpool, which compute runs apart.
 */
void sfri_pool_normalize_backward(const struct sfri_pool_geom *geo, double *dout,
                                  const double *out, const double *r, int norm, float *grad,
                                  double *buf);

/* Its normalization part: dout (A, C) becomes the gradient w.r.t. the pooled features. */
void sfri_normalize_backward(int64_t a, int64_t c, int norm, const double *out, const double *r,
                             double *dout);

/*
 * Its pooling part: grad (C, H, W) += the pooling's transpose applied to
 * d (A, C). buf holds sfri_pool_backward_scratch(W, Gh, Gw) doubles.
 */
void sfri_unpool(const struct sfri_pool_geom *geo, const double *d, float *grad, double *buf);

/*
 * The same into one sample's gradient grad (C/block, H, W, block), block 16
 * or 8; with zero, the sample's gradient is set to zero first (a net tap's
 * blocked gradient not yet written since the last training forward).
 */
void sfri_unpool_blocked(const struct sfri_pool_geom *geo, int block, const double *d,
                         float *grad, int zero);

/* Group sums: x (A, C) -> xg (A, G), C a multiple of G, groups of C/G channels. */
void sfri_group_sum(const double *x, int64_t a, int64_t c, int64_t g, double *xg);

/*
 * The many-to-one cost by the expansion of SFR.md section 4:
 * cost (A, B) = (n_t*|x_a|^2 - 2 xg_a . yg_b + n_s*|y_b|^2) / M, from
 * x (A, Cs), y (B, Ct) and their group sums xg (A, G), yg (B, G).
 */
void sfri_cost(const struct sfri_pair_shape *sh, const double *x, const double *y,
               const double *xg, const double *yg, double *cost);

/*
 * Gradient of w*<P, C> w.r.t. the normalized features of one side (SFR.md 7):
 * dx (A, Cs) = (2w/M) (n_t x_a r_a - (P yg)_{a, grp}), r_a = sum_b P_ab.
 * The teacher side is the same call with P transposed (transposed = 1).
 * tmp holds 4*G doubles.
 */
void sfri_cost_grad(const double *plan, int64_t a, int64_t b, int transposed, const double *x,
                    int64_t c, const double *yg, int64_t g, double n_other, double scale,
                    double *tmp, double *dx);

/*
 * y (n) = exp(x) for x in [-708, 0] (the Sinkhorn kernel's range), within
 * 2 ulp of libm's exp and vectorized; y may be x.
 */
void sfri_exp_nonpositive(const double *x, int64_t n, double *y);

/* Doubles of scratch sfri_sinkhorn needs for an A x B problem. */
size_t sfri_sinkhorn_scratch(int64_t a, int64_t b);

/*
 * Entropic OT with uniform marginals (SFR.md section 5), the iterates of the
 * log-domain form computed in the scaling form when that cannot underflow,
 * after epsilon-scaling rounds when scaling > 0 (docs/sfr.md, "Matching").
 * cost (A, B) -> plan (A, B); *iterations and *error as the contract says.
 */
void sfri_sinkhorn(const double *cost, int64_t a, int64_t b, double eps, double scaling,
                   int max_iter, double tol, double *plan, int *iterations, double *error,
                   double *scratch);

/* Options of the label term as one compute uses them. */
struct sfri_label_opts {
    double eps_t, temperature, gamma;
    int source;
};

/* eps(t) of the schedule (SFR.md section 8). */
double sfri_ls_eps(int schedule, double start, double end, double t);

/*
 * The label term: returns L_label and writes dlogits (n, k) unless it is NULL. For `past`,
 * bank (rows of k predictions) and seen give u; a NULL bank means every
 * sample is unseen.
 */
double sfri_label_term(const struct sfri_label_opts *o, const float *logits,
                       const int32_t *labels, int64_t n, int64_t k, const int64_t *ids,
                       const float *bank, const uint8_t *seen, float *dlogits);

/* Stores softmax(z_n) of every sample into bank row ids[n], in order. */
void sfri_label_bank_update(const float *logits, int64_t n, int64_t k, const int64_t *ids,
                            float *bank, uint8_t *seen);

/*
 * After the transport of a compute over n samples, before anything is
 * written: 1 when the loss (label_loss plus the pairs' from the workspace)
 * is finite, dlogit_bound (the largest |dL/dz| the label and mutual head
 * terms can write: (gamma + heads * head_mutual * T) / N, 0 without labels)
 * and every gradient of the pooled features fit a float, else 0
 * (results_check.c).
 */
int sfri_results_finite(const sfr_reg *reg, int64_t n, int teacher_grad, double label_loss,
                        double dlogit_bound);

/*
 * sfr_reg_compute once the busy flag is held (compute.c); sfr_reg_compute_net
 * runs it too.
 */
sfr_status sfri_reg_compute_held(sfr_reg *reg, const float *logits, const int32_t *labels,
                                 int64_t n, int64_t k, float *dlogits, double *loss);

/* Whether [a, a + bytes) and [b, b + bytes) share a byte. */
static inline int sfri_ranges_overlap(const void *a, const void *b, size_t bytes)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x <= y ? y - x < bytes : x - y < bytes;
}

/*
 * Validates the pairs for a compute and resolves their shapes; *n_out gets
 * the common N (0 with no pairs).
 */
sfr_status sfri_reg_validate_pairs(sfr_reg *reg, int64_t *n_out);

/*
 * Compute-time checks of the heads (head.c) against the logits (n, k):
 * live taps with buffers, shape (n, k, 1, 1), finite values.
 */
sfr_status sfri_heads_validate(const sfr_reg *reg, const float *logits, int64_t n, int64_t k,
                               const char *fn);

/*
 * Every head's term, w the weight factor: adds the gradients into the head
 * taps and the mutual term's into dlogits (written by the label term before),
 * stores each head's loss parts and returns their sum.
 */
double sfri_heads_compute(sfr_reg *reg, const float *logits, const int32_t *labels, int64_t n,
                          int64_t k, double w, float *dlogits);

/* log sum_j exp(z_j / temp) over logits z (K), stable (head.c); the heads
 * and the class-wise term take their log-softmax from it. */
double sfri_log_sum_exp(const float *z, int64_t k, double temp);

/*
 * Finds each sample's class-wise partner (classwise.c) for labels (n) in
 * [0, k): the next sample of its class, wrapping around, -1 when alone.
 * SFR_ERR_NOMEM (for fn) when the partner list cannot grow.
 */
sfr_status sfri_classwise_partners(sfr_reg *reg, const int32_t *labels, int64_t n, int64_t k,
                                   const char *fn);

/*
 * The class-wise term over logits (n, k) with the partners found last,
 * weight the weight factor w(t): returns its loss and, when dlogits is not
 * NULL, adds its gradient there.
 */
double sfri_classwise_term(const sfr_reg *reg, const float *logits, int64_t n, int64_t k,
                           double weight, float *dlogits);

/*
 * scale * T^2 * sum_n KL(softmax(teacher_row[n] / T) || softmax(z_n / T))
 * over logits z (n, k), teacher rows (k floats each) held constant, samples
 * with row[n] < 0 left out (soft_target.c). When dlogits is not NULL, adds
 * scale * T * (softmax(z_n / T) - softmax(teacher_row[n] / T)) there.
 */
double sfri_soft_target_kl(const float *logits, const float *teacher, const int64_t *row,
                           int64_t n, int64_t k, double temp, double scale, float *dlogits);

/*
 * Before a compute with the last-batch term (last_batch.c): sizes both
 * slots for n x k (the stored batch kept) and finds each pending id's row
 * in the stored batch (none when its k differs). SFR_ERR_NOMEM (for fn),
 * nothing stored changed, when a buffer cannot grow.
 */
sfr_status sfri_last_batch_prepare(sfr_reg *reg, int64_t n, int64_t k, const char *fn);

/* The last-batch term over logits (n, k) with the rows found by prepare,
 * weight w(t): returns its loss and, when dlogits is not NULL, adds its
 * gradient there. */
double sfri_last_batch_term(const sfr_reg *reg, const float *logits, int64_t n, int64_t k,
                            double weight, float *dlogits);

/* After a successful compute: stores logits (n, k) and the pending ids as
 * the batch the next compute learns from. */
void sfri_last_batch_store(sfr_reg *reg, const float *logits, int64_t n, int64_t k);

/* Forgets the stored batch (a compute without the term, a loaded checkpoint). */
void sfri_last_batch_forget(sfr_reg *reg);

/* Frees the term's buffers (sfr_reg_destroy). */
void sfri_last_batch_free(sfr_reg *reg);

/* The factor of the pair and head weights at progress t: min(1, t / warmup,
 * (1 - t) / cooldown), a term left out when its parameter is 0. */
double sfri_weight_factor(double warmup, double cooldown, double t);

/*
 * Makes room for one more element in a list of count elements of elem bytes
 * (*items with capacity *cap), doubling it when full (reg.c). Returns 0, or
 * -1 with the list unchanged when it cannot grow.
 */
int sfri_grow_list(void **items, int *cap, int count, size_t elem);

/*
 * A grow-only buffer (reg.c): when *buf holds fewer than need elements of
 * elem bytes, replaces it by one of need that starts with its first keep
 * elements. Returns 0, or -1 with *buf and *cap unchanged when out of
 * memory. Buffers sized this way make computes of unchanged shapes
 * allocate nothing.
 */
int sfri_grow_buffer(void **buf, size_t *cap, size_t need, size_t keep, size_t elem);

/*
 * A getter of one loss the last compute stored (reg.c): checks reg and value
 * for fn, then copies the double at offset (offsetof(sfr_reg, field)).
 */
sfr_status sfri_reg_stored_loss(const sfr_reg *reg, size_t offset, double *value,
                                const char *fn);

/* Sizes the workspace for the resolved shapes (allocates only if it grows). */
sfr_status sfri_reg_workspace(sfr_reg *reg, int threads);

/*
 * Entry and exit of every call that changes a regularizer (busy.c): enter
 * checks the handle and takes the busy flag, or fails with SFR_ERR_MISUSE
 * while another call holds it; leave releases it and returns st, so that a
 * public function reads
 *     st = sfri_reg_enter(reg, fn);
 *     return st != SFR_OK ? st : sfri_reg_leave(reg, held_call(reg, ...));
 */
sfr_status sfri_reg_enter(sfr_reg *reg, const char *func);
sfr_status sfri_reg_leave(sfr_reg *reg, sfr_status st);

#endif /* SFR_LIB_REG_INTERNAL_H */
