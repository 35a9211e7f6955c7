/* Batch normalization: batch statistics in training, PyTorch's running
 * averages (unbiased variance), running statistics in eval. */
#include <check.h>
#include <math.h>

#include "net/net_state.h"
#include "sfr/sfr.h"

enum { N = 3, C = 2, H = 2, W = 2, M = N * H * W };

static const float gamma_[C] = {1.5f, -0.5f};
static const float beta_[C] = {0.25f, 2.0f};

/* input (C x H x W) -> batchnorm, gamma and beta set, compiled for N. */
static sfr_net *bn_net(void)
{
    sfr_net *net;
    int x, bn;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, C, H, W, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(net, x, &bn), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, N), SFR_OK);
    float *p;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, &p, NULL, &np), SFR_OK);
    ck_assert_int_eq(np, 2 * C);
    for (int c = 0; c < C; c++) {
        ck_assert_float_eq(p[c], 1.0f); /* gamma starts at 1, beta at 0 */
        ck_assert_float_eq(p[C + c], 0.0f);
        p[c] = gamma_[c];
        p[C + c] = beta_[c];
    }
    return net;
}

static void input(float *x)
{
    for (int i = 0; i < N * C * H * W; i++)
        x[i] = (float)((i * 7) % 13) * 0.3f - 1.0f + (float)(i % C);
}

/* Mean and biased variance of channel c over N, H, W, in double. */
static void stats(const float *x, int c, double *mean, double *var)
{
    double s = 0, q = 0;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < H * W; i++)
            s += x[(n * C + c) * H * W + i];
    *mean = s / M;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < H * W; i++) {
            double d = x[(n * C + c) * H * W + i] - *mean;
            q += d * d;
        }
    *var = q / M;
}

START_TEST(training_uses_batch_statistics)
{
    sfr_net *net = bn_net();
    float x[N * C * H * W];
    input(x);
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    const float *y;
    int64_t d[2];
    ck_assert_int_eq(sfr_net_output(net, &y, d), SFR_OK);
    ck_assert_int_eq(d[0], N);
    ck_assert_int_eq(d[1], C * H * W);
    for (int c = 0; c < C; c++) {
        double mean, var;
        stats(x, c, &mean, &var);
        for (int n = 0; n < N; n++)
            for (int i = 0; i < H * W; i++) {
                int k = (n * C + c) * H * W + i;
                double expect = gamma_[c] * (x[k] - mean) / sqrt(var + 1e-5) + beta_[c];
                ck_assert_double_eq_tol(y[k], expect, 1e-5);
            }
    }
    sfr_net_destroy(net);
}
END_TEST

START_TEST(running_stats_update_with_unbiased_variance)
{
    sfr_net *net = bn_net();
    float x[N * C * H * W];
    input(x);
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    float *state;
    int64_t ns;
    sfri_net_state_buffer(net, &state, &ns);
    ck_assert_int_eq(ns, 2 * C);
    for (int c = 0; c < C; c++) {
        double mean, var;
        stats(x, c, &mean, &var);
        double unbiased = var * M / (M - 1);
        double rm = 0, rv = 1;
        for (int step = 0; step < 2; step++) {
            rm = 0.9 * rm + 0.1 * mean;
            rv = 0.9 * rv + 0.1 * unbiased;
        }
        ck_assert_double_eq_tol(state[c], rm, 1e-5);
        ck_assert_double_eq_tol(state[C + c], rv, 1e-5);
    }
    /* An eval forward neither uses nor changes the batch statistics. */
    float before[2 * C];
    for (int i = 0; i < 2 * C; i++)
        before[i] = state[i];
    ck_assert_int_eq(sfr_net_forward(net, x, 0), SFR_OK);
    for (int i = 0; i < 2 * C; i++)
        ck_assert_float_eq(state[i], before[i]);
    const float *y;
    int64_t d[2];
    ck_assert_int_eq(sfr_net_output(net, &y, d), SFR_OK);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H * W; i++) {
                int k = (n * C + c) * H * W + i;
                double expect =
                    gamma_[c] * (x[k] - state[c]) / sqrt(state[C + c] + 1e-5) + beta_[c];
                ck_assert_double_eq_tol(y[k], expect, 1e-5);
            }
    sfr_net_destroy(net);
}
END_TEST

START_TEST(init_params_resets_running_stats)
{
    sfr_net *net = bn_net();
    float x[N * C * H * W];
    input(x);
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, 3), SFR_OK);
    float *state, *p;
    int64_t ns;
    sfri_net_state_buffer(net, &state, &ns);
    ck_assert_int_eq(sfr_net_params(net, &p, NULL, NULL), SFR_OK);
    for (int c = 0; c < C; c++) {
        ck_assert_float_eq(state[c], 0.0f);
        ck_assert_float_eq(state[C + c], 1.0f);
        ck_assert_float_eq(p[c], 1.0f);
        ck_assert_float_eq(p[C + c], 0.0f);
    }
    sfr_net_destroy(net);
}
END_TEST

/* One value per channel has no unbiased variance: training refuses it. */
START_TEST(training_with_one_value_per_channel_is_a_shape_error)
{
    sfr_net *net;
    int x, bn;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, 1, 1, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(net, x, &bn), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 1), SFR_OK);
    float in[2] = {1, 2};
    ck_assert_int_eq(sfr_net_forward(net, in, 1), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_forward(net, in, 0), SFR_OK);
    sfr_net_destroy(net);
}
END_TEST

Suite *net_bn_suite(void)
{
    Suite *s = suite_create("net_bn");
    TCase *tc = tcase_create("batchnorm");
    tcase_add_test(tc, training_uses_batch_statistics);
    tcase_add_test(tc, running_stats_update_with_unbiased_variance);
    tcase_add_test(tc, init_params_resets_running_stats);
    tcase_add_test(tc, training_with_one_value_per_channel_is_a_shape_error);
    suite_add_tcase(s, tc);
    return s;
}
