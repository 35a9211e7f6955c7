/*
 * Checkpoints written by earlier releases load. tests/fixtures/net-0.1.0.ckpt
 * was written by libsfr 0.1.0 (the commit before "version 0.2.0", built
 * with its own Makefile) from the net below: compile(2), init_params(42),
 * one training forward and one eval forward on x[i] = sin(0.05 i), then
 * sfr_net_save. The logits below are what 0.1.0 printed for that eval
 * forward (%.9g).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfr/sfr.h"

static const float logits_0_1_0[10] = {
    0.601664007f,  -0.1660707f,  0.742984176f, -0.290167779f, 0.254263669f,
    0.44424054f,   -0.059163481f, 0.302265644f, -0.119913526f, 0.496382296f,
};

enum { IN = 2 * 3 * 8 * 8 };

static sfr_net *build(void)
{
    sfr_net *net;
    int id;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 3, 8, 8, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, id, 4, 3, 1, 1, 1, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_maxpool(net, id, 2, 2, 0, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, id, 5, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    return net;
}

START_TEST(a_0_1_0_checkpoint_loads_and_gives_its_logits)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/net-0.1.0.ckpt", SFR_SOURCE_DIR);
    sfr_net *net = build(), *fresh = build();
    ck_assert_int_eq(sfr_net_load(net, path), SFR_OK);
    /* The parameters are init_params(42): the flat layout has not changed. */
    ck_assert_int_eq(sfr_net_init_params(fresh, 42), SFR_OK);
    float *v, *g, *fv, *fg;
    int64_t n, fn;
    ck_assert_int_eq(sfr_net_params(net, &v, &g, &n), SFR_OK);
    ck_assert_int_eq(sfr_net_params(fresh, &fv, &fg, &fn), SFR_OK);
    ck_assert_int_eq(n, fn);
    ck_assert_int_eq(memcmp(v, fv, (size_t)n * sizeof *v), 0);
    /* The running statistics are the training forward's, not the defaults. */
    float *stats;
    int64_t count;
    ck_assert_int_eq(sfr_net_buffers(net, &stats, &count), SFR_OK);
    ck_assert_int_eq(count, 8);
    ck_assert(stats[0] != 0.0f && stats[4] != 1.0f);
    float x[IN];
    for (int i = 0; i < IN; i++)
        x[i] = (float)sin(0.05 * i);
    ck_assert_int_eq(sfr_net_forward(net, x, 0), SFR_OK);
    const float *logits;
    int64_t dims[2];
    ck_assert_int_eq(sfr_net_output(net, &logits, dims), SFR_OK);
    for (int i = 0; i < 10; i++)
        ck_assert_float_eq_tol(logits[i], logits_0_1_0[i], 1e-5f);
    sfr_net_destroy(net);
    sfr_net_destroy(fresh);
}
END_TEST

Suite *net_compat_suite(void)
{
    Suite *s = suite_create("net_compat");
    TCase *tc = tcase_create("compat");
    tcase_add_test(tc, a_0_1_0_checkpoint_loads_and_gives_its_logits);
    suite_add_tcase(s, tc);
    return s;
}
