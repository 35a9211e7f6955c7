/* Pooling: output sizes round down, average pooling counts the padding. */
#include <check.h>

#include "sfr/sfr.h"

/* input 1 x h x w holding 0, 1, 2, ... -> one pooling layer, batch 1. */
static sfr_net *pool_net(int h, int w, int max, int kernel, int stride, int pad)
{
    sfr_net *net;
    int x, p;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 1, h, w, &x), SFR_OK);
    if (max)
        ck_assert_int_eq(sfr_net_maxpool(net, x, kernel, stride, pad, &p), SFR_OK);
    else
        ck_assert_int_eq(sfr_net_avgpool(net, x, kernel, stride, pad, &p), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 1), SFR_OK);
    float in[64];
    for (int i = 0; i < h * w; i++)
        in[i] = (float)i;
    ck_assert_int_eq(sfr_net_forward(net, in, 0), SFR_OK);
    return net;
}

static void expect_output(sfr_net *net, const float *expect, int64_t n)
{
    const float *y;
    int64_t d[2];
    ck_assert_int_eq(sfr_net_output(net, &y, d), SFR_OK);
    ck_assert_int_eq(d[0], 1);
    ck_assert_int_eq(d[1], n);
    for (int64_t i = 0; i < n; i++)
        ck_assert_double_eq_tol(y[i], expect[i], 1e-5);
}

START_TEST(maxpool_values_and_rounding_down)
{
    /* 5 x 5, kernel 2, stride 2: (5 - 2) / 2 + 1 = 2, the last row and column dropped. */
    sfr_net *net = pool_net(5, 5, 1, 2, 2, 0);
    const float expect[4] = {6, 8, 16, 18};
    expect_output(net, expect, 4);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(avgpool_counts_padding)
{
    /* 4 x 4 holding 0..15, kernel 3, stride 2, pad 1: 2 x 2 windows, each
     * divided by 9 whatever part of it lies in the padding. */
    sfr_net *net = pool_net(4, 4, 0, 3, 2, 1);
    const float expect[4] = {(0 + 1 + 4 + 5) / 9.0f, (1 + 2 + 3 + 5 + 6 + 7) / 9.0f,
                             (4 + 5 + 8 + 9 + 12 + 13) / 9.0f,
                             (5 + 6 + 7 + 9 + 10 + 11 + 13 + 14 + 15) / 9.0f};
    expect_output(net, expect, 4);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(maxpool_padding_is_never_the_maximum)
{
    /* 3 x 3 of -9..-1 (negative), kernel 3, stride 1, pad 1: 3 x 3, the
     * padding does not win over negative values. */
    sfr_net *net;
    int x, p;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 1, 3, 3, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_maxpool(net, x, 3, 1, 1, &p), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 1), SFR_OK);
    float in[9];
    for (int i = 0; i < 9; i++)
        in[i] = (float)(i - 9);
    ck_assert_int_eq(sfr_net_forward(net, in, 0), SFR_OK);
    const float expect[9] = {-5, -4, -4, -2, -1, -1, -2, -1, -1};
    expect_output(net, expect, 9);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(global_avgpool_and_linear_taps_are_n_c_1_1)
{
    sfr_net *net;
    int x, g, fc;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 2, 3, 5, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, x, &g), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, g, 4, &fc), SFR_OK);
    sfr_tap *tg, *tf;
    ck_assert_int_eq(sfr_net_tap(net, g, &tg), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(net, fc, &tf), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    float in[2 * 2 * 15];
    for (int i = 0; i < 60; i++)
        in[i] = (float)i;
    ck_assert_int_eq(sfr_net_forward(net, in, 0), SFR_OK);
    int64_t d[4];
    ck_assert_int_eq(sfr_tap_dims(tg, d), SFR_OK);
    ck_assert(d[0] == 2 && d[1] == 2 && d[2] == 1 && d[3] == 1);
    ck_assert_int_eq(sfr_tap_dims(tf, d), SFR_OK);
    ck_assert(d[0] == 2 && d[1] == 4 && d[2] == 1 && d[3] == 1);
    const float *gd;
    ck_assert_int_eq(sfr_tap_data(tg, &gd), SFR_OK);
    for (int i = 0; i < 4; i++) /* the mean of 15 consecutive values */
        ck_assert_double_eq_tol(gd[i], 15 * i + 7, 1e-4);
    sfr_net_destroy(net);
}
END_TEST

Suite *net_pool_suite(void)
{
    Suite *s = suite_create("net_pool");
    TCase *tc = tcase_create("pooling");
    tcase_add_test(tc, maxpool_values_and_rounding_down);
    tcase_add_test(tc, avgpool_counts_padding);
    tcase_add_test(tc, maxpool_padding_is_never_the_maximum);
    tcase_add_test(tc, global_avgpool_and_linear_taps_are_n_c_1_1);
    suite_add_tcase(s, tc);
    return s;
}
