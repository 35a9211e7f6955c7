/*
 * The layer kinds added for today's small CNNs, against PyTorch 1.13
 * (tests/fixtures/layers_torch.h, written by the script beside it): forward
 * values and the gradient through each, within 1e-4 of the largest
 * magnitude; dropout (random, so not PyTorch's stream) against its
 * definition; and their builders' argument errors.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * One training step of a compiled net against PyTorch's: its parameters set
 * to params (n_params floats), a forward of x whose n_out outputs must be
 * want_y, a backward of dy whose parameter gradients must be want_grads.
 */
static void step_against_pytorch(sfr_net *net, const float *params, int64_t n_params,
                                 const float *x, const float *dy, const float *want_y, int n_out,
                                 const float *want_grads, const char *what, int k)
{
    float *values, *grads;
    int64_t count;
    ck_assert_int_eq(sfr_net_params(net, &values, &grads, &count), SFR_OK);
    ck_assert_int_eq(count, n_params);
    memcpy(values, params, (size_t)count * sizeof(float));
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    const float *y;
    int64_t dims[2];
    ck_assert_int_eq(sfr_net_output(net, &y, dims), SFR_OK);
    ck_assert_int_eq(dims[0] * dims[1], n_out);
    char label[64];
    snprintf(label, sizeof label, "%s output", what);
    expect_close(y, want_y, n_out, 1e-4, label, k);
    ck_assert_int_eq(sfr_net_backward(net, dy), SFR_OK);
    snprintf(label, sizeof label, "%s gradients", what);
    expect_close(grads, want_grads, (int)count, 1e-4, label, k);
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
        step_against_pytorch(net, layers_w, LAYERS_C * LAYERS_C, layers_x, layers_dy,
                             layers_act_y + (kind - 1) * OUT, OUT,
                             layers_act_dw + (kind - 1) * LAYERS_C * LAYERS_C, "activation", kind);
        const float *y;
        int64_t dims[2];
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
        step_against_pytorch(net, layers_w, LAYERS_C * LAYERS_C, layers_x, layers_dy,
                             layers_mul_y + k * OUT, OUT, layers_mul_dw + k * LAYERS_C * LAYERS_C,
                             "product", k);
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
        step_against_pytorch(net, layers_w, LAYERS_C * LAYERS_C, layers_x, dy,
                             layers_cat_y + k * CAT_OUT, CAT_OUT,
                             layers_cat_dw + k * LAYERS_C * LAYERS_C, "concat", k);
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

/* input -> conv 1x1 with identity weights (so the dropout sees the fixture's
 * x exactly) -> dropout(p). */
static sfr_net *dropout_net(double p)
{
    sfr_net *net;
    int id;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, LAYERS_C, LAYERS_S, LAYERS_S, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, id, LAYERS_C, 1, 1, 0, 0, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_dropout(net, id, p, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, LAYERS_N), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, 3), SFR_OK);
    float *values;
    ck_assert_int_eq(sfr_net_params(net, &values, NULL, NULL), SFR_OK);
    for (int o = 0; o < LAYERS_C; o++)
        for (int i = 0; i < LAYERS_C; i++)
            values[o * LAYERS_C + i] = o == i ? 1.0f : 0.0f;
    return net;
}

