/*
 * Gradient accumulation: sfr_net_backward_accumulate adds exactly what
 * sfr_net_backward would write (tap gradients included), sfr_net_zero_grads
 * clears, errors leave the accumulated gradients as they were, and later
 * calls allocate nothing.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "sfr/sfr.h"

enum { B = 4, C_IN = 3, SIDE = 6, K = 5, IN = B * C_IN * SIDE * SIDE };

struct fixture {
    sfr_net *net;
    sfr_tap *tap; /* on the BN layer's output: its gradient enters backward */
    float *values, *grads;
    int64_t count;
    float x[2][IN], d[2][B * K];
};

/* input - conv 8 (bias) - BN - ReLU - conv 8 stride 2 - GAP - linear K. */
static void setup(struct fixture *f)
{
    int id, bn;
    ck_assert_int_eq(sfr_net_create(&f->net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(f->net, C_IN, SIDE, SIDE, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(f->net, id, 8, 3, 1, 1, 1, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(f->net, id, &bn), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(f->net, bn, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(f->net, id, 8, 3, 2, 1, 0, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(f->net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(f->net, id, K, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(f->net, bn, &f->tap), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(f->net, B), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(f->net, 3), SFR_OK);
    ck_assert_int_eq(sfr_net_params(f->net, &f->values, &f->grads, &f->count), SFR_OK);
    for (int m = 0; m < 2; m++) {
        for (int i = 0; i < IN; i++)
            f->x[m][i] = (float)sin(0.37 * i + 1.9 * m);
        for (int i = 0; i < B * K; i++)
            f->d[m][i] = (float)cos(0.61 * i + 0.7 * m) / B;
    }
}

/* A training forward of micro-batch m, with a tap gradient that depends on m. */
static void forward(struct fixture *f, int m)
{
    ck_assert_int_eq(sfr_net_forward(f->net, f->x[m], 1), SFR_OK);
    float *g;
    int64_t dims[4];
    ck_assert_int_eq(sfr_tap_grad(f->tap, &g), SFR_OK);
    ck_assert_int_eq(sfr_tap_dims(f->tap, dims), SFR_OK);
    for (int64_t i = 0; i < dims[0] * dims[1] * dims[2] * dims[3]; i++)
        g[i] = (float)(0.01 * sin(0.13 * (double)i + m));
}

static float *copy_grads(const struct fixture *f)
{
    float *c = malloc((size_t)f->count * sizeof *c);
    ck_assert_ptr_nonnull(c);
    memcpy(c, f->grads, (size_t)f->count * sizeof *c);
    return c;
}

START_TEST(accumulated_gradients_are_the_sum_of_plain_backwards)
{
    struct fixture f;
    setup(&f);
    float *g[2];
    for (int m = 0; m < 2; m++) {
        forward(&f, m);
        ck_assert_int_eq(sfr_net_backward(f.net, f.d[m]), SFR_OK);
        g[m] = copy_grads(&f);
    }
    ck_assert_int_eq(sfr_net_zero_grads(f.net), SFR_OK);
    for (int64_t i = 0; i < f.count; i++)
        ck_assert(f.grads[i] == 0.0f);
    /* Zeroed, one accumulating backward equals the plain one bit for bit. */
    forward(&f, 0);
    ck_assert_int_eq(sfr_net_backward_accumulate(f.net, f.d[0]), SFR_OK);
    ck_assert_int_eq(memcmp(f.grads, g[0], (size_t)f.count * sizeof(float)), 0);
    forward(&f, 1);
    ck_assert_int_eq(sfr_net_backward_accumulate(f.net, f.d[1]), SFR_OK);
    int nonzero = 0;
    for (int64_t i = 0; i < f.count; i++) {
        ck_assert_msg(f.grads[i] == g[0][i] + g[1][i], "gradient %lld: %g, want %g + %g",
                      (long long)i, (double)f.grads[i], (double)g[0][i], (double)g[1][i]);
        nonzero += g[1][i] != 0.0f;
    }
    ck_assert_int_gt(nonzero, f.count / 2);
    /* A plain backward overwrites again. */
    forward(&f, 1);
    ck_assert_int_eq(sfr_net_backward(f.net, f.d[1]), SFR_OK);
    ck_assert_int_eq(memcmp(f.grads, g[1], (size_t)f.count * sizeof(float)), 0);
    free(g[0]);
    free(g[1]);
    sfr_net_destroy(f.net);
}
END_TEST

/* The loop docs/integration.md quotes, as a host writes it. */
#define CHECK(call) ck_assert_int_eq((call), SFR_OK)
enum { MICRO = 2, BATCH = B, CLASSES = K };

static void train_on_micro_batches(sfr_net *net, sfr_reg *reg, sfr_sgd *opt,
                                   float images[MICRO][IN], int32_t labels[MICRO][B])
{
    float dlogits[BATCH * CLASSES];
    double loss;
    CHECK(sfr_net_zero_grads(net));
    for (int m = 0; m < MICRO; m++) {
        CHECK(sfr_net_forward(net, images[m], 1));
        CHECK(sfr_reg_compute_net(reg, net, labels[m], dlogits, &loss));
        for (int i = 0; i < BATCH * CLASSES; i++)
            dlogits[i] /= MICRO;                      /* the mean over the micro-batches */
        CHECK(sfr_net_backward_accumulate(net, dlogits));
    }
    CHECK(sfr_sgd_step(opt, net));
}

START_TEST(micro_batches_as_the_guide_shows)
{
    struct fixture f;
    setup(&f);
    int32_t labels[MICRO][B];
    for (int m = 0; m < MICRO; m++)
        for (int n = 0; n < B; n++)
            labels[m][n] = (n + m) % K;
    sfr_reg *reg;
    sfr_sgd *opt;
    CHECK(sfr_reg_create(&reg));
    CHECK(sfr_sgd_create(&opt, 1e-3, 0.0, 0.0, 0));
    /* The expected sum: each micro-batch's plain backward of the same
     * scaled dlogits, added in the order the accumulation adds them. */
    float *sum = calloc((size_t)f.count, sizeof *sum), dlogits[B * K];
    ck_assert_ptr_nonnull(sum);
    double loss;
    for (int m = 0; m < MICRO; m++) {
        CHECK(sfr_net_forward(f.net, f.x[m], 1));
        CHECK(sfr_reg_compute_net(reg, f.net, labels[m], dlogits, &loss));
        for (int i = 0; i < B * K; i++)
            dlogits[i] /= MICRO;
        CHECK(sfr_net_backward(f.net, dlogits));
        for (int64_t i = 0; i < f.count; i++)
            sum[i] = f.grads[i] + sum[i];
    }
    float *before = malloc((size_t)f.count * sizeof *before);
    ck_assert_ptr_nonnull(before);
    memcpy(before, f.values, (size_t)f.count * sizeof *before);
    train_on_micro_batches(f.net, reg, opt, f.x, labels);
    for (int64_t i = 0; i < f.count; i++) {
        ck_assert_msg(f.grads[i] == sum[i], "gradient %lld: %g, want %g", (long long)i,
                      (double)f.grads[i], (double)sum[i]);
        ck_assert(f.values[i] == before[i] - 1e-3f * sum[i]);
    }
    free(sum);
    free(before);
    sfr_sgd_destroy(opt);
    sfr_reg_destroy(reg);
    sfr_net_destroy(f.net);
}
END_TEST

START_TEST(only_the_first_accumulation_allocates)
{
    struct fixture f;
    setup(&f);
    forward(&f, 0);
    ck_assert_int_eq(sfr_net_backward_accumulate(f.net, f.d[0]), SFR_OK);
    size_t before = sfri_alloc_count();
    for (int m = 0; m < 2; m++) {
        forward(&f, m);
        ck_assert_int_eq(sfr_net_backward_accumulate(f.net, f.d[m]), SFR_OK);
        ck_assert_int_eq(sfr_net_zero_grads(f.net), SFR_OK);
    }
    ck_assert_uint_eq(sfri_alloc_count(), before);
    sfr_net_destroy(f.net);
}
END_TEST

START_TEST(errors_keep_the_accumulated_gradients)
{
    struct fixture f;
    setup(&f);
    forward(&f, 0);
    ck_assert_int_eq(sfr_net_backward_accumulate(f.net, f.d[0]), SFR_OK);
    float *held = copy_grads(&f);
    ck_assert_int_eq(sfr_net_backward_accumulate(f.net, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_backward_accumulate: dlogits is NULL");
    float bad[B * K];
    memcpy(bad, f.d[1], sizeof bad);
    bad[7] = NAN;
    ck_assert_int_eq(sfr_net_backward_accumulate(f.net, bad), SFR_ERR_NONFINITE);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_backward_accumulate: dlogits[7] is not finite");
    ck_assert_int_eq(memcmp(f.grads, held, (size_t)f.count * sizeof(float)), 0);
    /* After an eval forward there is nothing to back-propagate. */
    ck_assert_int_eq(sfr_net_forward(f.net, f.x[1], 0), SFR_OK);
    ck_assert_int_eq(sfr_net_backward_accumulate(f.net, f.d[1]), SFR_ERR_STATE);
    ck_assert_int_eq(memcmp(f.grads, held, (size_t)f.count * sizeof(float)), 0);
    free(held);
    sfr_net_destroy(f.net);
}
END_TEST

START_TEST(handles_are_checked)
{
    uint32_t dead = SFRI_MAGIC_DEAD, reg_word = SFRI_MAGIC_REG;
    float d[1] = {0};
    ck_assert_int_eq(sfr_net_backward_accumulate(NULL, d), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_backward_accumulate: net is NULL");
    ck_assert_int_eq(sfr_net_backward_accumulate((sfr_net *)&dead, d), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_net_zero_grads(NULL), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_zero_grads: net is NULL");
    ck_assert_int_eq(sfr_net_zero_grads((sfr_net *)&reg_word), SFR_ERR_MISUSE);
    /* A net with no parameters, or no layers, has nothing to zero. */
    sfr_net *net;
    int id;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_zero_grads(net), SFR_OK);
    ck_assert_int_eq(sfr_net_backward_accumulate(net, d), SFR_ERR_STATE);
    ck_assert_int_eq(sfr_net_input(net, 1, 2, 2, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 1), SFR_OK);
    const float x[4] = {1, 2, 3, 4};
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_backward_accumulate(net, d), SFR_OK);
    ck_assert_int_eq(sfr_net_zero_grads(net), SFR_OK);
    sfr_net_destroy(net);
}
END_TEST

Suite *net_accumulate_suite(void)
{
    Suite *s = suite_create("net_accumulate");
    TCase *tc = tcase_create("accumulate");
    tcase_add_test(tc, accumulated_gradients_are_the_sum_of_plain_backwards);
    tcase_add_test(tc, micro_batches_as_the_guide_shows);
    tcase_add_test(tc, only_the_first_accumulation_allocates);
    tcase_add_test(tc, errors_keep_the_accumulated_gradients);
    tcase_add_test(tc, handles_are_checked);
    suite_add_tcase(s, tc);
    return s;
}
