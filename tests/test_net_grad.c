/*
 * Gradients of every layer type against central finite differences.
 *
 * The objective is J = sum(w .* logits) + sum over tapped layers of
 * sum(v .* tap data), with fixed random w and v: backward gets dlogits = w
 * and the taps' gradient buffers hold v, so every parameter gradient must
 * equal dJ/dp. Gradients w.r.t. a layer's input are checked through the
 * parameters of a convolution placed before it. Training forwards only
 * (batch statistics), and J is summed in double.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reference_nets.h"
#include "sfr/sfr.h"

#define MAX_TAPS 4

struct grad_net {
    sfr_net *net;
    int taps[MAX_TAPS];
    int n_taps;
    int guard; /* a ReLU's input layer kept away from the kink, or -1 */
};

typedef void (*build_fn)(struct grad_net *g);

static uint64_t rng_state;

static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void fill(float *p, int64_t n, double lo, double hi)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)(lo + (hi - lo) * urand());
}

static int64_t prod4(const int64_t d[4])
{
    return d[0] * d[1] * d[2] * d[3];
}

/* J for the current parameters (a training forward). */
static double objective(sfr_net *net, const float *x, const float *w, sfr_tap **taps,
                        float **v, int n_taps)
{
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    const float *out;
    int64_t od[2];
    ck_assert_int_eq(sfr_net_output(net, &out, od), SFR_OK);
    double j = 0;
    for (int64_t i = 0; i < od[0] * od[1]; i++)
        j += (double)w[i] * out[i];
    for (int t = 0; t < n_taps; t++) {
        const float *data;
        int64_t d[4];
        ck_assert_int_eq(sfr_tap_data(taps[t], &data), SFR_OK);
        ck_assert_int_eq(sfr_tap_dims(taps[t], d), SFR_OK);
        for (int64_t i = 0; i < prod4(d); i++)
            j += (double)v[t][i] * data[i];
    }
    return j;
}

/*
 * Builds the net, compares every every-th parameter gradient with
 * (J(p + h) - J(p - h)) / 2h; the error allowed is tol times the largest
 * analytic gradient.
 */
static void check_gradients(build_fn build, int64_t batch, int every, double h, double tol)
{
    rng_state = 12345;
    struct grad_net g = {0};
    g.guard = -1;
    ck_assert_int_eq(sfr_net_create(&g.net), SFR_OK);
    build(&g);
    sfr_tap *taps[MAX_TAPS];
    for (int t = 0; t < g.n_taps; t++)
        ck_assert_int_eq(sfr_net_tap(g.net, g.taps[t], &taps[t]), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(g.net, 7), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(g.net, batch), SFR_OK);

    float *p, *grad;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(g.net, &p, &grad, &np), SFR_OK);
    ck_assert_int_gt(np, 0);
    /* Non-trivial BN gamma and beta and conv biases: perturb every value a little. */
    for (int64_t i = 0; i < np; i++)
        p[i] += (float)(0.2 * (urand() - 0.5));

    int64_t in_dims[4];
    sfr_tap *in_tap;
    ck_assert_int_eq(sfr_net_tap(g.net, 0, &in_tap), SFR_OK);
    ck_assert_int_eq(sfr_tap_dims(in_tap, in_dims), SFR_OK);
    float *x = malloc((size_t)prod4(in_dims) * sizeof *x);
    fill(x, prod4(in_dims), -1, 1);
    /* A ReLU input within reach of a perturbation would make the finite
     * difference straddle the kink: draw inputs until every one is clear. */
    if (g.guard >= 0) {
        sfr_tap *gt;
        ck_assert_int_eq(sfr_net_tap(g.net, g.guard, &gt), SFR_OK);
        int clear = 0;
        for (int tries = 0; tries < 500 && !clear; tries++) {
            fill(x, prod4(in_dims), -1, 1);
            ck_assert_int_eq(sfr_net_forward(g.net, x, 1), SFR_OK);
            const float *data;
            int64_t d[4];
            ck_assert_int_eq(sfr_tap_data(gt, &data), SFR_OK);
            ck_assert_int_eq(sfr_tap_dims(gt, d), SFR_OK);
            clear = 1;
            for (int64_t i = 0; i < prod4(d); i++)
                clear = clear && fabs(data[i]) > 10 * h;
        }
        ck_assert_msg(clear, "no input keeps the ReLU away from its kink");
    }

    ck_assert_int_eq(sfr_net_forward(g.net, x, 1), SFR_OK);
    const float *out;
    int64_t od[2];
    ck_assert_int_eq(sfr_net_output(g.net, &out, od), SFR_OK);
    float *w = malloc((size_t)(od[0] * od[1]) * sizeof *w);
    fill(w, od[0] * od[1], -1, 1);
    float *v[MAX_TAPS];
    for (int t = 0; t < g.n_taps; t++) {
        int64_t d[4];
        ck_assert_int_eq(sfr_tap_dims(taps[t], d), SFR_OK);
        v[t] = malloc((size_t)prod4(d) * sizeof(float));
        fill(v[t], prod4(d), -1, 1);
        float *tg;
        ck_assert_int_eq(sfr_tap_grad(taps[t], &tg), SFR_OK);
        memcpy(tg, v[t], (size_t)prod4(d) * sizeof(float));
    }
    ck_assert_int_eq(sfr_net_backward(g.net, w), SFR_OK);
    float *analytic = malloc((size_t)np * sizeof *analytic);
    memcpy(analytic, grad, (size_t)np * sizeof *analytic);

    double largest = 0, worst = 0;
    int64_t worst_i = -1;
    for (int64_t i = 0; i < np; i++)
        largest = fmax(largest, fabs(analytic[i]));
    ck_assert(largest > 0);
    for (int64_t i = 0; i < np; i += every) {
        float saved = p[i];
        p[i] = saved + (float)h;
        double jp = objective(g.net, x, w, taps, v, g.n_taps);
        p[i] = saved - (float)h;
        double jm = objective(g.net, x, w, taps, v, g.n_taps);
        p[i] = saved;
        double fd = (jp - jm) / (2 * h);
        double err = fabs(fd - analytic[i]);
        if (err > worst) {
            worst = err;
            worst_i = i;
        }
    }
    ck_assert_msg(worst <= tol * largest, "gradient %lld off by %g (largest gradient %g)",
                  (long long)worst_i, worst, largest);
    for (int t = 0; t < g.n_taps; t++)
        free(v[t]);
    free(analytic);
    free(w);
    free(x);
    sfr_net_destroy(g.net);
}