START_TEST(dropout_zeroes_scales_and_back_propagates_its_mask)
{
    const double p = 0.3;
    const float scale = (float)(1.0 / (1.0 - p));
    sfr_net *net = dropout_net(p);
    const float *y;
    int64_t dims[2];
    ck_assert_int_eq(sfr_net_forward(net, layers_x, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_output(net, &y, dims), SFR_OK);
    int dropped = 0;
    for (int i = 0; i < OUT; i++) {
        ck_assert(layers_x[i] != 0.0f);
        if (y[i] == 0.0f)
            dropped++;
        else
            ck_assert_msg(y[i] == layers_x[i] * scale, "kept value %d: %g, want %g", i,
                          (double)y[i], (double)(layers_x[i] * scale));
    }
    /* 720 draws: the count is within 5 standard deviations (12.3) of 216. */
    ck_assert_msg(fabs(dropped - p * OUT) < 5 * sqrt(OUT * p * (1 - p)), "%d of %d dropped",
                  dropped, OUT);
    /* Backward: dW[o][i] = sum over samples and positions of dy[o] kept and
     * scaled, times x[i]. */
    static float kept[OUT];
    for (int i = 0; i < OUT; i++)
        kept[i] = y[i] != 0.0f ? 1.0f : 0.0f;
    ck_assert_int_eq(sfr_net_backward(net, layers_dy), SFR_OK);
    float *grads;
    ck_assert_int_eq(sfr_net_params(net, NULL, &grads, NULL), SFR_OK);
    static float want[LAYERS_C * LAYERS_C];
    const int map = LAYERS_S * LAYERS_S;
    for (int o = 0; o < LAYERS_C; o++)
        for (int i = 0; i < LAYERS_C; i++) {
            double sum = 0;
            for (int n = 0; n < LAYERS_N; n++)
                for (int q = 0; q < map; q++) {
                    int at_o = (n * LAYERS_C + o) * map + q, at_i = (n * LAYERS_C + i) * map + q;
                    sum += (double)layers_dy[at_o] * kept[at_o] * scale * layers_x[at_i];
                }
            want[o * LAYERS_C + i] = (float)sum;
        }
    expect_close(grads, want, LAYERS_C * LAYERS_C, 1e-5, "dropout weight gradient", 0);
    /* Eval passes the input on unchanged. */
    ck_assert_int_eq(sfr_net_forward(net, layers_x, 0), SFR_OK);
    ck_assert_int_eq(sfr_net_output(net, &y, dims), SFR_OK);
    ck_assert_int_eq(memcmp(y, layers_x, sizeof layers_x), 0);
    sfr_net_destroy(net);
    /* p = 0 is the identity in training too. */
    net = dropout_net(0.0);
    ck_assert_int_eq(sfr_net_forward(net, layers_x, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_output(net, &y, dims), SFR_OK);
    ck_assert_int_eq(memcmp(y, layers_x, sizeof layers_x), 0);
    sfr_net_destroy(net);
}
END_TEST

/* The zero pattern of the training forwards of an input -> dropout(0.5)
 * net of 8 x 1 x 128 x 128 values (enough to be split across threads). */
enum { DROP_N = 8, DROP_SIDE = 128, DROP_VALUES = DROP_N * DROP_SIDE * DROP_SIDE };

static void dropout_patterns(int threads, uint64_t seed, int forwards, uint8_t *pattern)
{
    static float ones[DROP_VALUES];
    for (int i = 0; i < DROP_VALUES; i++)
        ones[i] = 1.0f;
    ck_assert_int_eq(sfr_set_num_threads(threads), SFR_OK);
    sfr_net *net;
    int id;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 1, DROP_SIDE, DROP_SIDE, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_dropout(net, id, 0.5, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, DROP_N), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, seed), SFR_OK);
    for (int f = 0; f < forwards; f++) {
        const float *y;
        int64_t dims[2];
        ck_assert_int_eq(sfr_net_forward(net, ones, 1), SFR_OK);
        ck_assert_int_eq(sfr_net_output(net, &y, dims), SFR_OK);
        for (int i = 0; i < DROP_VALUES; i++)
            pattern[f * DROP_VALUES + i] = y[i] != 0.0f;
    }
    sfr_net_destroy(net);
    ck_assert_int_eq(sfr_set_num_threads(0), SFR_OK);
}

START_TEST(dropout_masks_depend_on_seed_and_forward_not_threads)
{
    static uint8_t one[2 * DROP_VALUES], two[2 * DROP_VALUES], other[2 * DROP_VALUES];
    dropout_patterns(1, 11, 2, one);
    dropout_patterns(2, 11, 2, two);
    dropout_patterns(2, 12, 2, other);
    ck_assert_int_eq(memcmp(one, two, sizeof one), 0);
    ck_assert_int_ne(memcmp(one, one + DROP_VALUES, DROP_VALUES), 0);
    ck_assert_int_ne(memcmp(one, other, DROP_VALUES), 0);
    int kept = 0;
    for (int i = 0; i < DROP_VALUES; i++)
        kept += one[i];
    ck_assert_msg(abs(kept - DROP_VALUES / 2) < 5 * 181, "%d of %d kept", kept, DROP_VALUES);
}
END_TEST

