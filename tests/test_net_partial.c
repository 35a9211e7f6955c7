/*
 * Partial batches (sfr_net_forward_batch): a net compiled for 8 run on 5
 * samples gives, bit for bit, what a net compiled for 5 gives (logits, taps,
 * the regularizer's loss and tap gradients, parameter gradients, running
 * statistics), on fmnist-resnet and on fmnist-mobilenet (dropout, SE,
 * depthwise); the host's pointers stay; switching back and forth keeps the
 * full batch right; bad sizes change nothing.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reference_nets.h"
#include "sfr/sfr.h"

enum { FULL = 8, PART = 5, SIDE = 28, K = 10, SAMPLE = SIDE * SIDE };

struct side {
    sfr_net *net;
    sfr_tap *student, *teacher;
    sfr_reg *reg;
};

/* net compiled for batch, taps on a shallow stage and stage 4, a
 * regularizer with one EMD pair between them; mobilenet (stage 1: 16
 * channels divide 256) or fmnist-resnet (stage 2). */
static void make_side(struct side *s, int mobilenet, int64_t batch)
{
    int stages[SFR_REF_STAGES];
    ck_assert_int_eq(sfr_net_create(&s->net), SFR_OK);
    if (mobilenet)
        ck_assert_int_eq(sfr_ref_fmnist_mobilenet(s->net, 0.2, stages), SFR_OK);
    else
        ck_assert_int_eq(sfr_ref_fmnist_resnet(s->net, stages), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(s->net, stages[mobilenet ? 1 : 2], &s->student), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(s->net, stages[4], &s->teacher), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(s->net, batch), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(s->net, 11), SFR_OK);
    ck_assert_int_eq(sfr_reg_create(&s->reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(s->reg, s->student, s->teacher, 0.5, NULL), SFR_OK);
}

static void free_side(struct side *s)
{
    sfr_reg_destroy(s->reg);
    sfr_net_destroy(s->net);
}

static float *images(int n, double phase)
{
    float *x = malloc((size_t)n * SAMPLE * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int i = 0; i < n * SAMPLE; i++)
        x[i] = (float)sin(0.011 * i + phase);
    return x;
}

static void assert_same(const float *a, const float *b, int64_t n, const char *what)
{
    ck_assert_msg(memcmp(a, b, (size_t)n * sizeof *a) == 0, "%s differs", what);
}

static int64_t numel(const int64_t d[4])
{
    return d[0] * d[1] * d[2] * d[3];
}

/* One training step's observables of a side: what the other must match. */
static void step(struct side *s, const float *x, int64_t n, int partial, const int32_t *labels,
                 float *dlogits, double *loss)
{
    if (partial)
        ck_assert_int_eq(sfr_net_forward_batch(s->net, x, n, 1), SFR_OK);
    else
        ck_assert_int_eq(sfr_net_forward(s->net, x, 1), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute_net(s->reg, s->net, labels, dlogits, loss), SFR_OK);
    ck_assert_int_eq(sfr_net_backward(s->net, dlogits), SFR_OK);
}

static void same_as_compiled_for_n(int mobilenet)
{
    struct side big, small;
    make_side(&big, mobilenet, FULL);
    make_side(&small, mobilenet, PART);
    float *x = images(FULL, 0.3);
    int32_t labels[FULL];
    for (int i = 0; i < FULL; i++)
        labels[i] = (i * 7) % K;
    float d_big[FULL * K], d_small[PART * K];
    double loss_big, loss_small;
    step(&big, x, PART, 1, labels, d_big, &loss_big);
    step(&small, x, PART, 0, labels, d_small, &loss_small);
    ck_assert(loss_big == loss_small);
    assert_same(d_big, d_small, PART * K, "dlogits");

    const float *lb, *ls;
    int64_t db[2], ds[2];
    ck_assert_int_eq(sfr_net_output(big.net, &lb, db), SFR_OK);
    ck_assert_int_eq(sfr_net_output(small.net, &ls, ds), SFR_OK);
    ck_assert_int_eq(db[0], PART);
    ck_assert_int_eq(db[1], K);
    assert_same(lb, ls, PART * K, "logits");
    sfr_tap *taps[2][2] = {{big.student, small.student}, {big.teacher, small.teacher}};
    for (int t = 0; t < 2; t++) {
        int64_t tb[4], ts[4];
        const float *vb, *vs;
        float *gb, *gs;
        ck_assert_int_eq(sfr_tap_dims(taps[t][0], tb), SFR_OK);
        ck_assert_int_eq(sfr_tap_dims(taps[t][1], ts), SFR_OK);
        ck_assert_int_eq(memcmp(tb, ts, sizeof tb), 0);
        ck_assert_int_eq(sfr_tap_data(taps[t][0], &vb), SFR_OK);
        ck_assert_int_eq(sfr_tap_data(taps[t][1], &vs), SFR_OK);
        assert_same(vb, vs, numel(tb), "tap data");
        ck_assert_int_eq(sfr_tap_grad(taps[t][0], &gb), SFR_OK);
        ck_assert_int_eq(sfr_tap_grad(taps[t][1], &gs), SFR_OK);
    }
    float *vb, *gb, *vs, *gs;
    int64_t cb, cs;
    ck_assert_int_eq(sfr_net_params(big.net, &vb, &gb, &cb), SFR_OK);
    ck_assert_int_eq(sfr_net_params(small.net, &vs, &gs, &cs), SFR_OK);
    ck_assert_int_eq(cb, cs);
    assert_same(gb, gs, cb, "parameter gradients");
    ck_assert_int_eq(sfr_net_buffers(big.net, &vb, &cb), SFR_OK);
    ck_assert_int_eq(sfr_net_buffers(small.net, &vs, &cs), SFR_OK);
    assert_same(vb, vs, cb, "running statistics");

    /* An eval forward on 5 of the net compiled for 8 too. */
    ck_assert_int_eq(sfr_net_forward_batch(big.net, x, PART, 0), SFR_OK);
    ck_assert_int_eq(sfr_net_forward(small.net, x, 0), SFR_OK);
    ck_assert_int_eq(sfr_net_output(big.net, &lb, db), SFR_OK);
    ck_assert_int_eq(sfr_net_output(small.net, &ls, ds), SFR_OK);
    assert_same(lb, ls, PART * K, "eval logits");
    free(x);
    free_side(&big);
    free_side(&small);
}

START_TEST(resnet_partial_batch_is_a_net_compiled_for_it)
{
    same_as_compiled_for_n(0);
}
END_TEST

START_TEST(mobilenet_partial_batch_is_a_net_compiled_for_it)
{
    same_as_compiled_for_n(1);
}
END_TEST

/* Full and partial batches of several sizes, in turn: the host's pointers
 * never move, the dims follow the batch, and the full batch's eval logits
 * come back the same. */
START_TEST(switching_batches_keeps_pointers_and_the_full_batch)
{
    struct side s;
    make_side(&s, 0, FULL);
    float *x = images(FULL, 1.1);
    const float *first, *logits, *data0, *data;
    float *grad0, *grad;
    int64_t dims[2], tdims[4];
    ck_assert_int_eq(sfr_net_forward(s.net, x, 0), SFR_OK);
    ck_assert_int_eq(sfr_net_output(s.net, &first, dims), SFR_OK);
    float reference[FULL * K];
    memcpy(reference, first, sizeof reference);
    ck_assert_int_eq(sfr_tap_data(s.student, &data0), SFR_OK);
    ck_assert_int_eq(sfr_tap_grad(s.student, &grad0), SFR_OK);
    /* Three sizes are kept beside the live one: 2, 5 and 3 each drop the
     * oldest kept partial compile. */
    const int64_t sizes[] = {PART, PART, 3, FULL, 1, FULL, 2, PART, 3, 1, FULL, 3};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        ck_assert_int_eq(sfr_net_forward_batch(s.net, x, sizes[k], 0), SFR_OK);
        ck_assert_int_eq(sfr_net_output(s.net, &logits, dims), SFR_OK);
        ck_assert_ptr_eq(logits, first);
        ck_assert_int_eq(dims[0], sizes[k]);
        ck_assert_int_eq(sfr_tap_dims(s.student, tdims), SFR_OK);
        ck_assert_int_eq(tdims[0], sizes[k]);
        ck_assert_int_eq(sfr_tap_data(s.student, &data), SFR_OK);
        ck_assert_int_eq(sfr_tap_grad(s.student, &grad), SFR_OK);
        ck_assert_ptr_eq(data, data0);
        ck_assert_ptr_eq(grad, grad0);
        /* Eval is per sample: the first samples' logits are the full batch's. */
        for (int64_t i = 0; i < sizes[k] * K; i++)
            ck_assert_float_eq_tol(logits[i], reference[i], 1e-5f * (1.0f + fabsf(reference[i])));
    }
    ck_assert_int_eq(sfr_net_forward(s.net, x, 0), SFR_OK);
    ck_assert_int_eq(sfr_net_output(s.net, &logits, dims), SFR_OK);
    assert_same(logits, reference, FULL * K, "full batch after partial ones");
    free(x);
    free_side(&s);
}
END_TEST

