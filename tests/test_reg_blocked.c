/*
 * The regularizer's pooling and its gradient on the nChw16c and nChw8c
 * layouts of net taps (lib/reg/pool_blocked.c) against the reference
 * pooling on the same values in NCHW: shapes of both reference networks'
 * taps, overlapping windows, a same-size grid; overwrite and add; the
 * overflow fallback and the non-finite check.
 */
#include <float.h>

#include "reg_fixture.h"

/* (C, H, W, Gh, Gw), C a multiple of 16. */
static const int64_t shapes[][5] = {
    {16, 28, 28, 4, 4}, {32, 14, 14, 4, 4}, {64, 7, 7, 4, 4}, {32, 4, 4, 4, 4},
    {16, 9, 13, 2, 5},  {48, 5, 6, 1, 1},
};

/* The two blocks of oneDNN's layouts the kernels take. */
static const int blocks[2] = {16, 8};

/* Index in (C/block, H*W, block) of channel ch at position k. */
static int64_t at(int64_t ch, int64_t k, int64_t hw, int block)
{
    return ((ch / block) * hw + k) * block + ch % block;
}

/* blocked <- plain (C, H, W), one sample. */
static void to_blocked(const float *plain, int64_t c, int64_t hw, int block, float *blocked)
{
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t k = 0; k < hw; k++)
            blocked[at(ch, k, hw, block)] = plain[ch * hw + k];
}

static void from_blocked(const float *blocked, int64_t c, int64_t hw, int block, float *plain)
{
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t k = 0; k < hw; k++)
            plain[ch * hw + k] = blocked[at(ch, k, hw, block)];
}

struct case_geom {
    int64_t c, h, w, gh, gw, a, n, wh[2 * 32], ww[2 * 32];
    struct sfri_pool_geom geo;
};

static void setup(struct case_geom *g, const int64_t *shape)
{
    g->c = shape[0], g->h = shape[1], g->w = shape[2], g->gh = shape[3], g->gw = shape[4];
    g->a = g->gh * g->gw;
    g->n = g->c * g->h * g->w;
    sfri_pool_windows(g->h, g->gh, g->wh);
    sfri_pool_windows(g->w, g->gw, g->ww);
    g->geo = (struct sfri_pool_geom){g->c, g->h, g->w, g->gh, g->gw, g->wh, g->ww};
}

START_TEST(blocked_pooling_matches_reference)
{
    fx_seed(31);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        struct case_geom g;
        setup(&g, shapes[si]);
        float *plain = malloc((size_t)g.n * sizeof(float));
        float *blocked = malloc((size_t)g.n * sizeof(float));
        fx_fill(plain, g.n, 1);
        double *want = fx_to_double(plain, g.n);
        double *pooled = malloc((size_t)(g.a * g.c) * sizeof(double));
        double *out = malloc((size_t)(g.a * g.c) * sizeof(double)), r[64];
        sfri_ref_pool(want, g.c, g.h, g.w, g.gh, g.gw, pooled);
        for (int b = 0; b < 2; b++) {
            to_blocked(plain, g.c, g.h * g.w, blocks[b], blocked);
            for (int norm = 0; norm < 2; norm++) {
                ck_assert_int_eq(sfri_pool_normalize_blocked(&g.geo, blocks[b], blocked, norm,
                                                             1e-6, out, r),
                                 0);
                for (int64_t i = 0; i < g.a * g.c; i++)
                    ck_assert_double_eq_tol(out[i] * r[i / g.c], pooled[i], 1e-6);
            }
        }
        free(plain);
        free(blocked);
        free(want);
        free(pooled);
        free(out);
    }
}
END_TEST

START_TEST(blocked_unpooling_adds_or_overwrites_like_the_reference)
{
    fx_seed(32);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        struct case_geom g;
        setup(&g, shapes[si]);
        double *d = malloc((size_t)(g.a * g.c) * sizeof(double));
        for (int64_t i = 0; i < g.a * g.c; i++)
            d[i] = fx_gauss();
        float *blocked = malloc((size_t)g.n * sizeof(float));
        float *plain = malloc((size_t)g.n * sizeof(float));
        double *want = malloc((size_t)g.n * sizeof(double));
        for (int b = 0; b < 2; b++)
            for (int zero = 0; zero < 2; zero++) {
                /* A gradient that already holds values: kept (added to) or overwritten. */
                for (int64_t i = 0; i < g.n; i++) {
                    plain[i] = (float)(i % 5) - 2;
                    want[i] = zero ? 0 : plain[i];
                }
                to_blocked(plain, g.c, g.h * g.w, blocks[b], blocked);
                sfri_ref_pool_backward(d, g.c, g.h, g.w, g.gh, g.gw, want);
                sfri_unpool_blocked(&g.geo, blocks[b], d, blocked, zero);
                from_blocked(blocked, g.c, g.h * g.w, blocks[b], plain);
                fx_assert_close(plain, want, g.n, 1e-6, zero ? "overwritten" : "added");
            }
        free(d);
        free(blocked);
        free(plain);
        free(want);
    }
}
END_TEST

START_TEST(blocked_pooling_huge_values_are_finite_and_nan_is_caught)
{
    struct case_geom g;
    setup(&g, shapes[0]);
    float *blocked = malloc((size_t)g.n * sizeof(float));
    double *out = malloc((size_t)(g.a * g.c) * sizeof(double)), r[64];
    /* Windows of 49 values near FLT_MAX overflow a float sum: pooled again in double. */
    for (int b = 0; b < 2; b++) {
        for (int64_t i = 0; i < g.n; i++)
            blocked[i] = FLT_MAX;
        ck_assert_int_eq(
            sfri_pool_normalize_blocked(&g.geo, blocks[b], blocked, SFR_NORM_RMS, 1e-6, out, r), 0);
        for (int64_t i = 0; i < g.a * g.c; i++)
            ck_assert(isfinite(out[i]) && out[i] > 0);
        blocked[g.n / 3] = NAN;
        ck_assert_int_eq(
            sfri_pool_normalize_blocked(&g.geo, blocks[b], blocked, SFR_NORM_RMS, 1e-6, out, r), -1);
        blocked[g.n / 3] = -INFINITY;
        ck_assert_int_eq(
            sfri_pool_normalize_blocked(&g.geo, blocks[b], blocked, SFR_NORM_NONE, 1e-6, out, r),
            -1);
    }
    free(blocked);
    free(out);
}
END_TEST

Suite *reg_blocked_suite(void)
{
    Suite *s = suite_create("reg_blocked");
    TCase *tc = tcase_create("kernels");
    tcase_add_test(tc, blocked_pooling_matches_reference);
    tcase_add_test(tc, blocked_unpooling_adds_or_overwrites_like_the_reference);
    tcase_add_test(tc, blocked_pooling_huge_values_are_finite_and_nan_is_caught);
    suite_add_tcase(s, tc);
    return s;
}
