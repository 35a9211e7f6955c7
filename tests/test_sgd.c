/*
 * The SGD helper: the kernel against hand-computed PyTorch SGD sequences
 * (values chosen as short binary fractions so every step is exact in float
 * and the expected numbers can be checked with pencil and paper), the
 * parallel path against a serial loop, the step on explicit buffers, and
 * every argument error of the public functions.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "common/common.h"
#include "sfr/sfr.h"
#include "sgd/sgd.h"

/* Runs steps of the kernel on two parameters, grads[s] at step s, and checks
 * the parameters after every step against want[s] exactly. */
static void run_pair(const float p0[2], const float grads[][2], const float want[][2], int steps,
                     float lr, float momentum, float wd, int nesterov)
{
    float p[2] = {p0[0], p0[1]}, buf[2] = {NAN, NAN};
    for (int s = 0; s < steps; s++) {
        sfri_sgd_update(p, grads[s], momentum != 0.0f ? buf : NULL, 2, lr, momentum, wd,
                        nesterov, s == 0);
        ck_assert_msg(p[0] == want[s][0] && p[1] == want[s][1],
                      "step %d: got (%.9g, %.9g), want (%.9g, %.9g)", s + 1, (double)p[0],
                      (double)p[1], (double)want[s][0], (double)want[s][1]);
    }
}

START_TEST(plain_sgd_sequence)
{
    /* lr 0.5: p -= 0.5 g.  (1, -2) -> (0.75, -2.5) -> (0.625, -2). */
    const float p0[2] = {1.0f, -2.0f};
    const float g[2][2] = {{0.5f, 1.0f}, {0.25f, -1.0f}};
    const float want[2][2] = {{0.75f, -2.5f}, {0.625f, -2.0f}};
    run_pair(p0, g, want, 2, 0.5f, 0.0f, 0.0f, 0);
}
END_TEST

START_TEST(weight_decay_sequence)
{
    /* lr 0.5, wd 0.25, grad (1, 0) twice:
     * step 1: g = (1 + 0.5, 0 - 1) = (1.5, -1), p = (2 - 0.75, -4 + 0.5) = (1.25, -3.5)
     * step 2: g = (1 + 0.3125, -0.875), p = (1.25 - 0.65625, -3.5 + 0.4375)
     *         = (0.59375, -3.0625) */
    const float p0[2] = {2.0f, -4.0f};
    const float g[2][2] = {{1.0f, 0.0f}, {1.0f, 0.0f}};
    const float want[2][2] = {{1.25f, -3.5f}, {0.59375f, -3.0625f}};
    run_pair(p0, g, want, 2, 0.5f, 0.0f, 0.25f, 0);
}
END_TEST

START_TEST(momentum_sequence)
{
    /* lr 0.5, momentum 0.5; the buffer starts as the first gradient:
     * step 1: buf = (1, -2),                  p = (1 - 0.5, 0 + 1)     = (0.5, 1)
     * step 2: buf = (0.5 + 1, -1 + 2) = (1.5, 1), p = (0.5 - 0.75, 1 - 0.5) = (-0.25, 0.5)
     * step 3: buf = (0.75, 0.5) (zero grad), p = (-0.25 - 0.375, 0.5 - 0.25) = (-0.625, 0.25)
     * The buffer is NaN before the first step: reading it would poison p. */
    const float p0[2] = {1.0f, 0.0f};
    const float g[3][2] = {{1.0f, -2.0f}, {1.0f, 2.0f}, {0.0f, 0.0f}};
    const float want[3][2] = {{0.5f, 1.0f}, {-0.25f, 0.5f}, {-0.625f, 0.25f}};
    run_pair(p0, g, want, 3, 0.5f, 0.5f, 0.0f, 0);
}
END_TEST

START_TEST(nesterov_weight_decay_sequence)
{
    /* lr 0.5, momentum 0.5, wd 0.25, nesterov: d = g + 0.5 buf.
     * step 1: g = (1 + 1, 1 - 0.5) = (2, 0.5), buf = g, d = (3, 0.75),
     *         p = (4 - 1.5, -2 - 0.375) = (2.5, -2.375)
     * step 2: g = (-1 + 0.625, 0 - 0.59375) = (-0.375, -0.59375),
     *         buf = (1 - 0.375, 0.25 - 0.59375) = (0.625, -0.34375),
     *         d = (-0.375 + 0.3125, -0.59375 - 0.171875) = (-0.0625, -0.765625),
     *         p = (2.5 + 0.03125, -2.375 + 0.3828125) = (2.53125, -1.9921875)
     * step 3: g = (0.5 + 0.6328125, 0.5 - 0.498046875) = (1.1328125, 0.001953125),
     *         buf = (0.3125 + 1.1328125, -0.171875 + 0.001953125) = (1.4453125, -0.169921875),
     *         d = (1.1328125 + 0.72265625, 0.001953125 - 0.0849609375)
     *           = (1.85546875, -0.0830078125),
     *         p = (2.53125 - 0.927734375, -1.9921875 + 0.04150390625)
     *           = (1.603515625, -1.95068359375) */
    const float p0[2] = {4.0f, -2.0f};
    const float g[3][2] = {{1.0f, 1.0f}, {-1.0f, 0.0f}, {0.5f, 0.5f}};
    const float want[3][2] = {
        {2.5f, -2.375f}, {2.53125f, -1.9921875f}, {1.603515625f, -1.95068359375f}};
    run_pair(p0, g, want, 3, 0.5f, 0.5f, 0.25f, 1);
}
END_TEST