/* A tap asked for while a partial plan exists: the plan is made again with it. */
START_TEST(a_late_tap_reaches_the_partial_batch)
{
    struct side s;
    make_side(&s, 0, FULL);
    float *x = images(FULL, 2.0);
    ck_assert_int_eq(sfr_net_forward_batch(s.net, x, PART, 1), SFR_OK);
    int stem;
    ck_assert_int_eq(sfr_net_find_layer(s.net, "layer1", &stem), SFR_OK);
    sfr_tap *late;
    ck_assert_int_eq(sfr_net_tap(s.net, stem, &late), SFR_OK);
    /* The partial forward's output went with its plan: nothing stale to read. */
    const float *stale;
    ck_assert_int_eq(sfr_tap_data(late, &stale), SFR_ERR_STATE);
    ck_assert_int_eq(sfr_net_forward_batch(s.net, x, PART, 1), SFR_OK);
    int64_t d[4];
    const float *v;
    ck_assert_int_eq(sfr_tap_dims(late, d), SFR_OK);
    ck_assert_int_eq(d[0], PART);
    ck_assert_int_eq(sfr_tap_data(late, &v), SFR_OK);
    /* The stem is a convolution of the input: not all zero, all finite. */
    double sum = 0;
    for (int64_t i = 0; i < numel(d); i++) {
        ck_assert(isfinite(v[i]));
        sum += fabs(v[i]);
    }
    ck_assert(sum > 0);
    float dl[PART * K] = {0};
    dl[3] = 1;
    ck_assert_int_eq(sfr_net_backward(s.net, dl), SFR_OK);
    free(x);
    free_side(&s);
}
END_TEST

