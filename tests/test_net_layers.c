/*
 * The layer kinds added for today's small CNNs, against PyTorch 1.13
 * (tests/fixtures/layers_torch.h, written by the script beside it): forward
 * values and the gradient through each, within 1e-4 of the largest
 * magnitude; and their builders' argument errors.
 */
#include <check.h>
#include <math.h>
#include <string.h>

#include "fixtures/layers_torch.h"
#include "sfr/sfr.h"

enum { VOLUME = LAYERS_C * LAYERS_S * LAYERS_S, OUT = LAYERS_N * VOLUME };

/* max |a - b| <= tol * max |b| over n values. */
static void expect_close(const float *a, const float *b, int n, double tol, const char *what,
                         int kind)
{
    double largest = 0, worst = 0;
    int at = 0;
    for (int i = 0; i < n; i++) {
        largest = fmax(largest, fabs(b[i]));
        if (fabs(a[i] - b[i]) > worst) {
            worst = fabs(a[i] - b[i]);
            at = i;
        }
    }
    ck_assert_msg(worst <= tol * largest, "activation %d, %s: [%d] %g, PyTorch %g (largest %g)",
                  kind, what, at, (double)a[at], (double)b[at], largest);
}

START_TEST(activations_match_pytorch)
{
    for (int kind = SFR_ACT_SIGMOID; kind <= SFR_ACT_GELU_TANH; kind++) {
        sfr_net *net;
        int id;
        ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
        ck_assert_int_eq(sfr_net_input(net, LAYERS_C, LAYERS_S, LAYERS_S, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_conv2d(net, id, LAYERS_C, 1, 1, 0, 0, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_activation(net, id, kind, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_compile(net, LAYERS_N), SFR_OK);
        float *values, *grads;
        int64_t count;
        ck_assert_int_eq(sfr_net_params(net, &values, &grads, &count), SFR_OK);
        ck_assert_int_eq(count, LAYERS_C * LAYERS_C);
        memcpy(values, layers_w, sizeof layers_w);
        ck_assert_int_eq(sfr_net_forward(net, layers_x, 1), SFR_OK);
        const float *y;
        int64_t dims[2];
        ck_assert_int_eq(sfr_net_output(net, &y, dims), SFR_OK);
        ck_assert_int_eq(dims[1], VOLUME);
        expect_close(y, layers_act_y + (kind - 1) * OUT, OUT, 1e-4, "output", kind);
        ck_assert_int_eq(sfr_net_backward(net, layers_dy), SFR_OK);
        expect_close(grads, layers_act_dw + (kind - 1) * LAYERS_C * LAYERS_C,
                     LAYERS_C * LAYERS_C, 1e-4, "weight gradient", kind);
        /* Eval gives the same output (no state in an activation). */
        ck_assert_int_eq(sfr_net_forward(net, layers_x, 0), SFR_OK);
        ck_assert_int_eq(sfr_net_output(net, &y, dims), SFR_OK);
        expect_close(y, layers_act_y + (kind - 1) * OUT, OUT, 1e-4, "eval output", kind);
        sfr_net_destroy(net);
    }
}
END_TEST

/* input -> conv 1x1 (the fixture's W) -> the product of case k: by the
 * map's mean, by itself, by its sigmoid. */
static sfr_net *product_net(int k)
{
    sfr_net *net;
    int x, z, b, id;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, LAYERS_C, LAYERS_S, LAYERS_S, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, x, LAYERS_C, 1, 1, 0, 0, &z), SFR_OK);
    if (k == 0)
        ck_assert_int_eq(sfr_net_global_avgpool(net, z, &b), SFR_OK);
    else if (k == 1)
        b = z;
    else
        ck_assert_int_eq(sfr_net_activation(net, z, SFR_ACT_SIGMOID, &b), SFR_OK);
    ck_assert_int_eq(sfr_net_mul(net, z, b, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, LAYERS_N), SFR_OK);
    return net;
}

START_TEST(products_match_pytorch)
{
    for (int k = 0; k < LAYERS_PRODUCTS; k++) {
        sfr_net *net = product_net(k);
        float *values, *grads;
        int64_t count;
        ck_assert_int_eq(sfr_net_params(net, &values, &grads, &count), SFR_OK);
        memcpy(values, layers_w, sizeof layers_w);
        ck_assert_int_eq(sfr_net_forward(net, layers_x, 1), SFR_OK);
        const float *y;
        int64_t dims[2];
        ck_assert_int_eq(sfr_net_output(net, &y, dims), SFR_OK);
        expect_close(y, layers_mul_y + k * OUT, OUT, 1e-4, "product output", k);
        ck_assert_int_eq(sfr_net_backward(net, layers_dy), SFR_OK);
        expect_close(grads, layers_mul_dw + k * LAYERS_C * LAYERS_C, LAYERS_C * LAYERS_C, 1e-4,
                     "product weight gradient", k);
        sfr_net_destroy(net);
    }
}
END_TEST

START_TEST(product_builder_errors)
{
    sfr_net *net;
    int x, wide, narrow, pooled, id = -7;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, 4, 4, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 3, 1, 1, 0, 0, &wide), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 2, 3, 2, 1, 0, &narrow), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, x, &pooled), SFR_OK);
    ck_assert_int_eq(sfr_net_mul(net, x, wide, &id), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_net_mul: b is 3 x 4 x 4: it must be a's 2 x 4 x 4 or 2 x 1 x 1");
    ck_assert_int_eq(sfr_net_mul(net, x, narrow, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_mul(net, pooled, x, &id), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_mul(net, x, 9, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_mul(net, x, pooled, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(id, -7);
    ck_assert_int_eq(sfr_net_mul(net, x, pooled, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    ck_assert_int_eq(sfr_net_mul(net, x, pooled, &id), SFR_ERR_STATE);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(concatenations_match_pytorch)
{
    enum { CAT_OUT = 2 * OUT };
    /* dy, then dy with its channels reversed, for each sample. */
    static float dy[CAT_OUT];
    for (int n = 0; n < LAYERS_N; n++)
        for (int half = 0; half < 2; half++)
            for (int ch = 0; ch < LAYERS_C; ch++)
                memcpy(dy + ((n * 2 + half) * LAYERS_C + ch) * LAYERS_S * LAYERS_S,
                       layers_dy + (n * LAYERS_C + (half ? LAYERS_C - 1 - ch : ch)) * LAYERS_S *
                                       LAYERS_S,
                       LAYERS_S * LAYERS_S * sizeof(float));
    for (int k = 0; k < LAYERS_CONCATS; k++) {
        sfr_net *net;
        int x, z, b, id;
        ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
        ck_assert_int_eq(sfr_net_input(net, LAYERS_C, LAYERS_S, LAYERS_S, &x), SFR_OK);
        ck_assert_int_eq(sfr_net_conv2d(net, x, LAYERS_C, 1, 1, 0, 0, &z), SFR_OK);
        b = z;
        if (k == 0)
            ck_assert_int_eq(sfr_net_activation(net, z, SFR_ACT_SIGMOID, &b), SFR_OK);
        ck_assert_int_eq(sfr_net_concat(net, z, b, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_compile(net, LAYERS_N), SFR_OK);
        float *values, *grads;
        int64_t count;
        ck_assert_int_eq(sfr_net_params(net, &values, &grads, &count), SFR_OK);
        memcpy(values, layers_w, sizeof layers_w);
        ck_assert_int_eq(sfr_net_forward(net, layers_x, 1), SFR_OK);
        const float *y;
        int64_t dims[2];
        ck_assert_int_eq(sfr_net_output(net, &y, dims), SFR_OK);
        ck_assert_int_eq(dims[1], 2 * VOLUME);
        expect_close(y, layers_cat_y + k * CAT_OUT, CAT_OUT, 1e-4, "concat output", k);
        ck_assert_int_eq(sfr_net_backward(net, dy), SFR_OK);
        expect_close(grads, layers_cat_dw + k * LAYERS_C * LAYERS_C, LAYERS_C * LAYERS_C, 1e-4,
                     "concat weight gradient", k);
        sfr_net_destroy(net);
    }
}
END_TEST

START_TEST(concat_builder_errors)
{
    sfr_net *net;
    int x, half, id = -7;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, 4, 4, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 3, 3, 2, 1, 0, &half), SFR_OK);
    ck_assert_int_eq(sfr_net_concat(net, x, half, &id), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_net_concat: a's map is 4 x 4, b's 2 x 2: they must be equal");
    ck_assert_int_eq(sfr_net_concat(net, x, -1, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(id, -7);
    ck_assert_int_eq(sfr_net_concat(net, x, x, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    ck_assert_int_eq(sfr_net_concat(net, x, x, &id), SFR_ERR_STATE);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(activation_builder_errors)
{
    sfr_net *net;
    int id = -7, x;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, 3, 3, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_activation(net, x, 0, &id), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_activation: kind 0 is not an sfr_activation");
    ck_assert_int_eq(sfr_net_activation(net, x, SFR_ACT_GELU_TANH + 1, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_activation(net, 5, SFR_ACT_SILU, &id), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_net_activation: layer id 5 is unknown (the net has 1 layers)");
    ck_assert_int_eq(sfr_net_activation(net, x, SFR_ACT_SILU, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_activation(NULL, x, SFR_ACT_SILU, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(id, -7);
    ck_assert_int_eq(sfr_net_activation(net, x, SFR_ACT_SILU, &id), SFR_OK);
    ck_assert_int_eq(id, 1);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    ck_assert_int_eq(sfr_net_activation(net, id, SFR_ACT_SILU, &id), SFR_ERR_STATE);
    sfr_net_destroy(net);
}
END_TEST

Suite *net_layers_suite(void)
{
    Suite *s = suite_create("net_layers");
    TCase *tc = tcase_create("activations");
    tcase_add_test(tc, activations_match_pytorch);
    tcase_add_test(tc, activation_builder_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("products");
    tcase_add_test(tc, products_match_pytorch);
    tcase_add_test(tc, product_builder_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("concatenations");
    tcase_add_test(tc, concatenations_match_pytorch);
    tcase_add_test(tc, concat_builder_errors);
    suite_add_tcase(s, tc);
    return s;
}
