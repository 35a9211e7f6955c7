/*
 * A residual add that overwrites its input 0 shares its gradient buffer
 * with its input 1 where the order of backward allows it (plan_diff_sharing
 * in lib/net/compile.c): the add's copy to input 1 goes. Checked here: the
 * sharing happens on both kinds of residual block (identity shortcut, input
 * 1 below input 0; projection shortcut, above it), the gradients equal
 * those of the same net with taps on every add input (which rule sharing
 * out), and a tap asked for after compile on a sharing layer recompiles the
 * net without sharing and keeps the gradients right. Finite differences
 * through both blocks are in test_net_grad.c (grad_small_resnet).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "float_compare.h"
#include "net/net_impl.h"
#include "reference_nets.h"
#include "sfr/sfr.h"

enum { N = 4, IN_C = 3, HW = 8, K = 5 };

struct block_net {
    sfr_net *net;
    int adds[2];   /* the two residual adds */
};

static float input[N * IN_C * HW * HW], dlogits[N * K];

/* input -> conv 16 -> BN -> ReLU -> block(16 -> 16) -> block(16 -> 32, /2)
 * -> global pool -> linear; with_taps taps both inputs of both adds. */
static struct block_net build(int with_taps)
{
    struct block_net b;
    int x, c, bn, s0, s1, s2, gap, fc, found = 0;
    ck_assert_int_eq(sfr_net_create(&b.net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(b.net, IN_C, HW, HW, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(b.net, x, 16, 3, 1, 1, 0, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(b.net, c, &bn), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(b.net, bn, &s0), SFR_OK);
    ck_assert_int_eq(sfr_ref_basic_block(b.net, s0, 16, 16, 1, &s1), SFR_OK);
    ck_assert_int_eq(sfr_ref_basic_block(b.net, s1, 16, 32, 2, &s2), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(b.net, s2, &gap), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(b.net, gap, K, &fc), SFR_OK);
    for (int i = 0; i < b.net->n_layers; i++)
        if (b.net->layers[i]->kind == SFRI_LAYER_ADD)
            b.adds[found++] = i;
    ck_assert_int_eq(found, 2);
    for (int a = 0; a < 2 && with_taps; a++)
        for (int s = 0; s < 2; s++) {
            sfr_tap *t;
            ck_assert_int_eq(sfr_net_tap(b.net, b.net->layers[b.adds[a]]->in[s], &t), SFR_OK);
        }
    ck_assert_int_eq(sfr_net_compile(b.net, N), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(b.net, 11), SFR_OK);
    return b;
}

/* Whether input s of add a uses the add's gradient buffer. */
static int shares(const struct block_net *b, int a, int s)
{
    const struct sfri_layer *add = b->net->layers[b->adds[a]];
    return b->net->layers[add->in[s]]->diff == add->diff;
}

static float *gradients(sfr_net *net, int64_t *np)
{
    float *p, *g;
    ck_assert_int_eq(sfr_net_forward(net, input, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_backward(net, dlogits), SFR_OK);
    ck_assert_int_eq(sfr_net_params(net, &p, &g, np), SFR_OK);
    float *copy = malloc((size_t)*np * sizeof(float));
    memcpy(copy, g, (size_t)*np * sizeof(float));
    return copy;
}

static void fill(void)
{
    for (int i = 0; i < N * IN_C * HW * HW; i++)
        input[i] = (float)sin(0.37 * i) + 0.2f;
    for (int i = 0; i < N * K; i++)
        dlogits[i] = (float)cos(1.3 * i);
}

START_TEST(residual_inputs_share_the_add_gradient_and_keep_it_right)
{
    fill();
    struct block_net shared = build(0), apart = build(1);
    /* Identity block: input 1 (the stem) below input 0; projection block:
     * input 1 (the shortcut's batch norm) above it. */
    for (int a = 0; a < 2; a++) {
        ck_assert_int_lt(shared.net->layers[shared.adds[a]]->in[a == 0 ? 1 : 0],
                         shared.net->layers[shared.adds[a]]->in[a == 0 ? 0 : 1]);
        ck_assert(shares(&shared, a, 1));
        ck_assert(!shares(&apart, a, 1));
    }
    int64_t n1, n2;
    float *g1 = gradients(shared.net, &n1), *g2 = gradients(apart.net, &n2);
    ck_assert_int_eq(n1, n2);
    assert_floats_close(g1, g2, n1, 1e-6);
    free(g1);
    free(g2);
    sfr_net_destroy(shared.net);
    sfr_net_destroy(apart.net);
}
END_TEST

START_TEST(tap_after_compile_on_a_sharing_layer_recompiles)
{
    fill();
    struct block_net late = build(0), apart = build(1);
    int64_t n1, n2;
    float *before = gradients(late.net, &n1);
    /* The projection block's shortcut batch norm shares the add's buffer. */
    int shortcut = late.net->layers[late.adds[1]]->in[1];
    ck_assert(shares(&late, 1, 1));
    sfr_tap *t;
    ck_assert_int_eq(sfr_net_tap(late.net, shortcut, &t), SFR_OK);
    ck_assert(!shares(&late, 1, 1));
    ck_assert_int_eq(late.net->layers[shortcut]->diff_from, -1);
    float *after = gradients(late.net, &n1), *want = gradients(apart.net, &n2);
    assert_floats_close(after, want, n1, 1e-6);
    assert_floats_close(before, want, n1, 1e-6);
    free(before);
    free(after);
    free(want);
    sfr_net_destroy(late.net);
    sfr_net_destroy(apart.net);
}
END_TEST

Suite *net_shared_grad_suite(void)
{
    Suite *s = suite_create("net_shared_grad");
    TCase *tc = tcase_create("shared_grad");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, residual_inputs_share_the_add_gradient_and_keep_it_right);
    tcase_add_test(tc, tap_after_compile_on_a_sharing_layer_recompiles);
    suite_add_tcase(s, tc);
    return s;
}
