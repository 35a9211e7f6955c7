/*
 * sfr_reg_compute: the whole objective of SFR.md section 9.
 *
 * Order, so that a failure writes nothing the host can see:
 *   1. check every argument and pair, resolve shapes;
 *   2. size the workspace and, for a fresh `past` bank, allocate it;
 *   3. pool and normalize every feature map of a sample into its thread's
 *      workspace, which is also where non-finite values are caught, and (5,
 *      which writes only the workspace) per pair: cost, plan, loss,
 *      gradients of the pooled features (through the normalization while
 *      the features are in cache); both per sample, samples in parallel;
 * after which nothing can fail:
 *   4. the label term (writes dlogits);
 *   6. per sample: gradients added into the taps through the pooling
 *      (samples in parallel, pairs in order: taps shared by pairs
 *      are written by one thread per sample);
 *   7. stored losses, statistics, bank, the last-batch store and ids.
 */
#include <math.h>
#include <omp.h>
#include <string.h>

#include "common/common.h"
#include "reg_internal.h"

static const char *const fn = "sfr_reg_compute";

/* Smallest mean cost a relative eps is taken from (rms features have costs of about 1). */
#define EPS_COST_FLOOR 1e-12

static sfr_status check_label_args(const sfr_reg *reg, const float *logits,
                                   const int32_t *labels, int64_t n, int64_t k,
                                   const float *dlogits, int64_t n_feat)
{
    if (logits == NULL) {
        if (k != 0)
            return sfri_fail(SFR_ERR_INVALID_ARG, fn, "logits is NULL but k = %lld (k = 0 "
                             "means no label term)", (long long)k);
        return SFR_OK;
    }
    if (n < 1 || k < 1)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "logits of %lld x %lld: n and k must be >= 1",
                         (long long)n, (long long)k);
    if (labels == NULL || dlogits == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "%s is NULL",
                         labels == NULL ? "labels" : "dlogits");
    if (sfri_ranges_overlap(logits, dlogits, (size_t)n * (size_t)k * sizeof(float)))
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "dlogits overlaps logits: the gradient "
                         "needs its own buffer");
    if (n_feat > 0 && n_feat != n)
        return sfri_fail(SFR_ERR_SHAPE, fn, "logits have n = %lld, the taps N = %lld",
                         (long long)n, (long long)n_feat);
    for (int64_t s = 0; s < n; s++)
        if (labels[s] < 0 || labels[s] >= k)
            return sfri_fail(SFR_ERR_INVALID_ARG, fn, "labels[%lld] = %d is outside [0, %lld)",
                             (long long)s, (int)labels[s], (long long)k);
    for (int64_t i = 0; i < n * k; i++)
        if (!isfinite(logits[i]))
            return sfri_fail(SFR_ERR_NONFINITE, fn, "logits[%lld] = %g is not finite",
                             (long long)i, (double)logits[i]);
    const int past = reg->param[SFRI_P_LS_SOURCE] == SFR_LS_PAST;
    if (!past && !(reg->param[SFRI_P_LAST_BATCH] > 0))
        return SFR_OK;
    if (!reg->ids_pending)
        return sfri_fail(SFR_ERR_STATE, fn, "%s needs sample ids: call sfr_reg_set_sample_ids "
                         "before each compute", past ? "ls_source past" : "last_batch > 0");
    if (reg->nids != n)
        return sfri_fail(SFR_ERR_SHAPE, fn, "%lld sample ids pending for n = %lld samples",
                         (long long)reg->nids, (long long)n);
    if (!past)
        return SFR_OK;
    int64_t size = (int64_t)reg->param[SFRI_P_LS_BANK_SIZE];
    for (int64_t s = 0; s < n; s++)
        if (reg->ids[s] >= size)
            return sfri_fail(SFR_ERR_INVALID_ARG, fn, "sample id %lld is outside the bank of "
                             "ls_bank_size = %lld", (long long)reg->ids[s], (long long)size);
    return SFR_OK;
}

