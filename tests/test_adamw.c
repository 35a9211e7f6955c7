/*
 * The AdamW helper: the kernel against PyTorch 1.13's torch.optim.AdamW bit
 * for bit (tests/fixtures/adamw_torch.h, written by adamw_torch.py beside
 * it), against a first step worked by hand and a double reference over many
 * steps, the parallel path against the serial one, the step on a net, and
 * every argument error of the public functions.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "adamw/adamw.h"
#include "common/common.h"
#include "fixtures/adamw_torch.h"
#include "sfr/sfr.h"

static sfr_adamw *make(double lr, double beta1, double beta2, double eps, double wd)
{
    sfr_adamw *opt = NULL;
    ck_assert_int_eq(sfr_adamw_create(&opt, lr, beta1, beta2, eps, wd), SFR_OK);
    ck_assert_ptr_nonnull(opt);
    return opt;
}

START_TEST(steps_equal_pytorch_bit_for_bit)
{
    for (int c = 0; c < ADAMW_TORCH_CASES; c++) {
        const double *h = adamw_torch_hyper[c];
        sfr_adamw *opt = make(h[0], h[1], h[2], h[3], h[4]);
        float p[ADAMW_TORCH_N];
        memcpy(p, adamw_torch_p0, sizeof p);
        for (int s = 0; s < ADAMW_TORCH_STEPS; s++) {
            ck_assert_int_eq(sfri_adamw_apply(opt, p, adamw_torch_grads[s], ADAMW_TORCH_N, "t"),
                             SFR_OK);
            for (int i = 0; i < ADAMW_TORCH_N; i++)
                ck_assert_msg(p[i] == adamw_torch_p[c][s][i],
                              "case %d step %d param %d: %a, PyTorch %a", c, s + 1, i,
                              (double)p[i], (double)adamw_torch_p[c][s][i]);
        }
        int64_t steps = -1;
        ck_assert_int_eq(sfr_adamw_steps(opt, &steps), SFR_OK);
        ck_assert_int_eq(steps, ADAMW_TORCH_STEPS);
        sfr_adamw_destroy(opt);
    }
}
END_TEST

START_TEST(first_step_by_hand)
{
    /* lr 0.5, beta1 0.5, beta2 0.75, eps 0.5, wd 0.5, p = (1, -2), g = (0.5, 0):
     * decay 0.75: p = (0.75, -1.5); m = (0.25, 0); v = (0.0625, 0);
     * sqrt(1 - 0.75) = 0.5: denom = (0.25 / 0.5 + 0.5, 0 + 0.5) = (1, 0.5);
     * step size 0.5 / (1 - 0.5) = 1: p = (0.75 - 0.25, -1.5 - 0) = (0.5, -1.5).
     * A zero gradient leaves only the decoupled decay. */
    sfr_adamw *opt = make(0.5, 0.5, 0.75, 0.5, 0.5);
    float p[2] = {1.0f, -2.0f};
    const float g[2] = {0.5f, 0.0f};
    ck_assert_int_eq(sfri_adamw_apply(opt, p, g, 2, "t"), SFR_OK);
    ck_assert_msg(p[0] == 0.5f && p[1] == -1.5f, "got (%.9g, %.9g)", (double)p[0],
                  (double)p[1]);
    ck_assert(opt->m[0] == 0.25f && opt->v[0] == 0.0625f && opt->m[1] == 0.0f);
    sfr_adamw_destroy(opt);
}
END_TEST

/* AdamW written out in double, as an independent reference for many steps. */
static void reference_adamw(double *p, double *m, double *v, const double *g, int n, int t,
                            const double h[5])
{
    double lr = h[0], b1 = h[1], b2 = h[2], eps = h[3], wd = h[4];
    for (int i = 0; i < n; i++) {
        p[i] *= 1 - lr * wd;
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        double mhat = m[i] / (1 - pow(b1, t)), vhat = v[i] / (1 - pow(b2, t));
        p[i] -= lr * mhat / (sqrt(vhat) + eps);
    }
}

START_TEST(many_steps_follow_a_double_reference)
{
    enum { N = 9, STEPS = 200 };
    const double h[5] = {1e-2, 0.9, 0.999, 1e-8, 0.05};
    sfr_adamw *opt = make(h[0], h[1], h[2], h[3], h[4]);
    float pf[N], gf[N];
    double pd[N], md[N] = {0}, vd[N] = {0}, gd[N];
    for (int i = 0; i < N; i++)
        pd[i] = pf[i] = (float)(0.4 * i - 1.7);
    for (int s = 1; s <= STEPS; s++) {
        for (int i = 0; i < N; i++)
            gd[i] = gf[i] = (float)(sin(0.37 * s + 1.3 * i) + 0.2 * pf[i]);
        ck_assert_int_eq(sfri_adamw_apply(opt, pf, gf, N, "t"), SFR_OK);
        reference_adamw(pd, md, vd, gd, N, s, h);
    }
    for (int i = 0; i < N; i++)
        ck_assert_double_eq_tol(pf[i], pd[i], 1e-4 * (1.0 + fabs(pd[i])));
    sfr_adamw_destroy(opt);
}
END_TEST

