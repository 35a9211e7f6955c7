/*
 * Net taps on layers kept in nChw16c have a blocked view (lib/tap/tap.h):
 * the regularizer reads and writes that layout, the plain data copy is
 * made only once the host asks for it, and the plain gradient is used only
 * once the host asks for its pointer. Through the public API this must be
 * invisible: the same gradients as a host that copies the taps out, wraps
 * them and writes the gradients back; two computes add up; data asked for
 * late, or read through a kept pointer, is the current forward's.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "float_compare.h"
#include "sfr/sfr.h"
#include "tap/tap.h"

enum { N = 8, K = 10, IN = 12 };

static float input[2][N * IN * IN];
static const float zero_logit_grad[N * K];

static void fill_inputs(void)
{
    uint64_t s = 5;
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < N * IN * IN; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            input[b][i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
        }
}

struct tapped {
    sfr_net *net;
    sfr_tap *student, *teacher;   /* 16 x 12 x 12, 32 x 6 x 6 */
};

/* input 1x12x12 -> conv 16 -> BN -> ReLU (student) -> conv 32 /2 -> ReLU
 * (teacher) -> global pool -> linear 10. */
static struct tapped build(void)
{
    struct tapped t;
    int x, c1, bn, r1, c2, r2, gap, fc;
    ck_assert_int_eq(sfr_net_create(&t.net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(t.net, 1, IN, IN, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(t.net, x, 16, 3, 1, 1, 0, &c1), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(t.net, c1, &bn), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(t.net, bn, &r1), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(t.net, r1, 32, 3, 2, 1, 1, &c2), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(t.net, c2, &r2), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(t.net, r2, &gap), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(t.net, gap, K, &fc), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(t.net, r1, &t.student), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(t.net, r2, &t.teacher), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(t.net, N), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(t.net, 3), SFR_OK);
    /* Otherwise these tests would not test the blocked view. */
    ck_assert_ptr_nonnull(t.student->blocked);
    ck_assert_ptr_nonnull(t.teacher->blocked);
    return t;
}

static float *param_grads(sfr_net *net, int64_t *count)
{
    float *p, *g;
    ck_assert_int_eq(sfr_net_params(net, &p, &g, count), SFR_OK);
    float *copy = malloc((size_t)*count * sizeof(float));
    memcpy(copy, g, (size_t)*count * sizeof(float));
    return copy;
}

/* Two steps (no update between them) with the pair on the net's own taps,
 * computed `computes` times per step with beta 1 / computes; returns the
 * second step's parameter gradients, which must not include the first's. */
static float *step_on_net_taps(int computes, double *loss)
{
    struct tapped t = build();
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(reg, t.student, t.teacher, 1.0 / computes, NULL), SFR_OK);
    for (int step = 0; step < 2; step++) {
        ck_assert_int_eq(sfr_net_forward(t.net, input[0], 1), SFR_OK);
        /* Nobody asked for the data: the plain copy was not made. */
        ck_assert_int_eq(t.student->plain_fresh, 0);
        *loss = 0;
        for (int i = 0; i < computes; i++) {
            double l;
            ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &l), SFR_OK);
            *loss += l;
        }
        ck_assert_int_eq(sfr_net_backward(t.net, zero_logit_grad), SFR_OK);
    }
    int64_t np;
    float *g = param_grads(t.net, &np);
    sfr_reg_destroy(reg);
    sfr_net_destroy(t.net);
    return g;
}

/* The same step as a host that copies the taps out, wraps the copies and
 * writes the student's gradient back through sfr_tap_grad. */
static float *step_on_wrapped_copies(double *loss)
{
    struct tapped t = build();
    ck_assert_int_eq(sfr_net_forward(t.net, input[0], 1), SFR_OK);
    int64_t sd[4], td[4];
    const float *sdata, *tdata;
    ck_assert_int_eq(sfr_tap_dims(t.student, sd), SFR_OK);
    ck_assert_int_eq(sfr_tap_dims(t.teacher, td), SFR_OK);
    ck_assert_int_eq(sfr_tap_data(t.student, &sdata), SFR_OK);
    ck_assert_int_eq(sfr_tap_data(t.teacher, &tdata), SFR_OK);
    size_t ns = (size_t)(sd[0] * sd[1] * sd[2] * sd[3]), nt = (size_t)(td[0] * td[1] * td[2] * td[3]);
    float *s = malloc(ns * sizeof(float)), *sg = calloc(ns, sizeof(float));
    float *te = malloc(nt * sizeof(float));
    memcpy(s, sdata, ns * sizeof(float));
    memcpy(te, tdata, nt * sizeof(float));
    sfr_tap *ws, *wt;
    ck_assert_int_eq(sfr_tap_wrap(sd, s, sg, &ws), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(td, te, NULL, &wt), SFR_OK);
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(reg, ws, wt, 1.0, NULL), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, loss), SFR_OK);
    float *grad;
    ck_assert_int_eq(sfr_tap_grad(t.student, &grad), SFR_OK);
    memcpy(grad, sg, ns * sizeof(float));
    ck_assert_int_eq(sfr_net_backward(t.net, zero_logit_grad), SFR_OK);
    int64_t np;
    float *g = param_grads(t.net, &np);
    sfr_reg_destroy(reg);
    sfr_tap_destroy(ws);
    sfr_tap_destroy(wt);
    free(s);
    free(sg);
    free(te);
    sfr_net_destroy(t.net);
    return g;
}