/* The pooling geometry of one side of a pair, with its windows in the workspace. */
static struct sfri_pool_geom geom(const sfr_reg *reg, const struct sfri_pair_shape *sh,
                                  int teacher)
{
    struct sfri_pool_geom g;
    if (teacher) {
        g = (struct sfri_pool_geom){sh->ct, sh->ht, sh->wt, sh->tgh, sh->tgw,
                                    reg->wi + sh->win_th, reg->wi + sh->win_tw};
    } else {
        g = (struct sfri_pool_geom){sh->cs, sh->hs, sh->ws, sh->gh, sh->gw,
                                    reg->wi + sh->win_sh, reg->wi + sh->win_sw};
    }
    return g;
}

/* Sample s of a tap pooled and normalized: from its blocked view when it has one. */
static int pool_side(const sfr_tap *tap, const struct sfri_pool_geom *g, int64_t s,
                     const struct sfri_feature_opts *o, double *feat, double *r, double *scr)
{
    const int64_t off = s * g->c * g->h * g->w;
    if (tap->blocked != NULL)
        return sfri_pool_normalize_blocked(g, tap->block, tap->blocked + off, o->norm, o->delta,
                                           feat, r);
    return sfri_pool_normalize(g, tap->data + off, o->norm, o->delta, feat, r, scr);
}

/* Gradient d (A, C) of sample s added through the pooling into a tap. */
static void unpool_side(sfr_tap *tap, const struct sfri_pool_geom *g, int64_t s,
                        const double *d, int zero, double *scr)
{
    const int64_t off = s * g->c * g->h * g->w;
    if (tap->blocked != NULL)
        sfri_unpool_blocked(g, tap->block, d, tap->blocked_grad + off, zero);
    else
        sfri_unpool(g, d, tap->grad + off, scr);
}

/*
 * Step 3 for one sample: every map pooled and normalized into feat, the
 * features of the thread's region; returns the smallest 2*pair + side
 * (1 = teacher) of a map holding a non-finite value, or INT32_MAX.
 */
static int pool_sample(sfr_reg *reg, int64_t s, double *feat, double *scr,
                       const struct sfri_feature_opts *o)
{
    int bad = INT32_MAX;
    for (int p = 0; p < reg->npairs; p++) {
        const struct sfri_pair *pair = &reg->pairs[p];
        const struct sfri_pair_shape *sh = &pair->shape;
        struct sfri_pool_geom gs = geom(reg, sh, 0), gt = geom(reg, sh, 1);
        if (pool_side(pair->student, &gs, s, o, feat + sh->xs, feat + sh->rs, scr) != 0 &&
            2 * p < bad)
            bad = 2 * p;
        if (sh->teacher_from == p &&
            pool_side(pair->teacher, &gt, s, o, feat + sh->ys, feat + sh->rt, scr) != 0 &&
            2 * p + 1 < bad)
            bad = 2 * p + 1;
    }
    return bad;
}

/* Results of one transport solve, folded over the solves of a sample. */
struct solve_stats {
    int iterations;   /* the largest count */
    double error;     /* the largest final marginal error */
    int capped;       /* solves that stopped at max_iter short of tol */
};

/*
 * The plan (A, B) of cost (A, B) under the pair options: entropic OT at eps
 * (times the mean cost with eps_relative), or the identity of `l2`.
 * Returns <P, C>.
 */
static double solve(const double *cost, int64_t a, int64_t b, const struct sfri_feature_opts *o,
                    double *plan, double *sk, struct solve_stats *st)
{
    if (o->match == SFR_MATCH_EMD) {
        double eps = o->eps;
        if (o->eps_relative) {
            double mean = 0;
            for (int64_t i = 0; i < a * b; i++)
                mean += cost[i];
            /* A zero cost (identical features) makes every plan optimal: any eps will do. */
            eps *= fmax(mean / (double)(a * b), EPS_COST_FLOOR);
        }
        int iters;
        double err;
        sfri_sinkhorn(cost, a, b, eps, o->scaling, o->max_iter, o->tol, plan, &iters, &err, sk);
        st->iterations = iters > st->iterations ? iters : st->iterations;
        st->error = fmax(st->error, err);
        st->capped += iters >= o->max_iter && !(err < o->tol);
    } else {
        memset(plan, 0, (size_t)(a * b) * sizeof *plan);
        for (int64_t i = 0; i < a; i++)
            plan[i * b + i] = 1.0 / (double)a;
    }
    double l = 0;
    for (int64_t i = 0; i < a * b; i++)
        l += plan[i] * cost[i];
    return l;
}