START_TEST(dropout_builder_errors)
{
    sfr_net *net;
    int x, id = -7;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, 3, 3, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_dropout(net, x, 1.0, &id), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_dropout: p is 1: it must be in [0, 1)");
    ck_assert_int_eq(sfr_net_dropout(net, x, -0.1, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_dropout(net, x, NAN, &id), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_dropout: p is nan: it must be in [0, 1)");
    ck_assert_int_eq(sfr_net_dropout(net, 3, 0.5, &id), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(id, -7);
    sfr_net_destroy(net);
}
END_TEST

static sfr_conv_params conv_case(int k)
{
    const int *g = layers_conv_geometry[k];
    sfr_conv_params p = SFR_CONV_PARAMS_INIT;
    p.kernel_h = g[1];
    p.kernel_w = g[2];
    p.stride_h = g[3];
    p.stride_w = g[4];
    p.pad_top = g[5];
    p.pad_left = g[6];
    p.pad_bottom = g[7];
    p.pad_right = g[8];
    p.dilation_h = g[9];
    p.dilation_w = g[10];
    p.groups = g[11];
    p.bias = g[12];
    return p;
}

START_TEST(general_convolutions_match_pytorch)
{
    /* Rectangular with one-sided padding, depthwise, grouped and dilated,
     * and 1 x 5 dilated with per-axis strides and left/right padding. */
    for (int k = 0; k < LAYERS_CONVS; k++) {
        sfr_net *net;
        int x, id;
        ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
        ck_assert_int_eq(sfr_net_input(net, 8, 7, 9, &x), SFR_OK);
        sfr_conv_params p = conv_case(k);
        ck_assert_int_eq(sfr_net_conv(net, x, layers_conv_geometry[k][0], &p, &id), SFR_OK);
        ck_assert_int_eq(sfr_net_compile(net, LAYERS_N), SFR_OK);
        step_against_pytorch(net, layers_convs[k].params, layers_convs[k].n_params, layers_conv_x,
                             layers_convs[k].dy, layers_convs[k].y, layers_convs[k].n_out,
                             layers_convs[k].grads, "conv", k);
        sfr_net_destroy(net);
    }
}
END_TEST

START_TEST(general_convolution_errors)
{
    sfr_net *net;
    int x, id = -7;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 6, 5, 5, &x), SFR_OK);
    sfr_conv_params p = SFR_CONV_PARAMS_INIT;
    ck_assert_int_eq(sfr_net_conv(net, x, 4, NULL, &id), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_conv: p is NULL");
    p.size = sizeof(size_t) + 3 * sizeof(int);
    ck_assert_int_eq(sfr_net_conv(net, x, 4, &p, &id), SFR_ERR_INVALID_ARG);
    p.size = sizeof p;
    p.groups = 4; /* divides 4 outputs, not 6 inputs */
    ck_assert_int_eq(sfr_net_conv(net, x, 4, &p, &id), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_net_conv: groups 4 must be >= 1 and divide the 6 input and 4 output "
                     "channels");
    p.groups = 0;
    ck_assert_int_eq(sfr_net_conv(net, x, 6, &p, &id), SFR_ERR_SHAPE);
    p.groups = 2;
    p.kernel_h = 3;
    p.pad_bottom = 3; /* more than the kernel's reach */
    ck_assert_int_eq(sfr_net_conv(net, x, 6, &p, &id), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_net_conv: height: padding 3 with kernel 3: it must be in [0, 2]");
    p.pad_bottom = 0;
    p.dilation_w = 0;
    ck_assert_int_eq(sfr_net_conv(net, x, 6, &p, &id), SFR_ERR_SHAPE);
    p.dilation_w = 9; /* a 1-wide kernel: any dilation is the same */
    p.kernel_w = 2;   /* dilated to 10 > 5 + 0 + 0 */
    ck_assert_int_eq(sfr_net_conv(net, x, 6, &p, &id), SFR_ERR_SHAPE);
    p.kernel_w = 1;
    p.stride_h = 0;
    ck_assert_int_eq(sfr_net_conv(net, x, 6, &p, &id), SFR_ERR_SHAPE);
    p.stride_h = 1;
    p.bias = 2;
    ck_assert_int_eq(sfr_net_conv(net, x, 6, &p, &id), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_conv: bias is 2: it must be 0 or 1");
    p.bias = 1;
    ck_assert_int_eq(id, -7);
    ck_assert_int_eq(sfr_net_conv(net, x, 6, &p, &id), SFR_OK);
    /* A caller compiled with a larger struct: the fields past 0.2.0's are
     * not read. */
    struct {
        sfr_conv_params p;
        int later_field;
    } bigger = {p, 12345};
    bigger.p.size = sizeof bigger;
    ck_assert_int_eq(sfr_net_conv(net, x, 6, &bigger.p, &id), SFR_OK);
    int64_t count;
    ck_assert_int_eq(sfr_net_params(net, NULL, NULL, &count), SFR_OK);
    ck_assert_int_eq(count, 2 * (6 * 3 * 3 * 1 + 6));
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
    tc = tcase_create("convolutions");
    tcase_add_test(tc, general_convolutions_match_pytorch);
    tcase_add_test(tc, general_convolution_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("dropout");
    tcase_add_test(tc, dropout_zeroes_scales_and_back_propagates_its_mask);
    tcase_add_test(tc, dropout_masks_depend_on_seed_and_forward_not_threads);
    tcase_add_test(tc, dropout_builder_errors);
    suite_add_tcase(s, tc);
    return s;
}
