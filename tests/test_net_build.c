/* Lifecycle: recompiles, taps across compiles, repeated backward, init,
 * and two nets in two threads. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "reference_nets.h"
#include "sfr/sfr.h"

/* input 2x6x6 -> stem -> BasicBlock(4 -> 8, stride 2) -> pool -> linear(3) */
static sfr_net *small_net(int *block)
{
    sfr_net *net;
    int x, c, b, r, out, g, fc;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, 6, 6, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 4, 3, 1, 1, 0, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(net, c, &b), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(net, b, &r), SFR_OK);
    ck_assert_int_eq(sfr_ref_basic_block(net, r, 4, 8, 2, &out), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, out, &g), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, g, 3, &fc), SFR_OK);
    if (block != NULL)
        *block = out;
    ck_assert_int_eq(sfr_net_init_params(net, 11), SFR_OK);
    return net;
}

static float *input(int64_t batch)
{
    float *x = malloc((size_t)(batch * 72) * sizeof *x);
    for (int64_t i = 0; i < batch * 72; i++)
        x[i] = (float)cos(0.37 * (double)i);
    return x;
}

START_TEST(recompile_keeps_params_and_taps_and_zeroes_grads)
{
    int block;
    sfr_net *net = small_net(&block);
    sfr_tap *tap, *again;
    ck_assert_int_eq(sfr_net_tap(net, block, &tap), SFR_OK);
    const float *data;
    ck_assert_int_eq(sfr_tap_data(tap, &data), SFR_ERR_STATE); /* no buffers before compile */
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    float *p, *g;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, &p, &g, &np), SFR_OK);
    float *saved = malloc((size_t)np * sizeof *saved);
    float *x = input(3);
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    float dl[9] = {1, -1, 0.5f, 0, 1, 0, 0, 0, 1};
    ck_assert_int_eq(sfr_net_backward(net, dl), SFR_OK);
    memcpy(saved, p, (size_t)np * sizeof *saved);

    ck_assert_int_eq(sfr_net_compile(net, 3), SFR_OK);
    float *p2, *g2;
    ck_assert_int_eq(sfr_net_params(net, &p2, &g2, NULL), SFR_OK);
    ck_assert_ptr_eq(p2, p);
    ck_assert_int_eq(memcmp(p2, saved, (size_t)np * sizeof *saved), 0);
    for (int64_t i = 0; i < np; i++)
        ck_assert_float_eq(g2[i], 0.0f);
    ck_assert_int_eq(sfr_net_tap(net, block, &again), SFR_OK);
    ck_assert_ptr_eq(again, tap);
    int64_t d[4];
    ck_assert_int_eq(sfr_tap_dims(tap, d), SFR_OK);
    ck_assert(d[0] == 3 && d[1] == 8 && d[2] == 3 && d[3] == 3);
    ck_assert_int_eq(sfr_net_backward(net, dl), SFR_ERR_STATE); /* no forward since compile */
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    ck_assert_int_eq(sfr_tap_data(tap, &data), SFR_OK);
    const float *logits;
    int64_t od[2];
    ck_assert_int_eq(sfr_net_output(net, &logits, od), SFR_OK);
    ck_assert_int_eq(od[0], 3);
    ck_assert_int_eq(od[1], 3);
    free(saved);
    free(x);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(second_backward_gives_the_same_gradients)
{
    int block;
    sfr_net *net = small_net(&block);
    sfr_tap *tap;
    ck_assert_int_eq(sfr_net_tap(net, block, &tap), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    float *x = input(2);
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    float *tg;
    ck_assert_int_eq(sfr_tap_grad(tap, &tg), SFR_OK);
    for (int i = 0; i < 2 * 8 * 9; i++)
        tg[i] = 0.01f * (float)(i % 7);
    float dl[6] = {1, 0, -1, 0.5f, 0.5f, 0};
    ck_assert_int_eq(sfr_net_backward(net, dl), SFR_OK);
    float *g;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, NULL, &g, &np), SFR_OK);
    float *first = malloc((size_t)np * sizeof *first);
    memcpy(first, g, (size_t)np * sizeof *first);
    ck_assert_int_eq(sfr_net_backward(net, dl), SFR_OK);
    ck_assert_int_eq(memcmp(first, g, (size_t)np * sizeof *first), 0);

    /* A training forward zeroes the tap's gradient; an eval forward forbids backward. */
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    for (int i = 0; i < 2 * 8 * 9; i++)
        ck_assert_float_eq(tg[i], 0.0f);
    ck_assert_int_eq(sfr_net_forward(net, x, 0), SFR_OK);
    ck_assert_int_eq(sfr_net_backward(net, dl), SFR_ERR_STATE);
    free(first);
    free(x);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(init_is_deterministic_and_follows_the_rule)
{
    sfr_net *a, *b;
    int x, c, fc;
    ck_assert_int_eq(sfr_net_create(&a), SFR_OK);
    ck_assert_int_eq(sfr_net_input(a, 8, 6, 6, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(a, x, 64, 3, 1, 1, 1, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(a, c, 50, &fc), SFR_OK);
    ck_assert_int_eq(sfr_net_create(&b), SFR_OK);
    ck_assert_int_eq(sfr_net_input(b, 8, 6, 6, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(b, x, 64, 3, 1, 1, 1, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(b, c, 50, &fc), SFR_OK);
    float *pa, *pb;
    int64_t n;
    ck_assert_int_eq(sfr_net_init_params(a, 42), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(b, 42), SFR_OK);
    ck_assert_int_eq(sfr_net_params(a, &pa, NULL, &n), SFR_OK);
    ck_assert_int_eq(sfr_net_params(b, &pb, NULL, NULL), SFR_OK);
    ck_assert_int_eq(memcmp(pa, pb, (size_t)n * sizeof *pa), 0);
    ck_assert_int_eq(sfr_net_init_params(b, 43), SFR_OK);
    ck_assert_int_ne(memcmp(pa, pb, (size_t)n * sizeof *pa), 0);

    /* conv weight: N(0, 2 / (64*9)); conv bias U(+-1/sqrt(8*9));
     * linear weight and bias U(+-1/sqrt(64*36)). */
    const int64_t cw = 64 * 8 * 9, cb = 64, lw = 50 * 64 * 36, lb = 50;
    double s = 0, q = 0;
    for (int64_t i = 0; i < cw; i++) {
        s += pa[i];
        q += (double)pa[i] * pa[i];
    }
    double std = sqrt(2.0 / (64 * 9)), mean = s / cw, sd = sqrt(q / cw - mean * mean);
    ck_assert_double_le(fabs(mean), 0.1 * std);
    ck_assert_double_le(fabs(sd - std), 0.05 * std);
    const struct { int64_t off, n; double bound; } u[3] = {
        {cw, cb, 1 / sqrt(72.0)}, {cw + cb, lw, 1 / sqrt(2304.0)}, {cw + cb + lw, lb, 1 / sqrt(2304.0)}};
    for (int k = 0; k < 3; k++) {
        double lo = INFINITY, hi = -INFINITY;
        q = 0;
        for (int64_t i = u[k].off; i < u[k].off + u[k].n; i++) {
            lo = fmin(lo, pa[i]);
            hi = fmax(hi, pa[i]);
            q += (double)pa[i] * pa[i];
        }
        ck_assert_double_ge(lo, -u[k].bound);
        ck_assert_double_le(hi, u[k].bound);
        ck_assert_double_ge(hi - lo, u[k].bound); /* spread over the interval */
        if (u[k].n > 1000) /* variance of U(-a, a) is a^2 / 3 */
            ck_assert_double_eq_tol(q / u[k].n, u[k].bound * u[k].bound / 3, 0.05 * u[k].bound * u[k].bound);
    }
    ck_assert_int_eq(cw + cb + lw + lb, n);
    sfr_net_destroy(a);
    sfr_net_destroy(b);
}
END_TEST

struct run_result {
    float logits[6];
    float *grads;
    int64_t n;
};

static void *train_once(void *arg)
{
    struct run_result *r = arg;
    sfr_net *net = small_net(NULL);
    float *x = input(2), *g;
    float dl[6] = {1, 0, -1, 0.5f, 0.5f, 0};
    const float *z;
    int64_t d[2];
    if (sfr_net_compile(net, 2) != SFR_OK || sfr_net_forward(net, x, 1) != SFR_OK ||
        sfr_net_output(net, &z, d) != SFR_OK || sfr_net_backward(net, dl) != SFR_OK ||
        sfr_net_params(net, NULL, &g, &r->n) != SFR_OK) {
        r->n = -1;
    } else {
        memcpy(r->logits, z, sizeof r->logits);
        r->grads = malloc((size_t)r->n * sizeof(float));
        memcpy(r->grads, g, (size_t)r->n * sizeof(float));
    }
    free(x);
    sfr_net_destroy(net);
    return NULL;
}

START_TEST(two_nets_in_two_threads_match_sequential)
{
    struct run_result seq, par[2];
    train_once(&seq);
    ck_assert_int_gt(seq.n, 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, train_once, &par[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(par[i].n, seq.n);
        for (int k = 0; k < 6; k++)
            ck_assert_double_eq_tol(par[i].logits[k], seq.logits[k], 1e-5);
        for (int64_t k = 0; k < seq.n; k++)
            ck_assert_double_eq_tol(par[i].grads[k], seq.grads[k], 1e-4);
        free(par[i].grads);
    }
    free(seq.grads);
}
END_TEST

Suite *net_build_suite(void)
{
    Suite *s = suite_create("net_build");
    TCase *tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, recompile_keeps_params_and_taps_and_zeroes_grads);
    tcase_add_test(tc, second_backward_gives_the_same_gradients);
    tcase_add_test(tc, init_is_deterministic_and_follows_the_rule);
    tcase_add_test(tc, two_nets_in_two_threads_match_sequential);
    suite_add_tcase(s, tc);
    return s;
}