/*
 * The debiasing term of one side (docs/sfr.md, "Debiased divergence"):
 * solves OT(x, x) for x (A, C) and returns it; with dx not NULL, adds
 * -1/2 of its gradient (plan fixed, x on both sides of the cost) times
 * 2w/C to dx (A, C). scr holds cost and plan (A, A), tmp 4C, dtmp A*C.
 */
static double self_transport(const double *x, int64_t a, int64_t c, double w,
                             const struct sfri_feature_opts *o, double *scr, double *tmp,
                             double *dtmp, double *sk, double *dx, struct solve_stats *st)
{
    const struct sfri_pair_shape self = {.a = a, .b = a, .cs = c, .ct = c, .g = c, .m = c,
                                         .n_s = 1, .n_t = 1};
    double *cost = scr, *plan = scr + a * a;   // (A, A), (A, A)
    sfri_cost(&self, x, x, x, x, cost);
    double l = solve(cost, a, a, o, plan, sk, st);
    if (dx != NULL)
        for (int transposed = 0; transposed < 2; transposed++) {
            sfri_cost_grad(plan, a, a, transposed, x, c, x, c, 1.0, 2 * w / (double)c, tmp, dtmp);
            for (int64_t i = 0; i < a * c; i++)
                dx[i] -= 0.5 * dtmp[i];
        }
    return l;
}

/* Step 5 for one pair and sample, whose features pool_sample wrote into feat. */
static void transport_one(sfr_reg *reg, const struct sfri_pair *pair, int64_t s,
                          const double *feat, double *scr, const struct sfri_feature_opts *o)
{
    const struct sfri_pair_shape *sh = &pair->shape;
    const int64_t a = sh->a, b = sh->b, g = sh->g;
    const int64_t ab_max = a > b ? a : b;
    const int64_t square = o->debias ? ab_max * ab_max : a * b;
    double *w = reg->ws;
    const double *x = feat + sh->xs;   // (A, Cs)
    const double *y = feat + sh->ys;   // (B, Ct)
    double *cost = scr, *plan = cost + square;            // (A, B), (A, B)
    double *xgb = plan + square, *ygb = xgb + a * g;     // (A, G), (B, G)
    double *tmp = ygb + b * g, *dtmp = tmp + 4 * g;      // (4, G), (max(A, B), Cs) debias
    double *sk = dtmp + (o->debias ? ab_max * sh->cs : 0);   // Sinkhorn's
    /* The side with one channel per group is its own group sum. */
    const double *xg = x, *yg = y;
    if (sh->cs != g) {
        sfri_group_sum(x, a, sh->cs, g, xgb);
        xg = xgb;
    }
    if (sh->ct != g) {
        sfri_group_sum(y, b, sh->ct, g, ygb);
        yg = ygb;
    }
    sfri_cost(sh, x, y, xg, yg, cost);
    struct solve_stats st = {0, 0, 0};
    double l = solve(cost, a, b, o, plan, sk, &st);
    const double pw = o->weight * pair->beta / (double)sh->n;   /* the pair's weight over N */
    double *dx = w + sh->dxs + s * a * sh->cs;   // (A, Cs)
    double *dy = o->teacher_grad ? w + sh->dys + s * b * sh->ct : NULL;   // (B, Ct)
    sfri_cost_grad(plan, a, b, 0, x, sh->cs, yg, g, (double)sh->n_t, 2 * pw / (double)sh->m,
                   tmp, dx);
    if (dy != NULL)
        sfri_cost_grad(plan, a, b, 1, y, sh->ct, xg, g, (double)sh->n_s, 2 * pw / (double)sh->m,
                       tmp, dy);
    if (o->debias) {
        /* Cs = Ct = G here (checked by validation). */
        l -= 0.5 * self_transport(x, a, sh->cs, pw, o, scr, tmp, dtmp, sk, dx, &st);
        l -= 0.5 * self_transport(y, b, sh->ct, pw, o, scr, tmp, dtmp, sk, dy, &st);
    }
    w[sh->loss + s] = l;
    w[sh->err + s] = st.error;
    w[sh->iters + s] = st.iterations;
    w[sh->capped + s] = st.capped;
    sfri_normalize_backward(a, sh->cs, o->norm, x, feat + sh->rs, dx);
    if (dy != NULL)
        sfri_normalize_backward(b, sh->ct, o->norm, y, feat + sh->rt, dy);
}

