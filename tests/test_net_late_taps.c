/*
 * Taps asked for after compile, and after a forward, show what taps asked
 * for before compile show: the layer's output of the last forward, or
 * SFR_ERR_STATE when no forward has run since the net was (re)compiled,
 * never a buffer of zeros passed off as the output. Every layer kind is
 * tapped, in layouts of every kind (plain, nChw16c with the regularizer's
 * blocked view, padded blocks), with the outputs fusions hide (a ReLU in
 * its batch norm or residual add, in-place layers), and the gradients
 * written into late taps reach backward as those of early ones do.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "float_compare.h"
#include "sfr/sfr.h"
#include "tap/tap.h"

enum { N = 4, IN_C = 3, IN_HW = 12, K = 5, MAX_LAYERS = 16 };

static float input[N * IN_C * IN_HW * IN_HW]; // (N, C, H, W)

static void fill_input(void)
{
    for (size_t i = 0; i < sizeof input / sizeof input[0]; i++)
        input[i] = (float)sin(0.37 * (double)i) + 0.2f;
}

struct tapped {
    sfr_net *net;
    int n_layers;
    sfr_tap *taps[MAX_LAYERS]; /* NULL until asked for */
};

/* Every layer kind: conv (16 channels: nChw16c; 4: a padded block),
 * BN with its ReLU fused, maxpool, a residual add that runs in place with
 * its ReLU fused, average pooling with and without padding, global pooling
 * and linear. */