START_TEST(bad_batches_change_nothing)
{
    struct side s;
    make_side(&s, 0, FULL);
    float *x = images(FULL, 0.7);
    ck_assert_int_eq(sfr_net_forward_batch(s.net, x, 3, 0), SFR_OK);
    const float *logits;
    int64_t dims[2];
    ck_assert_int_eq(sfr_net_output(s.net, &logits, dims), SFR_OK);
    float held[3 * K];
    memcpy(held, logits, sizeof held);

    ck_assert_int_eq(sfr_net_forward_batch(s.net, x, 0, 0), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_forward_batch: batch 0 must be >= 1");
    ck_assert_int_eq(sfr_net_forward_batch(s.net, x, -2, 1), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_forward_batch(s.net, x, FULL + 1, 0), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_net_forward_batch: batch 9 is larger than the compiled batch 8");
    ck_assert_int_eq(sfr_net_forward_batch(s.net, NULL, 2, 0), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_forward_batch: input is NULL");
    ck_assert_int_eq(sfr_net_forward_batch(NULL, x, 2, 0), SFR_ERR_INVALID_ARG);
    x[2 * SAMPLE + 5] = NAN; /* in sample 2 */
    ck_assert_int_eq(sfr_net_forward_batch(s.net, x, 4, 0), SFR_ERR_NONFINITE);
    ck_assert_int_eq(sfr_net_output(s.net, &logits, dims), SFR_OK);
    ck_assert_int_eq(dims[0], 3);
    assert_same(logits, held, 3 * K, "logits after refused forwards");
    /* Beyond the n samples read, a NaN does not matter. */
    ck_assert_int_eq(sfr_net_forward_batch(s.net, x, 2, 0), SFR_OK);
    free(x);
    free_side(&s);

    sfr_net *net;
    int id;
    const float two[2] = {1, 2};
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 1, 1, 1, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_forward_batch(net, two, 1, 0), SFR_ERR_STATE);
    ck_assert_str_eq(sfr_last_error(), "sfr_net_forward_batch: the net is not compiled");
    /* Training batch norm on one value per channel is refused for n too. */
    ck_assert_int_eq(sfr_net_batchnorm(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    ck_assert_int_eq(sfr_net_forward_batch(net, two, 2, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_forward_batch(net, two, 1, 1), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_net_forward_batch(net, two, 1, 0), SFR_OK);
    sfr_net_destroy(net);
}
END_TEST

Suite *net_partial_suite(void)
{
    Suite *s = suite_create("net_partial");
    TCase *tc = tcase_create("partial");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, resnet_partial_batch_is_a_net_compiled_for_it);
    tcase_add_test(tc, mobilenet_partial_batch_is_a_net_compiled_for_it);
    tcase_add_test(tc, switching_batches_keeps_pointers_and_the_full_batch);
    tcase_add_test(tc, a_late_tap_reaches_the_partial_batch);
    tcase_add_test(tc, bad_batches_change_nothing);
    suite_add_tcase(s, tc);
    return s;
}