/*
 * Steps 3 and 5, one sample at a time. The schedule is static, and step 6
 * uses the same one: each thread then finds the gradients of the pooled
 * features it wrote here (dxs, dys) in its own cache, instead of fetching
 * them from the other core's, which cost a third of the compute when
 * samples were handed out dynamically. The transport only writes the
 * workspace, so it may run before the non-finite check (a sample with
 * such a map skips it). Returns -1, or 2*pair + side of the first map
 * holding a non-finite value.
 */
static int pool_and_transport(sfr_reg *reg, int64_t n, int threads,
                              const struct sfri_feature_opts *o)
{
    int bad = INT32_MAX;
#pragma omp parallel for schedule(static) num_threads(threads) reduction(min : bad)
    for (int64_t s = 0; s < n; s++) {
        double *feat = reg->ws + reg->thread_off +
                       (size_t)omp_get_thread_num() * reg->per_thread;
        double *scr = feat + reg->feat_per_thread;
        int b = pool_sample(reg, s, feat, scr, o);
        bad = b < bad ? b : bad;
        if (b == INT32_MAX)
            for (int p = 0; p < reg->npairs; p++)
                transport_one(reg, &reg->pairs[p], s, feat, scr, o);
    }
    return bad == INT32_MAX ? -1 : bad;
}

/*
 * Step 6: per sample, pairs in order, so a tap shared by pairs is written by
 * one thread per sample in a fixed order; the samples go to the threads
 * that computed them in pool_and_transport (same static schedule).
 */
static void scatter_gradients(sfr_reg *reg, int64_t n, int threads,
                              const struct sfri_feature_opts *o)
{
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t s = 0; s < n; s++) {
        double *scr = reg->ws + reg->thread_off + reg->feat_per_thread +
                      (size_t)omp_get_thread_num() * reg->per_thread;
        for (int p = 0; p < reg->npairs; p++) {
            const struct sfri_pair *pair = &reg->pairs[p];
            const struct sfri_pair_shape *sh = &pair->shape;
            double *w = reg->ws;
            struct sfri_pool_geom gs = geom(reg, sh, 0);
            unpool_side(pair->student, &gs, s, w + sh->dxs + s * sh->a * sh->cs,
                        pair->zero_student, scr);
            if (!o->teacher_grad)
                continue;
            struct sfri_pool_geom gt = geom(reg, sh, 1);
            unpool_side(pair->teacher, &gt, s, w + sh->dys + s * sh->b * sh->ct,
                        pair->zero_teacher, scr);
        }
    }
}

/*
 * Before step 6: which pair writes first, in step 6's order, into each
 * blocked gradient not written since the net's training forward (it
 * overwrites, so the forward need not zero those buffers); after it, all
 * of them hold values.
 */
static void plan_blocked_gradients(sfr_reg *reg, int teacher_grad)
{
    for (int p = 0; p < reg->npairs; p++) {
        struct sfri_pair *pair = &reg->pairs[p];
        pair->zero_student = pair->student->blocked != NULL && !pair->student->blocked_grad_live;
        pair->zero_teacher = teacher_grad && pair->teacher->blocked != NULL &&
                             !pair->teacher->blocked_grad_live && pair->teacher != pair->student;
        for (int q = 0; q < p; q++) {
            const struct sfri_pair *prev = &reg->pairs[q];
            int student_done = prev->student == pair->student ||
                               (teacher_grad && prev->teacher == pair->student);
            int teacher_done = prev->student == pair->teacher ||
                               (teacher_grad && prev->teacher == pair->teacher);
            pair->zero_student = pair->zero_student && !student_done;
            pair->zero_teacher = pair->zero_teacher && !teacher_done;
        }
    }
}

static void mark_blocked_gradients(sfr_reg *reg, int teacher_grad)
{
    for (int p = 0; p < reg->npairs; p++) {
        struct sfri_pair *pair = &reg->pairs[p];
        if (pair->student->blocked != NULL)
            pair->student->blocked_grad_live = 1;
        if (teacher_grad && pair->teacher->blocked != NULL)
            pair->teacher->blocked_grad_live = 1;
    }
}