static struct tapped build(void)
{
    struct tapped t = {0};
    int id[MAX_LAYERS];
    ck_assert_int_eq(sfr_net_create(&t.net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(t.net, IN_C, IN_HW, IN_HW, &id[0]), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(t.net, id[0], 16, 3, 1, 1, 0, &id[1]), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(t.net, id[1], &id[2]), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(t.net, id[2], &id[3]), SFR_OK);
    ck_assert_int_eq(sfr_net_maxpool(t.net, id[3], 2, 2, 0, &id[4]), SFR_OK);       // 16 x 6 x 6
    ck_assert_int_eq(sfr_net_conv2d(t.net, id[4], 4, 3, 1, 1, 1, &id[5]), SFR_OK);  // 4 x 6 x 6
    ck_assert_int_eq(sfr_net_batchnorm(t.net, id[5], &id[6]), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(t.net, id[6], &id[7]), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(t.net, id[7], 16, 1, 1, 0, 0, &id[8]), SFR_OK);
    ck_assert_int_eq(sfr_net_add(t.net, id[8], id[4], &id[9]), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(t.net, id[9], &id[10]), SFR_OK);
    ck_assert_int_eq(sfr_net_avgpool(t.net, id[10], 3, 2, 1, &id[11]), SFR_OK);    // 16 x 3 x 3
    ck_assert_int_eq(sfr_net_avgpool(t.net, id[11], 2, 1, 0, &id[12]), SFR_OK);    // 16 x 2 x 2
    ck_assert_int_eq(sfr_net_global_avgpool(t.net, id[12], &id[13]), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(t.net, id[13], K, &id[14]), SFR_OK);
    t.n_layers = 15;
    for (int i = 0; i < t.n_layers; i++)
        ck_assert_int_eq(id[i], i);
    return t;
}

static void compile(struct tapped *t)
{
    ck_assert_int_eq(sfr_net_compile(t->net, N), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(t->net, 11), SFR_OK);
}

static void forward(struct tapped *t)
{
    ck_assert_int_eq(sfr_net_forward(t->net, input, 1), SFR_OK);
}

static int64_t numel(const sfr_tap *tap)
{
    int64_t d[4];
    ck_assert_int_eq(sfr_tap_dims(tap, d), SFR_OK);
    return d[0] * d[1] * d[2] * d[3];
}

/* Every layer tapped before compile, after one training forward: the
 * outputs every later comparison is made with. */
struct reference {
    struct tapped t;
    float *data[MAX_LAYERS];
};

static struct reference reference(void)
{
    struct reference r;
    r.t = build();
    for (int i = 0; i < r.t.n_layers; i++)
        ck_assert_int_eq(sfr_net_tap(r.t.net, i, &r.t.taps[i]), SFR_OK);
    compile(&r.t);
    forward(&r.t);
    int blocked = 0, padded = 0;
    for (int i = 0; i < r.t.n_layers; i++) {
        const float *d;
        ck_assert_int_eq(sfr_tap_data(r.t.taps[i], &d), SFR_OK);
        size_t bytes = (size_t)numel(r.t.taps[i]) * sizeof(float);
        r.data[i] = malloc(bytes);
        memcpy(r.data[i], d, bytes);
        blocked += r.t.taps[i]->blocked != NULL;
        padded += i == 5 && r.t.taps[i]->blocked == NULL;
    }
    /* Otherwise the layouts this test is about would not be tested. */
    ck_assert_int_gt(blocked, 0);
    ck_assert_int_gt(padded, 0);
    return r;
}

static void reference_free(struct reference *r)
{
    for (int i = 0; i < r->t.n_layers; i++)
        free(r->data[i]);
    sfr_net_destroy(r->t.net);
}

/* Every tap asked for so far shows the reference output, or SFR_ERR_STATE
 * (then the whole net has no forward output: backward is refused too);
 * returns whether they showed outputs. */
static int taps_show_outputs_or_refuse(struct tapped *t, const struct reference *r, int layer)
{
    int shown = -1;
    for (int i = 0; i < t->n_layers; i++) {
        if (t->taps[i] == NULL)
            continue;
        const float *d = (const float *)&shown;
        sfr_status st = sfr_tap_data(t->taps[i], &d);
        ck_assert_msg(st == SFR_OK || st == SFR_ERR_STATE, "layer %d: status %d", i, st);
        if (shown < 0)
            shown = st == SFR_OK;
        ck_assert_msg(shown == (st == SFR_OK), "after tapping layer %d, taps disagree", layer);
        if (st != SFR_OK) {
            ck_assert_ptr_eq(d, (const float *)&shown);   /* nothing written */
            continue;
        }
        ck_assert_int_eq(numel(t->taps[i]), numel(r->t.taps[i]));
        assert_floats_close(d, r->data[i], numel(t->taps[i]), 1e-5);
    }
    if (!shown) {
        const float *logits;
        int64_t od[2];
        ck_assert_int_eq(sfr_net_output(t->net, &logits, od), SFR_ERR_STATE);
        static const float dl[N * K];
        ck_assert_int_eq(sfr_net_backward(t->net, dl), SFR_ERR_STATE);
    }
    return shown;
}

/* (training forward, then) every layer tapped in turn, from the first or
 * from the last. */
static void tap_every_layer_late(int after_forward, int reverse)
{
    fill_input();
    struct reference r = reference();
    struct tapped t = build();
    compile(&t);
    if (after_forward)
        forward(&t);
    for (int k = 0; k < t.n_layers; k++) {
        int i = reverse ? t.n_layers - 1 - k : k;
        ck_assert_int_eq(sfr_net_tap(t.net, i, &t.taps[i]), SFR_OK);
        if (!taps_show_outputs_or_refuse(&t, &r, i)) {
            forward(&t);
            ck_assert(taps_show_outputs_or_refuse(&t, &r, i));
        }
    }
    sfr_net_destroy(t.net);
    reference_free(&r);
}

START_TEST(taps_asked_after_a_forward_show_its_output)
{
    tap_every_layer_late(1, 0);
    tap_every_layer_late(1, 1);
}
END_TEST

START_TEST(taps_asked_after_compile_show_the_next_forwards_output)
{
    tap_every_layer_late(0, 0);
}
END_TEST

/* The same gradient, written into every tap, gives the same parameter
 * gradients whether the taps were asked for before compile or late. */
static float *grads_with_tap_grads(struct tapped *t, int64_t *count)
{
    for (int i = 1; i < t->n_layers; i++) {
        float *g;
        ck_assert_int_eq(sfr_tap_grad(t->taps[i], &g), SFR_OK);
        for (int64_t j = 0; j < numel(t->taps[i]); j++)
            g[j] = 0.01f * (float)cos(0.7 * (double)(j + 13 * i));
    }
    static const float dl[N * K];
    ck_assert_int_eq(sfr_net_backward(t->net, dl), SFR_OK);
    float *grads;
    ck_assert_int_eq(sfr_net_params(t->net, NULL, &grads, count), SFR_OK);
    float *copy = malloc((size_t)*count * sizeof *copy);
    memcpy(copy, grads, (size_t)*count * sizeof *copy);
    return copy;
}

START_TEST(gradients_written_into_late_taps_reach_backward)
{
    fill_input();
    struct reference r = reference();
    struct tapped t = build();
    compile(&t);
    forward(&t);
    for (int i = 0; i < t.n_layers; i++)
        ck_assert_int_eq(sfr_net_tap(t.net, i, &t.taps[i]), SFR_OK);
    forward(&t);
    int64_t n_want, n_got;
    float *want = grads_with_tap_grads(&r.t, &n_want);
    float *got = grads_with_tap_grads(&t, &n_got);
    ck_assert_int_eq(n_got, n_want);
    assert_floats_close(got, want, n_got, 1e-4);
    free(want);
    free(got);
    sfr_net_destroy(t.net);
    reference_free(&r);
}
END_TEST

/* The regularizer refuses, as sfr_tap_data does, a net's tap that holds no
 * output: before the first forward, and after a tap recompiled the net. */
START_TEST(regularizer_refuses_taps_without_an_output)
{
    fill_input();
    struct tapped t = build();
    ck_assert_int_eq(sfr_net_tap(t.net, 4, &t.taps[4]), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(t.net, 5, &t.taps[5]), SFR_OK);
    compile(&t);
    sfr_reg *reg;
    double loss = -1;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(reg, t.taps[4], t.taps[5], 1.0, NULL), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_ERR_STATE);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_compute: pair 0: the student tap (layer 4) holds "
                                       "no output: no forward since its net was compiled");
    ck_assert_double_eq(loss, -1);
    forward(&t);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    /* The batch norm's output is fused away: its tap compiles again. */
    ck_assert_int_eq(sfr_net_tap(t.net, 2, &t.taps[2]), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_ERR_STATE);
    const float *d;
    ck_assert_int_eq(sfr_tap_data(t.taps[2], &d), SFR_ERR_STATE);
    ck_assert_str_eq(sfr_last_error(), "sfr_tap_data: the tap of layer 2 holds no output: "
                                       "no forward since its net was compiled");
    forward(&t);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    sfr_reg_destroy(reg);
    sfr_net_destroy(t.net);
}
END_TEST

Suite *net_late_taps_suite(void)
{
    Suite *s = suite_create("net_late_taps");
    TCase *tc = tcase_create("late_taps");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, taps_asked_after_a_forward_show_its_output);
    tcase_add_test(tc, taps_asked_after_compile_show_the_next_forwards_output);
    tcase_add_test(tc, gradients_written_into_late_taps_reach_backward);
    tcase_add_test(tc, regularizer_refuses_taps_without_an_output);
    suite_add_tcase(s, tc);
    return s;
}