/* PyTorch's algorithm written out in double, step by step, as an
 * independent reference for hyper-parameters that are not exact in binary. */
static void reference_sgd(double *p, double *buf, const double *g, int n, double lr, double m,
                          double wd, int nesterov, int first)
{
    for (int i = 0; i < n; i++) {
        double d = g[i] + wd * p[i];
        if (m != 0.0) {
            buf[i] = first ? d : m * buf[i] + d;
            d = nesterov ? d + m * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
}

START_TEST(typical_hyperparameters_match_double_reference)
{
    enum { N = 7, STEPS = 20 };
    for (int nesterov = 0; nesterov <= 1; nesterov++) {
        float pf[N], buf[N], gf[N];
        double pd[N], bd[N], gd[N];
        for (int i = 0; i < N; i++)
            pd[i] = pf[i] = (float)(0.3 * i - 1.1);
        for (int s = 0; s < STEPS; s++) {
            for (int i = 0; i < N; i++)
                gd[i] = gf[i] = (float)sin(0.7 * s + 1.3 * i);
            sfri_sgd_update(pf, gf, buf, N, 0.1f, 0.9f, 5e-4f, nesterov, s == 0);
            reference_sgd(pd, bd, gd, N, (double)0.1f, (double)0.9f, (double)5e-4f, nesterov,
                          s == 0);
        }
        for (int i = 0; i < N; i++)
            ck_assert_double_eq_tol(pf[i], pd[i], 1e-5 * (1.0 + fabs(pd[i])));
    }
}
END_TEST

/* The same update as the kernel, one element at a time in float, to check
 * the vectorized and multi-threaded path bit for bit. */
static void serial_sgd(float *p, float *buf, const float *g, int64_t n, float lr, float m,
                       float wd, int nesterov, int first)
{
    for (int64_t i = 0; i < n; i++) {
        float d = g[i] + wd * p[i];
        float b = first ? d : m * buf[i] + d;
        buf[i] = b;
        p[i] -= lr * (nesterov ? d + m * b : b);
    }
}

START_TEST(parallel_path_matches_serial_loop)
{
    const int64_t n = 3 * SFRI_SGD_PARALLEL_MIN + 7;
    float *p = sfri_malloc((size_t)n * sizeof *p), *q = sfri_malloc((size_t)n * sizeof *q);
    float *g = sfri_malloc((size_t)n * sizeof *g), *b1 = sfri_malloc((size_t)n * sizeof *b1);
    float *b2 = sfri_malloc((size_t)n * sizeof *b2);
    ck_assert(p && q && g && b1 && b2);
    for (int64_t i = 0; i < n; i++)
        p[i] = q[i] = (float)((i % 1013) - 506) / 97.0f;
    for (int s = 0; s < 3; s++) {
        for (int64_t i = 0; i < n; i++)
            g[i] = (float)(((i * 7 + s * 13) % 389) - 194) / 53.0f;
        sfri_sgd_update(p, g, b1, n, 0.05f, 0.9f, 1e-3f, s == 2, s == 0);
        serial_sgd(q, b2, g, n, 0.05f, 0.9f, 1e-3f, s == 2, s == 0);
    }
    ck_assert_int_eq(memcmp(p, q, (size_t)n * sizeof *p), 0);
    ck_assert_int_eq(memcmp(b1, b2, (size_t)n * sizeof *b1), 0);
    sfri_free(p);
    sfri_free(q);
    sfri_free(g);
    sfri_free(b1);
    sfri_free(b2);
}
END_TEST

START_TEST(apply_keeps_momentum_and_honours_set_lr)
{
    /* The momentum sequence above through the optimizer object, with the
     * learning rate halved before step 3: buf (0.75, 0.5), p = (-0.25 - 0.1875,
     * 0.5 - 0.125) = (-0.4375, 0.375). */
    sfr_sgd *opt = NULL;
    ck_assert_int_eq(sfr_sgd_create(&opt, 0.5, 0.5, 0.0, 0), SFR_OK);
    float p[2] = {1.0f, 0.0f};
    const float g[3][2] = {{1.0f, -2.0f}, {1.0f, 2.0f}, {0.0f, 0.0f}};
    ck_assert_int_eq(sfri_sgd_apply(opt, p, g[0], 2, "t"), SFR_OK);
    ck_assert_int_eq(sfri_sgd_apply(opt, p, g[1], 2, "t"), SFR_OK);
    ck_assert(p[0] == -0.25f && p[1] == 0.5f);
    ck_assert_int_eq(sfr_sgd_set_lr(opt, 0.25), SFR_OK);
    ck_assert_int_eq(sfri_sgd_apply(opt, p, g[2], 2, "t"), SFR_OK);
    ck_assert(p[0] == -0.4375f && p[1] == 0.375f);
    sfr_sgd_destroy(opt);
}
END_TEST

START_TEST(apply_rejects_another_count_without_writing)
{
    sfr_sgd *opt = NULL;
    ck_assert_int_eq(sfr_sgd_create(&opt, 0.5, 0.9, 0.0, 0), SFR_OK);
    float p[3] = {1.0f, 2.0f, 3.0f};
    const float g[3] = {1.0f, 1.0f, 1.0f};
    ck_assert_int_eq(sfri_sgd_apply(opt, p, g, 2, "f"), SFR_OK);
    const float after[3] = {p[0], p[1], p[2]};
    ck_assert_int_eq(sfri_sgd_apply(opt, p, g, 3, "f"), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(),
                     "f: the net has 3 parameters, the optimizer's first step had 2: "
                     "an optimizer serves one net");
    ck_assert_int_eq(memcmp(p, after, sizeof p), 0);
    ck_assert_int_eq(sfri_sgd_apply(opt, p, g, 1, "f"), SFR_ERR_SHAPE);
    ck_assert_int_eq(memcmp(p, after, sizeof p), 0);
    ck_assert_int_eq(sfri_sgd_apply(opt, NULL, g, 2, "f"), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfri_sgd_apply(opt, p, NULL, 2, "f"), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(memcmp(p, after, sizeof p), 0);
    sfr_sgd_destroy(opt);
}
END_TEST

START_TEST(apply_without_momentum_also_fixes_the_count)
{
    sfr_sgd *opt = NULL;
    ck_assert_int_eq(sfr_sgd_create(&opt, 1.0, 0.0, 0.0, 0), SFR_OK);
    ck_assert_int_eq(sfri_sgd_apply(opt, NULL, NULL, 0, "f"), SFR_OK);
    float p[1] = {1.0f};
    const float g[1] = {1.0f};
    ck_assert_int_eq(sfri_sgd_apply(opt, p, g, 1, "f"), SFR_ERR_SHAPE);
    ck_assert(p[0] == 1.0f);
    sfr_sgd_destroy(opt);
}
END_TEST

/* sfr_sgd_create must fail with status want, name itself, and leave *out. */
static void create_fails(double lr, double momentum, double wd, int nesterov, const char *msg)
{
    sfr_sgd *sentinel = (sfr_sgd *)(uintptr_t)0x1234;
    sfr_sgd *out = sentinel;
    ck_assert_int_eq(sfr_sgd_create(&out, lr, momentum, wd, nesterov), SFR_ERR_INVALID_ARG);
    ck_assert_ptr_eq(out, sentinel);
    ck_assert_str_eq(sfr_last_error(), msg);
}

START_TEST(create_validates_every_argument)
{
    ck_assert_int_eq(sfr_sgd_create(NULL, 0.1, 0.9, 0.0, 0), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_sgd_create: out is NULL");
    create_fails(0.0, 0.9, 0.0, 0, "sfr_sgd_create: lr is 0: it must be > 0");
    create_fails(-0.1, 0.9, 0.0, 0, "sfr_sgd_create: lr is -0.1: it must be > 0");
    create_fails(NAN, 0.9, 0.0, 0, "sfr_sgd_create: lr is nan: it must be finite");
    create_fails(INFINITY, 0.9, 0.0, 0, "sfr_sgd_create: lr is inf: it must be finite");
    create_fails(1e300, 0.9, 0.0, 0, "sfr_sgd_create: lr is 1e+300: it overflows a float");
    create_fails(1e-300, 0.9, 0.0, 0, "sfr_sgd_create: lr is 1e-300: it underflows a float to 0");
    create_fails(0.1, -0.5, 0.0, 0, "sfr_sgd_create: momentum is -0.5: it must be >= 0");
    create_fails(0.1, NAN, 0.0, 0, "sfr_sgd_create: momentum is nan: it must be finite");
    create_fails(0.1, 0.9, -1e-4, 0, "sfr_sgd_create: weight_decay is -0.0001: it must be >= 0");
    create_fails(0.1, 0.9, -INFINITY, 0, "sfr_sgd_create: weight_decay is -inf: it must be finite");
    create_fails(0.1, 0.9, 0.0, 2, "sfr_sgd_create: nesterov is 2: it must be 0 or 1");
    create_fails(0.1, 0.9, 0.0, -1, "sfr_sgd_create: nesterov is -1: it must be 0 or 1");
    create_fails(0.1, 0.0, 0.0, 1, "sfr_sgd_create: nesterov needs momentum > 0 (momentum is 0)");
}
END_TEST

START_TEST(create_accepts_the_boundaries)
{
    sfr_sgd *opt = NULL;
    ck_assert_int_eq(sfr_sgd_create(&opt, 1e-8, 0.0, 0.0, 0), SFR_OK);
    ck_assert_ptr_nonnull(opt);
    sfr_sgd_destroy(opt);
    ck_assert_int_eq(sfr_sgd_create(&opt, 10.0, 0.99, 1.0, 1), SFR_OK);
    sfr_sgd_destroy(opt);
    sfr_sgd_destroy(NULL);
}
END_TEST

START_TEST(set_lr_validates)
{
    sfr_sgd *opt = NULL;
    ck_assert_int_eq(sfr_sgd_create(&opt, 0.5, 0.0, 0.0, 0), SFR_OK);
    ck_assert_int_eq(sfr_sgd_set_lr(opt, 0.0), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_sgd_set_lr: lr is 0: it must be > 0");
    ck_assert_int_eq(sfr_sgd_set_lr(opt, NAN), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_sgd_set_lr(opt, -1.0), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_sgd_set_lr(NULL, 0.1), SFR_ERR_INVALID_ARG);
    /* The rejected values left lr at 0.5: one step moves 1 to 0.5. */
    float p[1] = {1.0f};
    const float g[1] = {1.0f};
    ck_assert_int_eq(sfri_sgd_apply(opt, p, g, 1, "t"), SFR_OK);
    ck_assert(p[0] == 0.5f);
    sfr_sgd_destroy(opt);
}
END_TEST

START_TEST(dead_and_foreign_handles_are_misuse)
{
    uint32_t dead = SFRI_MAGIC_DEAD, net_word = SFRI_MAGIC_NET, tap_word = SFRI_MAGIC_TAP;
    sfr_sgd *opt = NULL;
    ck_assert_int_eq(sfr_sgd_create(&opt, 0.5, 0.0, 0.0, 0), SFR_OK);
    ck_assert_int_eq(sfr_sgd_set_lr((sfr_sgd *)&dead, 0.1), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_sgd_step((sfr_sgd *)&dead, (sfr_net *)&net_word), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_sgd_step((sfr_sgd *)&tap_word, (sfr_net *)&net_word), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_sgd_step(NULL, (sfr_net *)&net_word), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_sgd_step: opt is NULL");
    ck_assert_int_eq(sfr_sgd_step(opt, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_sgd_step: net is NULL");
    ck_assert_int_eq(sfr_sgd_step(opt, (sfr_net *)&tap_word), SFR_ERR_MISUSE);
    ck_assert_str_eq(sfr_last_error(), "sfr_sgd_step: net is not a live handle of its kind");
    ck_assert_int_eq(sfr_sgd_step(opt, (sfr_net *)&dead), SFR_ERR_MISUSE);
    /* Destroy ignores what is not a live optimizer. */
    sfr_sgd_destroy((sfr_sgd *)&tap_word);
    ck_assert_uint_eq(tap_word, SFRI_MAGIC_TAP);
    sfr_sgd_destroy(opt);
}
END_TEST

Suite *sgd_suite(void)
{
    Suite *s = suite_create("sgd");
    TCase *tc = tcase_create("kernel");
    tcase_add_test(tc, plain_sgd_sequence);
    tcase_add_test(tc, weight_decay_sequence);
    tcase_add_test(tc, momentum_sequence);
    tcase_add_test(tc, nesterov_weight_decay_sequence);
    tcase_add_test(tc, typical_hyperparameters_match_double_reference);
    tcase_add_test(tc, parallel_path_matches_serial_loop);
    suite_add_tcase(s, tc);
    tc = tcase_create("optimizer");
    tcase_add_test(tc, apply_keeps_momentum_and_honours_set_lr);
    tcase_add_test(tc, apply_rejects_another_count_without_writing);
    tcase_add_test(tc, apply_without_momentum_also_fixes_the_count);
    tcase_add_test(tc, create_validates_every_argument);
    tcase_add_test(tc, create_accepts_the_boundaries);
    tcase_add_test(tc, set_lr_validates);
    tcase_add_test(tc, dead_and_foreign_handles_are_misuse);
    suite_add_tcase(s, tc);
    return s;
}
