/*
 * Helpers shared by the tests/test_reg_*.c suites: deterministic random
 * data, wrapped pairs, and the bridge from a regularizer's parameters to
 * the reference kernels of lib/reg/ref.h.
 */
#ifndef SFR_TESTS_REG_FIXTURE_H
#define SFR_TESTS_REG_FIXTURE_H

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "net/net_impl.h"
#include "reg/ref.h"
#include "reg/reg_internal.h"
#include "sfr/sfr.h"

static uint64_t fx_rng = 88172645463325252ull;

static inline void fx_seed(uint64_t s)
{
    fx_rng = s * 0x9E3779B97F4A7C15ull + 1;
}

/* Uniform in [0, 1) (xorshift64*). */
static inline double fx_uniform(void)
{
    fx_rng ^= fx_rng >> 12;
    fx_rng ^= fx_rng << 25;
    fx_rng ^= fx_rng >> 27;
    return (double)((fx_rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static inline double fx_gauss(void)
{
    double u = fx_uniform(), v = fx_uniform();
    return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

/* Gaussian values, or |gaussian| like post-ReLU activations when relu. */
static inline void fx_fill(float *x, int64_t n, int relu)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)(relu ? fabs(fx_gauss()) : fx_gauss());
}

/* n random transport costs in [0, range), for Sinkhorn tests. */
static inline void fx_random_cost(double *c, int64_t n, double range)
{
    for (int64_t i = 0; i < n; i++)
        c[i] = range * fx_uniform();
}

static inline double *fx_to_double(const float *x, int64_t n)
{
    double *d = malloc((size_t)n * sizeof *d);
    ck_assert_ptr_nonnull(d);
    for (int64_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

static inline double fx_max_abs(const double *x, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

/*
 * The net of a tap made with sfri_tap_new_owned, standing for one that is
 * compiled and has run a forward: compute reads only that from it.
 */
static inline struct sfr_net *fx_forwarded_net(void)
{
    static struct sfr_net net;
    net.phase = SFRI_PHASE_TRAINED;
    return &net;
}

/* One pair's shapes: student (N, Cs, Hs, Ws), teacher (N, Ct, Ht, Wt). */
struct fx_shape {
    int64_t n, cs, hs, ws, ct, ht, wt;
};

/* Host buffers of a pair and their taps. */
struct fx_pair {
    struct fx_shape sh;
    int64_t ns, nt;         /* elements of student and teacher */
    float *s, *t, *gs, *gt; /* data and gradient buffers */
    sfr_tap *ts, *tt;
};

static inline void fx_pair_make(struct fx_pair *p, struct fx_shape sh, int relu)
{
    p->sh = sh;
    p->ns = sh.n * sh.cs * sh.hs * sh.ws;
    p->nt = sh.n * sh.ct * sh.ht * sh.wt;
    p->s = malloc((size_t)p->ns * sizeof(float));
    p->t = malloc((size_t)p->nt * sizeof(float));
    p->gs = calloc((size_t)p->ns, sizeof(float));
    p->gt = calloc((size_t)p->nt, sizeof(float));
    ck_assert(p->s && p->t && p->gs && p->gt);
    fx_fill(p->s, p->ns, relu);
    fx_fill(p->t, p->nt, relu);
    int64_t ds[4] = {sh.n, sh.cs, sh.hs, sh.ws}, dt[4] = {sh.n, sh.ct, sh.ht, sh.wt};
    ck_assert_int_eq(sfr_tap_wrap(ds, p->s, p->gs, &p->ts), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(dt, p->t, p->gt, &p->tt), SFR_OK);
}

/* A regularizer at its defaults with one pair, beta 1, on fresh post-ReLU data. */
static inline sfr_reg *fx_reg_one_pair(struct fx_pair *p, struct fx_shape sh)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    fx_pair_make(p, sh, 1);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p->ts, p->tt, 1, NULL), SFR_OK);
    return reg;
}

static inline void fx_pair_free(struct fx_pair *p)
{
    sfr_tap_destroy(p->ts);
    sfr_tap_destroy(p->tt);
    free(p->s);
    free(p->t);
    free(p->gs);
    free(p->gt);
}

static inline double fx_param(const sfr_reg *reg, sfr_param key)
{
    double v;
    ck_assert_int_eq(sfr_reg_get_param(reg, key, &v), SFR_OK);
    return v;
}

/* The factor of reg's pair and head weights at its progress (docs/sfr.md):
 * min(1, t / warmup, (1 - t) / cooldown), a term dropped when its parameter is 0. */
static inline double fx_weight_factor(const sfr_reg *reg)
{
    double warmup = fx_param(reg, SFR_PARAM_WARMUP), cooldown = fx_param(reg, SFR_PARAM_COOLDOWN);
    double t = reg->progress;
    double up = warmup > 0 ? t / warmup : 1.0, down = cooldown > 0 ? (1.0 - t) / cooldown : 1.0;
    return fmin(1.0, fmin(up, down));
}

/* The reference problem of a pair under reg's parameters (grids resolved as SFR.md 2). */
static inline struct sfri_ref_pair fx_ref_problem(const sfr_reg *reg, struct fx_shape sh,
                                                  double beta)
{
    struct sfri_ref_pair r = {.n = sh.n, .cs = sh.cs, .hs = sh.hs, .ws = sh.ws, .ct = sh.ct,
                              .ht = sh.ht, .wt = sh.wt};
    double tgh = fx_param(reg, SFR_PARAM_TEACHER_GRID_H), tgw = fx_param(reg, SFR_PARAM_TEACHER_GRID_W);
    double gh = fx_param(reg, SFR_PARAM_GRID_H), gw = fx_param(reg, SFR_PARAM_GRID_W);
    r.tgh = tgh > 0 ? (int64_t)tgh : sh.ht;
    r.tgw = tgw > 0 ? (int64_t)tgw : sh.wt;
    r.gh = gh > 0 ? (int64_t)gh : r.tgh;
    r.gw = gw > 0 ? (int64_t)gw : r.tgw;
    r.norm = (int)fx_param(reg, SFR_PARAM_NORM);
    r.match = (int)fx_param(reg, SFR_PARAM_MATCH);
    r.max_iter = (int)fx_param(reg, SFR_PARAM_MAX_ITER);
    r.delta = fx_param(reg, SFR_PARAM_DELTA);
    r.eps = fx_param(reg, SFR_PARAM_SINKHORN_EPS);
    r.tol = fx_param(reg, SFR_PARAM_TOL);
    r.eps_relative = (int)fx_param(reg, SFR_PARAM_EPS_RELATIVE);
    r.scaling = fx_param(reg, SFR_PARAM_EPS_SCALING);
    r.beta = beta * fx_weight_factor(reg);
    return r;
}

/* The reference loss and gradients (ds, dt may be NULL) of a pair's current data. */
static inline double fx_ref_pair(const sfr_reg *reg, const struct fx_pair *p, double beta,
                                 double *ds, double *dt, int *iters, double *err)
{
    struct sfri_ref_pair r = fx_ref_problem(reg, p->sh, beta);
    double *s = fx_to_double(p->s, p->ns), *t = fx_to_double(p->t, p->nt);
    double *plans = malloc((size_t)(r.n * r.gh * r.gw * r.tgh * r.tgw) * sizeof(double));
    double loss;
    ck_assert_int_eq(sfri_ref_pair_loss(&r, s, t, plans, 0, ds, dt, &loss, iters, err), 0);
    free(plans);
    free(s);
    free(t);
    return loss;
}

/* |got - want| <= tol * max|want| elementwise, for float results against double. */
static inline void fx_assert_close(const float *got, const double *want, int64_t n, double tol,
                                   const char *what)
{
    double scale = fx_max_abs(want, n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(fabs((double)got[i] - want[i]) <= tol * scale,
                      "%s[%lld]: %.9g, reference %.9g (scale %.3g)", what, (long long)i,
                      (double)got[i], want[i], scale);
}

#endif /* SFR_TESTS_REG_FIXTURE_H */