static int64_t n_params(void)
{
    struct tapped t = build();
    float *p, *g;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(t.net, &p, &g, &np), SFR_OK);
    sfr_net_destroy(t.net);
    return np;
}

START_TEST(blocked_taps_give_the_gradients_of_wrapped_copies)
{
    fill_inputs();
    double l_net, l_host;
    float *g_net = step_on_net_taps(1, &l_net);
    float *g_host = step_on_wrapped_copies(&l_host);
    ck_assert(l_net > 0);
    ck_assert_double_eq_tol(l_net, l_host, 1e-6 * l_host);
    /* Pooling sums in another order on each side: float rounding only. */
    assert_floats_close(g_net, g_host, n_params(), 1e-5);
    free(g_net);
    free(g_host);
}
END_TEST

START_TEST(two_computes_before_backward_add_up)
{
    fill_inputs();
    double l1, l2;
    float *once = step_on_net_taps(1, &l1);
    float *twice = step_on_net_taps(2, &l2);
    ck_assert_double_eq_tol(l1, l2, 1e-9 * l1);
    assert_floats_close(twice, once, n_params(), 1e-6);
    free(once);
    free(twice);
}
END_TEST

START_TEST(data_asked_late_or_read_through_a_kept_pointer_is_current)
{
    fill_inputs();
    struct tapped eager = build(), lazy = build();
    const float *e, *l;
    /* Before any forward there is no output to show; asked after the first
     * one, every later forward copies it. */
    ck_assert_int_eq(sfr_tap_data(eager.student, &e), SFR_ERR_STATE);
    ck_assert_int_eq(sfr_net_forward(eager.net, input[1], 1), SFR_OK);
    ck_assert_int_eq(sfr_tap_data(eager.student, &e), SFR_OK);
    int64_t d[4];
    ck_assert_int_eq(sfr_tap_dims(eager.student, d), SFR_OK);
    size_t bytes = (size_t)(d[0] * d[1] * d[2] * d[3]) * sizeof(float);
    for (int b = 0; b < 2; b++) {
        ck_assert_int_eq(sfr_net_forward(eager.net, input[b], 1), SFR_OK);
        ck_assert_int_eq(sfr_net_forward(lazy.net, input[b], 1), SFR_OK);
        if (b == 0) {
            ck_assert_int_eq(lazy.student->plain_fresh, 0);
            ck_assert_int_eq(sfr_tap_data(lazy.student, &l), SFR_OK);
        }
        /* The second time through the pointer kept from the first. */
        ck_assert_int_eq(memcmp(l, e, bytes), 0);
    }
    sfr_net_destroy(eager.net);
    sfr_net_destroy(lazy.net);
}
END_TEST

/* A NaN or an infinity in a tap gradient backward would add, in the plain
 * buffer the host writes or in the blocked one the regularizer writes, is
 * refused before backward writes anything. */
START_TEST(non_finite_tap_gradients_are_refused_before_anything_is_written)
{
    fill_inputs();
    struct tapped t = build();
    int64_t np;
    float *before = param_grads(t.net, &np);
    float *grad;
    ck_assert_int_eq(sfr_net_forward(t.net, input[0], 1), SFR_OK);
    ck_assert_int_eq(sfr_tap_grad(t.student, &grad), SFR_OK);
    grad[7] = NAN;
    ck_assert_int_eq(sfr_net_backward(t.net, zero_logit_grad), SFR_ERR_NONFINITE);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_backward: the gradient of the tap on layer 3 "
                                       "holds NaN or infinity");
    grad[7] = 0;
    int64_t d[4];
    ck_assert_int_eq(sfr_tap_dims(t.teacher, d), SFR_OK);
    memset(t.teacher->blocked_grad, 0, (size_t)(d[0] * d[1] * d[2] * d[3]) * sizeof(float));
    t.teacher->blocked_grad[3] = INFINITY;
    t.teacher->blocked_grad_live = 1;
    ck_assert_int_eq(sfr_net_backward(t.net, zero_logit_grad), SFR_ERR_NONFINITE);
    float *after = param_grads(t.net, &np);
    ck_assert_int_eq(memcmp(before, after, (size_t)np * sizeof(float)), 0);
    t.teacher->blocked_grad[3] = 0;
    ck_assert_int_eq(sfr_net_backward(t.net, zero_logit_grad), SFR_OK);
    free(before);
    free(after);
    sfr_net_destroy(t.net);
}
END_TEST

Suite *net_blocked_taps_suite(void)
{
    Suite *s = suite_create("net_blocked_taps");
    TCase *tc = tcase_create("blocked_taps");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, blocked_taps_give_the_gradients_of_wrapped_copies);
    tcase_add_test(tc, two_computes_before_backward_add_up);
    tcase_add_test(tc, data_asked_late_or_read_through_a_kept_pointer_is_current);
    tcase_add_test(tc, non_finite_tap_gradients_are_refused_before_anything_is_written);
    suite_add_tcase(s, tc);
    return s;
}
