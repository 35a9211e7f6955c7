/*
 * The fast path's internals seen from outside: taps show plain NCHW even
 * where the net computes in blocked layouts, a tap on an output a fusion
 * hid (batch norm followed by ReLU) shows the real batch-norm output, and
 * SFR_PROFILE prints a row per layer.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile_capture.h"
#include "sfr/sfr.h"

#define N 4
#define C 32 /* a multiple of 16: oneDNN picks a blocked layout */
#define HW 6

struct small {
    sfr_net *net;
    int conv, bn, relu;
    float x[N * 3 * HW * HW];
};

/* input 3 x 6 x 6 -> conv3x3(32) -> BN -> ReLU -> global avgpool -> linear(5). */
static void build(struct small *s)
{
    int x, gap, fc;
    ck_assert_int_eq(sfr_net_create(&s->net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(s->net, 3, HW, HW, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(s->net, x, C, 3, 1, 1, 0, &s->conv), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(s->net, s->conv, &s->bn), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(s->net, s->bn, &s->relu), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(s->net, s->relu, &gap), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(s->net, gap, 5, &fc), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(s->net, 3), SFR_OK);
    for (size_t i = 0; i < sizeof s->x / sizeof s->x[0]; i++)
        s->x[i] = (float)sin(0.71 * (double)i) + 0.3f;
}

START_TEST(tap_on_a_fused_batchnorm_shows_its_real_output)
{
    struct small s;
    build(&s);
    ck_assert_int_eq(sfr_net_compile(s.net, N), SFR_OK);
    ck_assert_int_eq(sfr_net_forward(s.net, s.x, 1), SFR_OK);
    /* Asked for after compile: the BN output was fused away and must come back. */
    sfr_tap *bn, *relu;
    ck_assert_int_eq(sfr_net_tap(s.net, s.bn, &bn), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(s.net, s.relu, &relu), SFR_OK);
    ck_assert_int_eq(sfr_net_forward(s.net, s.x, 1), SFR_OK);
    const float *b, *r;
    ck_assert_int_eq(sfr_tap_data(bn, &b), SFR_OK);
    ck_assert_int_eq(sfr_tap_data(relu, &r), SFR_OK);
    /* gamma 1, beta 0: in plain NCHW order every channel has mean 0 and
     * (biased) variance 1 over N, H, W; a layout mix-up would break that. */
    int negatives = 0;
    for (int c = 0; c < C; c++) {
        double sum = 0, sq = 0;
        for (int n = 0; n < N; n++) {
            for (int i = 0; i < HW * HW; i++) {
                double v = b[(n * C + c) * HW * HW + i];
                sum += v;
                sq += v * v;
                negatives += v < 0;
            }
        }
        double m = N * HW * HW, mean = sum / m;
        ck_assert_double_eq_tol(mean, 0.0, 1e-4);
        ck_assert_double_eq_tol(sq / m - mean * mean, 1.0, 1e-2);
    }
    ck_assert_int_gt(negatives, 0);
    for (int i = 0; i < N * C * HW * HW; i++)
        ck_assert_float_eq(r[i], b[i] > 0 ? b[i] : 0.0f);
    sfr_net_destroy(s.net);
}
END_TEST

/* The gradient a host adds to a tap reaches the parameters exactly as the
 * same gradient pushed through the logits would, for a tap on a blocked
 * layer: J = sum(v * relu) through the tap versus, with the tap's gradient
 * zero, the finite difference of J. */
START_TEST(tap_gradient_reaches_parameters_through_the_blocked_layout)
{
    struct small s;
    build(&s);
    sfr_tap *relu;
    ck_assert_int_eq(sfr_net_tap(s.net, s.relu, &relu), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(s.net, N), SFR_OK);
    float *p, *g;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(s.net, &p, &g, &np), SFR_OK);
    static float v[N * C * HW * HW];
    for (int i = 0; i < N * C * HW * HW; i++)
        v[i] = (float)cos(1.3 * i);
    float zero[N * 5] = {0};
    ck_assert_int_eq(sfr_net_forward(s.net, s.x, 1), SFR_OK);
    float *tg;
    ck_assert_int_eq(sfr_tap_grad(relu, &tg), SFR_OK);
    memcpy(tg, v, sizeof v);
    ck_assert_int_eq(sfr_net_backward(s.net, zero), SFR_OK);
    /* The first conv weights (offset 0): check a few against central differences. */
    const double h = 1e-3;
    double gmax = 0;
    for (int k = 0; k < C * 27; k++)
        gmax = fmax(gmax, fabs(g[k]));
    ck_assert(gmax > 0);
    float *analytic = malloc((size_t)np * sizeof *analytic);
    memcpy(analytic, g, (size_t)np * sizeof *analytic);
    for (int k = 0; k < C * 27; k += 37) {
        double j[2];
        float keep = p[k];
        for (int sgn = 0; sgn < 2; sgn++) {
            p[k] = keep + (float)(sgn ? -h : h);
            ck_assert_int_eq(sfr_net_forward(s.net, s.x, 1), SFR_OK);
            const float *r;
            ck_assert_int_eq(sfr_tap_data(relu, &r), SFR_OK);
            j[sgn] = 0;
            for (int i = 0; i < N * C * HW * HW; i++)
                j[sgn] += (double)v[i] * r[i];
        }
        p[k] = keep;
        ck_assert_double_eq_tol(analytic[k], (j[0] - j[1]) / (2 * h), 2e-2 * gmax);
    }
    free(analytic);
    sfr_net_destroy(s.net);
}
END_TEST

/* A tap gradient that is zero everywhere but its very last value (past
 * every early chunk a zero test might look at) still reaches the net: with
 * zero dlogits, beta's gradient of a channel is the sum of the gradient on
 * the BN's output over that channel, i.e. the one value where the ReLU
 * passes it, and zero for every other channel. */
START_TEST(sparse_tap_gradient_is_not_skipped)
{
    struct small s;
    build(&s);
    sfr_tap *relu;
    ck_assert_int_eq(sfr_net_tap(s.net, s.relu, &relu), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(s.net, N), SFR_OK);
    float *p, *g;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(s.net, &p, &g, &np), SFR_OK);
    ck_assert_int_eq(sfr_net_forward(s.net, s.x, 1), SFR_OK);
    const float *r;
    ck_assert_int_eq(sfr_tap_data(relu, &r), SFR_OK);
    /* The last position of the last sample whose ReLU is open, in channel C - 1. */
    int last = N * C * HW * HW - 1;
    while (r[last] <= 0.0f)
        last--;
    ck_assert_int_ge(last, (N * C - 1) * HW * HW);
    float *tg;
    ck_assert_int_eq(sfr_tap_grad(relu, &tg), SFR_OK);
    tg[last] = 1.5f;
    float zero[N * 5] = {0};
    ck_assert_int_eq(sfr_net_backward(s.net, zero), SFR_OK);
    const float *dbeta = g + C * 27 + C; /* conv weight (no bias), gamma, beta */
    for (int c = 0; c < C - 1; c++)
        ck_assert_float_eq_tol(dbeta[c], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(dbeta[C - 1], 1.5f, 1e-5f);
    sfr_net_destroy(s.net);
}
END_TEST

START_TEST(profile_prints_every_layer_and_pass)
{
    char path[] = "/tmp/sfr_profile_XXXXXX";
    profile_capture_start(path);
    struct small s;
    build(&s);
    ck_assert_int_eq(sfr_net_compile(s.net, N), SFR_OK);
    float dl[N * 5] = {1, -1, 0.5f};
    for (int step = 0; step < 2; step++) {
        ck_assert_int_eq(sfr_net_forward(s.net, s.x, 1), SFR_OK);
        ck_assert_int_eq(sfr_net_backward(s.net, dl), SFR_OK);
    }
    sfr_net_destroy(s.net);
    FILE *f = profile_capture_open(path);
    char line[256];
    int header = 0, rows = 0, total = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        header += strstr(line, "2 forwards, 2 backwards") != NULL;
        rows += strstr(line, " conv ") != NULL || strstr(line, " bn ") != NULL ||
                strstr(line, " linear ") != NULL;
        total += strstr(line, " total ") != NULL;
    }
    fclose(f);
    unlink(path);
    ck_assert_int_eq(header, 1);
    ck_assert_int_eq(rows, 3);
    ck_assert_int_eq(total, 1);
}
END_TEST

Suite *net_layout_suite(void)
{
    Suite *s = suite_create("net_layout");
    TCase *tc = tcase_create("layout");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tap_on_a_fused_batchnorm_shows_its_real_output);
    tcase_add_test(tc, tap_gradient_reaches_parameters_through_the_blocked_layout);
    tcase_add_test(tc, sparse_tap_gradient_is_not_skipped);
    tcase_add_test(tc, profile_prints_every_layer_and_pass);
    suite_add_tcase(s, tc);
    return s;
}