START_TEST(parallel_path_matches_serial_loop)
{
    const int64_t n = 3 * SFRI_ADAMW_PARALLEL_MIN + 5;
    size_t bytes = (size_t)n * sizeof(float);
    float *p = sfri_malloc(bytes), *q = sfri_malloc(bytes), *g = sfri_malloc(bytes);
    float *m1 = sfri_calloc((size_t)n, sizeof(float)), *v1 = sfri_calloc((size_t)n, sizeof(float));
    float *m2 = sfri_calloc((size_t)n, sizeof(float)), *v2 = sfri_calloc((size_t)n, sizeof(float));
    ck_assert(p && q && g && m1 && v1 && m2 && v2);
    for (int64_t i = 0; i < n; i++)
        p[i] = q[i] = (float)((i % 1013) - 506) / 97.0f;
    sfr_adamw *opt = make(1e-3, 0.9, 0.999, 1e-8, 1e-2);
    for (int t = 1; t <= 3; t++) {
        for (int64_t i = 0; i < n; i++)
            g[i] = (float)(((i * 7 + t * 13) % 389) - 194) / 53.0f;
        struct sfri_adamw_scalars s;
        sfri_adamw_scalars(opt, t, &s);
        sfri_adamw_update(p, g, m1, v1, n, &s);
        /* The serial path: the same kernel on slices below the threshold. */
        for (int64_t at = 0; at < n; at += SFRI_ADAMW_PARALLEL_MIN / 2) {
            int64_t len = n - at < SFRI_ADAMW_PARALLEL_MIN / 2 ? n - at : SFRI_ADAMW_PARALLEL_MIN / 2;
            sfri_adamw_update(q + at, g + at, m2 + at, v2 + at, len, &s);
        }
    }
    ck_assert_int_eq(memcmp(p, q, bytes), 0);
    ck_assert_int_eq(memcmp(m1, m2, bytes), 0);
    ck_assert_int_eq(memcmp(v1, v2, bytes), 0);
    sfr_adamw_destroy(opt);
    float *bufs[] = {p, q, g, m1, v1, m2, v2};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        sfri_free(bufs[i]);
}
END_TEST

START_TEST(set_lr_keeps_the_moments)
{
    /* Two optimizers, the same gradients; one switches lr to 0.25 after its
     * first step. Its second step must equal a fresh computation from the
     * kept moments at lr 0.25, step 2. */
    sfr_adamw *a = make(0.5, 0.5, 0.75, 0.5, 0.0), *b = make(0.5, 0.5, 0.75, 0.5, 0.0);
    float pa[2] = {1.0f, -1.0f}, pb[2] = {1.0f, -1.0f};
    const float g1[2] = {0.5f, -0.25f}, g2[2] = {-0.5f, 1.0f};
    ck_assert_int_eq(sfri_adamw_apply(a, pa, g1, 2, "t"), SFR_OK);
    ck_assert_int_eq(sfri_adamw_apply(b, pb, g1, 2, "t"), SFR_OK);
    ck_assert_int_eq(sfr_adamw_set_lr(a, 0.25), SFR_OK);
    ck_assert_int_eq(sfri_adamw_apply(a, pa, g2, 2, "t"), SFR_OK);
    b->lr = 0.25;
    struct sfri_adamw_scalars s;
    sfri_adamw_scalars(b, 2, &s);
    sfri_adamw_update(pb, g2, b->m, b->v, 2, &s);
    ck_assert(pa[0] == pb[0] && pa[1] == pb[1]);
    int64_t steps = 0;
    ck_assert_int_eq(sfr_adamw_steps(a, &steps), SFR_OK);
    ck_assert_int_eq(steps, 2);
    sfr_adamw_destroy(a);
    sfr_adamw_destroy(b);
}
END_TEST