/* Step 7 for the pairs: per-sample results folded into the stored loss and stats. */
static double store_pair_results(sfr_reg *reg, int64_t n, const struct sfri_feature_opts *o)
{
    double total = 0;
    for (int p = 0; p < reg->npairs; p++) {
        struct sfri_pair *pair = &reg->pairs[p];
        const double *w = reg->ws;
        double sum = 0, err = 0;
        int iters = 0;
        int64_t capped = 0;
        for (int64_t s = 0; s < n; s++) {
            sum += w[pair->shape.loss + s];
            err = fmax(err, w[pair->shape.err + s]);
            iters = (int)fmax(iters, w[pair->shape.iters + s]);
            capped += (int64_t)w[pair->shape.capped + s];
        }
        pair->loss = o->weight * pair->beta * sum / (double)n;
        pair->error = err;
        pair->iterations = iters;
        pair->solves = o->match == SFR_MATCH_EMD ? (o->debias ? 3 * n : n) : 0;
        pair->capped = capped;
        total += pair->loss;
    }
    return total;
}

sfr_status sfri_reg_compute_held(sfr_reg *reg, const float *logits, const int32_t *labels,
                                 int64_t n, int64_t k, float *dlogits, double *loss)
{
    sfr_status st = sfri_check_handle(reg, SFRI_MAGIC_REG, fn, "reg");
    if (st != SFR_OK)
        return st;
    if (loss == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "loss is NULL");
    int64_t n_feat = 0;
    if ((st = sfri_reg_validate_pairs(reg, &n_feat)) != SFR_OK ||
        (st = check_label_args(reg, logits, labels, n, k, dlogits, n_feat)) != SFR_OK ||
        (st = sfri_heads_validate(reg, logits, n, k, fn)) != SFR_OK)
        return st;
    const double *prm = reg->param;
    const int has_label = logits != NULL;
    const int past = has_label && prm[SFRI_P_LS_SOURCE] == SFR_LS_PAST;
    const int threads = omp_get_max_threads();

    if ((st = sfri_reg_workspace(reg, threads)) != SFR_OK)
        return st;
    const int classwise = has_label && prm[SFRI_P_CLASSWISE] > 0;
    if (classwise && (st = sfri_classwise_partners(reg, labels, n, k, fn)) != SFR_OK)
        return st;
    const int last_batch = has_label && prm[SFRI_P_LAST_BATCH] > 0;
    if (last_batch && (st = sfri_last_batch_prepare(reg, n, k, fn)) != SFR_OK)
        return st;
    /* A bank for another K (or none yet) starts empty: every sample unseen. */
    float *new_bank = NULL;
    uint8_t *new_seen = NULL;
    const int fresh_bank = past && reg->bank_k != k;
    if (fresh_bank) {
        size_t size = (size_t)prm[SFRI_P_LS_BANK_SIZE];
        new_bank = sfri_malloc(sfri_mul_size(size, sfri_mul_size((size_t)k, sizeof(float))));
        new_seen = sfri_calloc(size, 1);
        if (new_bank == NULL || new_seen == NULL) {
            sfri_free(new_bank);
            sfri_free(new_seen);
            return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for a bank of %zu x %lld", size,
                             (long long)k);
        }
    }
    const struct sfri_feature_opts fo = {
        .eps = prm[SFRI_P_SINKHORN_EPS], .tol = prm[SFRI_P_TOL], .delta = prm[SFRI_P_DELTA],
        .scaling = prm[SFRI_P_EPS_SCALING],
        .weight = sfri_weight_factor(prm[SFRI_P_WARMUP], prm[SFRI_P_COOLDOWN], reg->progress),
        .max_iter = (int)prm[SFRI_P_MAX_ITER], .match = (int)prm[SFRI_P_MATCH],
        .norm = (int)prm[SFRI_P_NORM], .teacher_grad = (int)prm[SFRI_P_TEACHER_GRAD],
        .eps_relative = (int)prm[SFRI_P_EPS_RELATIVE], .debias = (int)prm[SFRI_P_DEBIAS]};
    int bad = pool_and_transport(reg, n_feat, threads, &fo);
    if (bad >= 0) {
        sfri_free(new_bank);
        sfri_free(new_seen);
        return sfri_fail(SFR_ERR_NONFINITE, fn, "pair %d: the %s feature map holds NaN or "
                         "infinity", bad / 2, bad % 2 ? "teacher" : "student");
    }

    double label_loss = 0, classwise_loss = 0, last_batch_loss = 0;
    const struct sfri_label_opts lo = {
        .eps_t = sfri_ls_eps((int)prm[SFRI_P_LS_SCHEDULE], prm[SFRI_P_LS_EPS_START],
                             prm[SFRI_P_LS_EPS_END], reg->progress),
        .temperature = prm[SFRI_P_LS_TEMPERATURE], .gamma = prm[SFRI_P_GAMMA],
        .source = (int)prm[SFRI_P_LS_SOURCE]};
    const float *bank = fresh_bank ? NULL : reg->bank;
    /* The logit terms' losses alone first (K is small: it costs little), so
     * that the safety net sees the whole loss before dlogits is written. */
    if (has_label)
        label_loss = sfri_label_term(&lo, logits, labels, n, k, reg->ids, bank, reg->bank_seen,
                                     NULL);
    if (classwise)
        classwise_loss = sfri_classwise_term(reg, logits, n, k, fo.weight, NULL);
    if (last_batch)
        last_batch_loss = sfri_last_batch_term(reg, logits, n, k, fo.weight, NULL);
    /* |p - q| <= 1 in the label term, each head's mutual term and the KL terms. */
    const double dlogit_bound =
        has_label ? (lo.gamma +
                     reg->nheads * prm[SFRI_P_HEAD_MUTUAL] * prm[SFRI_P_HEAD_TEMPERATURE] +
                     prm[SFRI_P_CLASSWISE] * prm[SFRI_P_CLASSWISE_TEMPERATURE] +
                     prm[SFRI_P_LAST_BATCH] * prm[SFRI_P_LAST_BATCH_TEMPERATURE]) / (double)n
                  : 0;
    if (!sfri_results_finite(reg, n_feat, fo.teacher_grad,
                             label_loss + classwise_loss + last_batch_loss, dlogit_bound)) {
        sfri_free(new_bank);
        sfri_free(new_seen);
        return sfri_fail(SFR_ERR_NONFINITE, fn, "the loss or a gradient is not finite in float "
                         "(label loss %g)", label_loss);
    }
    if (has_label)
        sfri_label_term(&lo, logits, labels, n, k, reg->ids, bank, reg->bank_seen, dlogits);
    if (classwise)
        sfri_classwise_term(reg, logits, n, k, fo.weight, dlogits);
    if (last_batch)
        sfri_last_batch_term(reg, logits, n, k, fo.weight, dlogits);
    plan_blocked_gradients(reg, fo.teacher_grad);
    scatter_gradients(reg, n_feat, threads, &fo);
    mark_blocked_gradients(reg, fo.teacher_grad);
    double head_loss =
        has_label ? sfri_heads_compute(reg, logits, labels, n, k, fo.weight, dlogits) : 0;

    double total = label_loss + classwise_loss + last_batch_loss + head_loss +
                   store_pair_results(reg, n_feat, &fo);
    reg->label_loss = label_loss;
    reg->classwise_loss = classwise_loss;
    reg->last_batch_loss = last_batch_loss;
    if (last_batch)
        sfri_last_batch_store(reg, logits, n, k);
    else if (has_label)
        sfri_last_batch_forget(reg);
    if (past) {
        if (fresh_bank) {
            sfri_free(reg->bank);
            sfri_free(reg->bank_seen);
            reg->bank = new_bank;
            reg->bank_seen = new_seen;
            reg->bank_k = k;
        }
        sfri_label_bank_update(logits, n, k, reg->ids, reg->bank, reg->bank_seen);
    }
    if (has_label)
        reg->ids_pending = 0;
    *loss = total;
    return SFR_OK;
}

SFR_API sfr_status sfr_reg_compute(sfr_reg *reg, const float *logits, const int32_t *labels,
                                   int64_t n, int64_t k, float *dlogits, double *loss)
{
    sfr_status st = sfri_reg_enter(reg, fn);
    return st != SFR_OK ? st
                        : sfri_reg_leave(reg, sfri_reg_compute_held(reg, logits, labels, n, k,
                                                                    dlogits, loss));
}