/* input (2 x 5 x 5) -> conv3x3(3, bias): gives every layer after it a
 * gradient w.r.t. its input to be checked through this conv's parameters. */
static int front(struct grad_net *g)
{
    int x, c;
    ck_assert_int_eq(sfr_net_input(g->net, 2, 5, 5, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(g->net, x, 3, 3, 1, 1, 1, &c), SFR_OK);
    return c;
}

static void build_conv(struct grad_net *g)
{
    int id;
    ck_assert_int_eq(sfr_net_conv2d(g->net, front(g), 4, 3, 2, 1, 1, &id), SFR_OK);
}

/* 64 channels in and out, 3x3, stride 1: the shape that takes oneDNN's
 * Winograd algorithm (tests/test_net_winograd.c checks that it does). */
static void build_conv_winograd(struct grad_net *g)
{
    int x, c, id;
    ck_assert_int_eq(sfr_net_input(g->net, 2, 5, 5, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(g->net, x, 64, 3, 1, 1, 1, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(g->net, c, 64, 3, 1, 1, 1, &id), SFR_OK);
}

static void build_conv_nobias_1x1(struct grad_net *g)
{
    int id;
    ck_assert_int_eq(sfr_net_conv2d(g->net, front(g), 4, 1, 2, 0, 0, &id), SFR_OK);
}

static void build_bn(struct grad_net *g)
{
    int id;
    ck_assert_int_eq(sfr_net_batchnorm(g->net, front(g), &id), SFR_OK);
}

static void build_relu(struct grad_net *g)
{
    int id;
    g->guard = front(g);
    ck_assert_int_eq(sfr_net_relu(g->net, g->guard, &id), SFR_OK);
}

/* The activation build_activation adds after the front conv. */
static int activation_kind;

static void build_activation(struct grad_net *g)
{
    int id;
    ck_assert_int_eq(sfr_net_activation(g->net, front(g), activation_kind, &id), SFR_OK);
}

static void build_maxpool(struct grad_net *g)
{
    int id;
    ck_assert_int_eq(sfr_net_maxpool(g->net, front(g), 3, 2, 1, &id), SFR_OK);
}

static void build_avgpool(struct grad_net *g)
{
    int id;
    ck_assert_int_eq(sfr_net_avgpool(g->net, front(g), 3, 2, 1, &id), SFR_OK);
}

static void build_gap(struct grad_net *g)
{
    int id;
    ck_assert_int_eq(sfr_net_global_avgpool(g->net, front(g), &id), SFR_OK);
}

static void build_linear(struct grad_net *g)
{
    int id, id2;
    ck_assert_int_eq(sfr_net_linear(g->net, front(g), 4, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(g->net, id, 3, &id2), SFR_OK);
}

/* The conv's output feeds both a second conv and the sum: its gradient is
 * the sum of two contributions. */
static void build_add(struct grad_net *g)
{
    int c0 = front(g), c1, id;
    ck_assert_int_eq(sfr_net_conv2d(g->net, c0, 3, 3, 1, 1, 1, &c1), SFR_OK);
    ck_assert_int_eq(sfr_net_add(g->net, c0, c1, &id), SFR_OK);
}

/* Tap gradients entering in the middle, one of them on a layer with a consumer. */
static void build_taps(struct grad_net *g)
{
    int r, c, b, gap, fc;
    g->guard = front(g);
    ck_assert_int_eq(sfr_net_relu(g->net, g->guard, &r), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(g->net, r, 4, 3, 1, 1, 0, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(g->net, c, &b), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(g->net, b, &gap), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(g->net, gap, 3, &fc), SFR_OK);
    g->taps[0] = r;
    g->taps[1] = b;
    g->taps[2] = gap;
    g->n_taps = 3;
}

/* A small ResNet: stem, an identity block and a downsampling block, with
 * tap gradients on both block outputs. */
static void build_resnet(struct grad_net *g)
{
    int x, c, b, s0, s1, s2, gap, fc;
    ck_assert_int_eq(sfr_net_input(g->net, 2, 6, 6, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(g->net, x, 4, 3, 1, 1, 0, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(g->net, c, &b), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(g->net, b, &s0), SFR_OK);
    ck_assert_int_eq(sfr_ref_basic_block(g->net, s0, 4, 4, 1, &s1), SFR_OK);
    ck_assert_int_eq(sfr_ref_basic_block(g->net, s1, 4, 8, 2, &s2), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(g->net, s2, &gap), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(g->net, gap, 3, &fc), SFR_OK);
    g->taps[0] = s1;
    g->taps[1] = s2;
    g->n_taps = 2;
}

START_TEST(grad_conv) { check_gradients(build_conv, 2, 1, 1e-2, 1e-2); }
END_TEST
START_TEST(grad_conv_winograd) { check_gradients(build_conv_winograd, 2, 37, 1e-2, 1e-2); }
END_TEST
START_TEST(grad_conv_1x1_stride2) { check_gradients(build_conv_nobias_1x1, 2, 1, 1e-2, 1e-2); }
END_TEST
START_TEST(grad_batchnorm) { check_gradients(build_bn, 3, 1, 1e-2, 1e-2); }
END_TEST
START_TEST(grad_relu) { check_gradients(build_relu, 2, 1, 1e-3, 1e-2); }
END_TEST
START_TEST(grad_maxpool) { check_gradients(build_maxpool, 2, 1, 1e-3, 1e-2); }
END_TEST
START_TEST(grad_avgpool) { check_gradients(build_avgpool, 2, 1, 1e-2, 1e-2); }
END_TEST
START_TEST(grad_global_avgpool) { check_gradients(build_gap, 2, 1, 1e-2, 1e-2); }
END_TEST
START_TEST(grad_linear) { check_gradients(build_linear, 2, 1, 1e-2, 1e-2); }
END_TEST
START_TEST(grad_add_shared_input) { check_gradients(build_add, 2, 1, 1e-2, 1e-2); }
END_TEST
START_TEST(grad_tap_gradients_enter) { check_gradients(build_taps, 3, 1, 1e-3, 1e-2); }
END_TEST
START_TEST(grad_activations)
{
    /* Hard-swish and hard-sigmoid have kinks at +-3 only, out of these
     * inputs' reach (tests/test_net_layers.c checks them there against PyTorch). */
    for (activation_kind = SFR_ACT_SIGMOID; activation_kind <= SFR_ACT_GELU_TANH; activation_kind++)
        check_gradients(build_activation, 2, 1, 1e-2, 1e-2);
}
END_TEST
/* Squeeze-and-excitation: the front conv's map times sigmoid(linear(its
 * mean)), a product whose second factor is broadcast and whose two factors
 * share their source. */
static void build_squeeze_excite(struct grad_net *g)
{
    int x = front(g), s, id;
    ck_assert_int_eq(sfr_net_global_avgpool(g->net, x, &s), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(g->net, s, 3, &s), SFR_OK);
    ck_assert_int_eq(sfr_net_activation(g->net, s, SFR_ACT_SIGMOID, &s), SFR_OK);
    ck_assert_int_eq(sfr_net_mul(g->net, x, s, &id), SFR_OK);
}

START_TEST(grad_squeeze_excite) { check_gradients(build_squeeze_excite, 2, 1, 1e-2, 1e-2); }
END_TEST
/* The front conv's channels beside their SiLU, convolved again: both parts
 * of the concatenation's gradient reach the same source. */
static void build_concat(struct grad_net *g)
{
    int x = front(g), a, cat, id;
    ck_assert_int_eq(sfr_net_activation(g->net, x, SFR_ACT_SILU, &a), SFR_OK);
    ck_assert_int_eq(sfr_net_concat(g->net, x, a, &cat), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(g->net, cat, 4, 3, 1, 1, 1, &id), SFR_OK);
}

START_TEST(grad_concat) { check_gradients(build_concat, 2, 1, 1e-2, 1e-2); }
END_TEST
/* Dropout's gradient routing (its mask is random, so p = 0 here; the mask
 * is checked in tests/test_net_layers.c): its input has another consumer
 * after it, so its gradient is summed through the accumulation buffer. */
static void build_dropout_shared(struct grad_net *g)
{
    int x = front(g), d, c, id;
    ck_assert_int_eq(sfr_net_dropout(g->net, x, 0.0, &d), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(g->net, d, 3, 1, 1, 0, 1, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_mul(g->net, c, x, &id), SFR_OK);
}

START_TEST(grad_dropout_shared_input) { check_gradients(build_dropout_shared, 2, 1, 1e-2, 1e-2); }
END_TEST
/* General convolutions after the front conv (so their input gradient is
 * checked too): depthwise 3x3 with a bias, then 2 x 3 dilated (1, 2),
 * stride (2, 1), padding only on the left and at the bottom. */
static void build_general_conv(struct grad_net *g)
{
    int id;
    sfr_conv_params p = SFR_CONV_PARAMS_INIT;
    p.kernel_h = p.kernel_w = 3;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
    p.groups = 3;
    p.bias = 1;
    ck_assert_int_eq(sfr_net_conv(g->net, front(g), 3, &p, &id), SFR_OK);
    sfr_conv_params q = SFR_CONV_PARAMS_INIT;
    q.kernel_h = 2;
    q.kernel_w = 3;
    q.dilation_w = 2;
    q.pad_left = 2;
    q.pad_bottom = 1;
    q.stride_h = 2;
    ck_assert_int_eq(sfr_net_conv(g->net, id, 4, &q, &id), SFR_OK);
}

START_TEST(grad_general_conv) { check_gradients(build_general_conv, 2, 1, 1e-2, 1e-2); }
END_TEST
START_TEST(grad_small_resnet) { check_gradients(build_resnet, 4, 3, 1e-3, 2e-2); }
END_TEST

Suite *net_grad_suite(void)
{
    Suite *s = suite_create("net_grad");
    TCase *tc = tcase_create("finite_differences");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, grad_conv);
    tcase_add_test(tc, grad_conv_winograd);
    tcase_add_test(tc, grad_conv_1x1_stride2);
    tcase_add_test(tc, grad_general_conv);
    tcase_add_test(tc, grad_batchnorm);
    tcase_add_test(tc, grad_relu);
    tcase_add_test(tc, grad_activations);
    tcase_add_test(tc, grad_squeeze_excite);
    tcase_add_test(tc, grad_concat);
    tcase_add_test(tc, grad_dropout_shared_input);
    tcase_add_test(tc, grad_maxpool);
    tcase_add_test(tc, grad_avgpool);
    tcase_add_test(tc, grad_global_avgpool);
    tcase_add_test(tc, grad_linear);
    tcase_add_test(tc, grad_add_shared_input);
    tcase_add_test(tc, grad_tap_gradients_enter);
    tcase_add_test(tc, grad_small_resnet);
    suite_add_tcase(s, tc);
    return s;
}