START_TEST(apply_rejects_another_count_without_writing)
{
    sfr_adamw *opt = make(0.5, 0.9, 0.999, 1e-8, 0.0);
    float p[3] = {1.0f, 2.0f, 3.0f};
    const float g[3] = {1.0f, 1.0f, 1.0f};
    ck_assert_int_eq(sfri_adamw_apply(opt, p, g, 2, "f"), SFR_OK);
    const float after[3] = {p[0], p[1], p[2]};
    const float m0 = opt->m[0], v0 = opt->v[0];
    size_t allocs = sfri_alloc_count();
    ck_assert_int_eq(sfri_adamw_apply(opt, p, g, 3, "f"), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(),
                     "f: the net has 3 parameters, the optimizer's first step had 2: "
                     "an optimizer serves one net");
    ck_assert_int_eq(sfri_adamw_apply(opt, NULL, g, 2, "f"), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "f: no parameter buffers for 2 parameters");
    ck_assert_int_eq(sfri_adamw_apply(opt, p, NULL, 2, "f"), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(memcmp(p, after, sizeof p), 0);
    ck_assert(opt->m[0] == m0 && opt->v[0] == v0);
    int64_t steps = 0;
    ck_assert_int_eq(sfr_adamw_steps(opt, &steps), SFR_OK);
    ck_assert_int_eq(steps, 1);
    /* Later steps allocate nothing. */
    ck_assert_int_eq(sfri_adamw_apply(opt, p, g, 2, "f"), SFR_OK);
    ck_assert_uint_eq(sfri_alloc_count(), allocs);
    sfr_adamw_destroy(opt);
}
END_TEST

/* sfr_adamw_create must fail with SFR_ERR_INVALID_ARG and msg, leaving *out. */
static void create_fails(double lr, double b1, double b2, double eps, double wd, const char *msg)
{
    sfr_adamw *sentinel = (sfr_adamw *)(uintptr_t)0x1234;
    sfr_adamw *out = sentinel;
    ck_assert_int_eq(sfr_adamw_create(&out, lr, b1, b2, eps, wd), SFR_ERR_INVALID_ARG);
    ck_assert_ptr_eq(out, sentinel);
    ck_assert_str_eq(sfr_last_error(), msg);
}

START_TEST(create_validates_every_argument)
{
    ck_assert_int_eq(sfr_adamw_create(NULL, 1e-3, 0.9, 0.999, 1e-8, 0), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_adamw_create: out is NULL");
    create_fails(0.0, 0.9, 0.999, 1e-8, 0, "sfr_adamw_create: lr is 0: it must be > 0");
    create_fails(NAN, 0.9, 0.999, 1e-8, 0, "sfr_adamw_create: lr is nan: it must be finite");
    create_fails(1e300, 0.9, 0.999, 1e-8, 0,
                 "sfr_adamw_create: lr is 1e+300: it overflows a float");
    create_fails(1e-3, 1.0, 0.999, 1e-8, 0, "sfr_adamw_create: beta1 is 1: it must be in [0, 1)");
    create_fails(1e-3, -0.1, 0.999, 1e-8, 0,
                 "sfr_adamw_create: beta1 is -0.1: it must be in [0, 1)");
    create_fails(1e-3, NAN, 0.999, 1e-8, 0, "sfr_adamw_create: beta1 is nan: it must be in [0, 1)");
    create_fails(1e-3, 0.9, 1.0, 1e-8, 0, "sfr_adamw_create: beta2 is 1: it must be in [0, 1)");
    create_fails(1e-3, 0.9, INFINITY, 1e-8, 0,
                 "sfr_adamw_create: beta2 is inf: it must be in [0, 1)");
    create_fails(1e-3, 0.9, 0.999, 0.0, 0, "sfr_adamw_create: eps is 0: it must be > 0");
    create_fails(1e-3, 0.9, 0.999, 1e-60, 0,
                 "sfr_adamw_create: eps is 1e-60: it underflows a float to 0");
    create_fails(1e-3, 0.9, 0.999, 1e-8, -0.01,
                 "sfr_adamw_create: weight_decay is -0.01: it must be >= 0");
    create_fails(1e-3, 0.9, 0.999, 1e-8, NAN,
                 "sfr_adamw_create: weight_decay is nan: it must be finite");
    create_fails(2.0, 0.9, 0.999, 1e-8, 0.75,
                 "sfr_adamw_create: lr * weight_decay is 1.5: it must be <= 1 "
                 "(lr 2, weight_decay 0.75)");
}
END_TEST

START_TEST(create_accepts_the_boundaries)
{
    sfr_adamw *opt = make(1.0, 0.0, 0.0, 1e-30, 1.0);
    sfr_adamw_destroy(opt);
    opt = make(1e-3, 0.999999, 0.999999, 1e-8, 1e-2);
    sfr_adamw_destroy(opt);
    sfr_adamw_destroy(NULL);
}
END_TEST

START_TEST(set_lr_and_steps_validate)
{
    sfr_adamw *opt = make(0.5, 0.5, 0.75, 0.5, 1.0);
    ck_assert_int_eq(sfr_adamw_set_lr(opt, 0.0), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_adamw_set_lr: lr is 0: it must be > 0");
    ck_assert_int_eq(sfr_adamw_set_lr(opt, INFINITY), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_adamw_set_lr(opt, 1.5), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_adamw_set_lr: lr * weight_decay is 1.5: it must be <= 1 "
                     "(lr 1.5, weight_decay 1)");
    ck_assert_int_eq(sfr_adamw_set_lr(NULL, 0.1), SFR_ERR_INVALID_ARG);
    ck_assert(opt->lr == 0.5);
    ck_assert_int_eq(sfr_adamw_steps(opt, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_adamw_steps: steps is NULL");
    int64_t steps = 99;
    ck_assert_int_eq(sfr_adamw_steps(NULL, &steps), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(steps, 99);
    ck_assert_int_eq(sfr_adamw_steps(opt, &steps), SFR_OK);
    ck_assert_int_eq(steps, 0);
    sfr_adamw_destroy(opt);
}
END_TEST

START_TEST(dead_and_foreign_handles_are_misuse)
{
    uint32_t dead = SFRI_MAGIC_DEAD, net_word = SFRI_MAGIC_NET, sgd_word = SFRI_MAGIC_SGD;
    sfr_adamw *opt = make(1e-3, 0.9, 0.999, 1e-8, 0.0);
    int64_t steps;
    ck_assert_int_eq(sfr_adamw_set_lr((sfr_adamw *)&dead, 0.1), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_adamw_steps((sfr_adamw *)&sgd_word, &steps), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_adamw_step((sfr_adamw *)&sgd_word, (sfr_net *)&net_word),
                     SFR_ERR_MISUSE);
    ck_assert_str_eq(sfr_last_error(), "sfr_adamw_step: opt is not a live handle of its kind");
    ck_assert_int_eq(sfr_adamw_step(NULL, (sfr_net *)&net_word), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_adamw_step: opt is NULL");
    ck_assert_int_eq(sfr_adamw_step(opt, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_adamw_step: net is NULL");
    ck_assert_int_eq(sfr_adamw_step(opt, (sfr_net *)&dead), SFR_ERR_MISUSE);
    sfr_adamw_destroy((sfr_adamw *)&sgd_word);
    ck_assert_uint_eq(sgd_word, SFRI_MAGIC_SGD);
    sfr_adamw_destroy(opt);
}
END_TEST

START_TEST(step_on_a_net_updates_its_flat_parameters)
{
    /* input 2x3x3 - conv 4 (3x3, bias) - GAP - linear 3: a backward fills
     * every gradient; the step must do to the net's buffers exactly what
     * the kernel does to copies of them. */
    enum { B = 2 };
    sfr_net *net;
    int id;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, 3, 3, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, id, 4, 3, 1, 1, 1, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, id, 3, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, B), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, 5), SFR_OK);
    float x[B * 2 * 9], dlogits[B * 3];
    for (int i = 0; i < B * 18; i++)
        x[i] = (float)sin(0.7 * i);
    for (int i = 0; i < B * 3; i++)
        dlogits[i] = (float)cos(1.3 * i);
    float *values, *grads;
    int64_t count;
    ck_assert_int_eq(sfr_net_params(net, &values, &grads, &count), SFR_OK);
    float copy[256];
    ck_assert_int_le(count, 256);
    sfr_adamw *opt = make(1e-2, 0.9, 0.999, 1e-8, 1e-2), *ref = make(1e-2, 0.9, 0.999, 1e-8, 1e-2);
    for (int step = 0; step < 3; step++) {
        ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
        ck_assert_int_eq(sfr_net_backward(net, dlogits), SFR_OK);
        memcpy(copy, values, (size_t)count * sizeof(float));
        ck_assert_int_eq(sfri_adamw_apply(ref, copy, grads, count, "t"), SFR_OK);
        ck_assert_int_eq(sfr_adamw_step(opt, net), SFR_OK);
        ck_assert_int_eq(memcmp(copy, values, (size_t)count * sizeof(float)), 0);
    }
    sfr_adamw_destroy(opt);
    sfr_adamw_destroy(ref);
    sfr_net_destroy(net);
}
END_TEST

Suite *adamw_suite(void)
{
    Suite *s = suite_create("adamw");
    TCase *tc = tcase_create("kernel");
    tcase_add_test(tc, steps_equal_pytorch_bit_for_bit);
    tcase_add_test(tc, first_step_by_hand);
    tcase_add_test(tc, many_steps_follow_a_double_reference);
    tcase_add_test(tc, parallel_path_matches_serial_loop);
    suite_add_tcase(s, tc);
    tc = tcase_create("optimizer");
    tcase_add_test(tc, set_lr_keeps_the_moments);
    tcase_add_test(tc, apply_rejects_another_count_without_writing);
    tcase_add_test(tc, create_validates_every_argument);
    tcase_add_test(tc, create_accepts_the_boundaries);
    tcase_add_test(tc, set_lr_and_steps_validate);
    tcase_add_test(tc, dead_and_foreign_handles_are_misuse);
    tcase_add_test(tc, step_on_a_net_updates_its_flat_parameters);
    suite_add_tcase(s, tc);
    return s;
}
