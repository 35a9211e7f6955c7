/*
 * Convolutions with 64 or more channels in and out, 3x3 and stride 1, run
 * oneDNN's Winograd algorithm (lib/net/compile_ops.c): its output must be
 * the convolution's, checked against a direct sum in double computed here,
 * and the profile must name the algorithm where the CPU has it (AVX-512).
 * Its gradients are checked by finite differences in test_net_grad.c.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile_capture.h"
#include "sfr/sfr.h"

enum { N = 4, IN_C = 3, C = 64, O = 64, H = 12, W = 11 };

static uint64_t rng = 99;

static float uniform(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2 - 1);
}

/*
 * input (IN_C x H x W) -> conv 3x3 (C, no bias), tapped -> conv 3x3, stride
 * 1, pad 1, bias: O x H x W. The first convolution gives the second a
 * blocked input (Winograd has no kernel for the plain layout, which oneDNN
 * keeps after a convolution of a plain input with many channels); *tap
 * gets the second convolution's input.
 */
static sfr_net *build(sfr_tap **tap)
{
    sfr_net *net;
    int x, mix, conv;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, IN_C, H, W, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, x, C, 3, 1, 1, 0, &mix), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, mix, O, 3, 1, 1, 1, &conv), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(net, mix, tap), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, N), SFR_OK);
    return net;
}

START_TEST(winograd_conv_output_is_the_direct_sum)
{
    sfr_tap *tap;
    sfr_net *net = build(&tap);
    float *p, *g;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, &p, &g, &np), SFR_OK);
    ck_assert_int_eq(np, (int64_t)C * IN_C * 9 + (int64_t)O * C * 9 + O);
    for (int64_t i = 0; i < np; i++)
        p[i] = uniform();
    const float *wt = p + (int64_t)C * IN_C * 9, *bias = wt + (int64_t)O * C * 9;   // OIHW, then O
    static float in[N * IN_C * H * W];
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        in[i] = uniform();
    ck_assert_int_eq(sfr_net_forward(net, in, 1), SFR_OK);
    const float *x;
    ck_assert_int_eq(sfr_tap_data(tap, &x), SFR_OK);
    const float *out;
    int64_t od[2];
    ck_assert_int_eq(sfr_net_output(net, &out, od), SFR_OK);
    ck_assert_int_eq(od[1], (int64_t)O * H * W);
    double worst = 0, largest = 0;
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++)
            for (int y = 0; y < H; y++)
                for (int xx = 0; xx < W; xx++) {
                    double sum = bias[o];
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < 3; ky++)
                            for (int kx = 0; kx < 3; kx++) {
                                int iy = y + ky - 1, ix = xx + kx - 1;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                sum += (double)wt[((o * C + c) * 3 + ky) * 3 + kx] *
                                       x[((n * C + c) * H + iy) * W + ix];
                            }
                    double got = out[((n * O + o) * H + y) * W + xx];
                    worst = fmax(worst, fabs(got - sum));
                    largest = fmax(largest, fabs(sum));
                }
    ck_assert(largest > 1);
    /* Winograd's transforms round differently from a direct sum: about 1e-6
     * of the output's scale here; 1e-4 still catches any wrong term. */
    ck_assert_msg(worst <= 1e-4 * largest, "off by %g (largest output %g)", worst, largest);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(profile_names_winograd_where_the_cpu_has_it)
{
    char path[] = "/tmp/sfr_winograd_XXXXXX";
    profile_capture_start(path);
    sfr_tap *tap;
    sfr_net *net = build(&tap);
    static float x[N * IN_C * H * W], dout[N * O * H * W];
    dout[0] = 1;
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_backward(net, dout), SFR_OK);
    sfr_net_destroy(net);
    FILE *f = profile_capture_open(path);
    char line[256];
    int conv_rows = 0, winograd_rows = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        conv_rows += strstr(line, " conv ") != NULL;
        winograd_rows += strstr(line, " conv ") != NULL && strstr(line, " winograd ") != NULL;
    }
    fclose(f);
    unlink(path);
    ck_assert_int_eq(conv_rows, 2);
    /* oneDNN 2.6 implements Winograd for AVX-512 only; elsewhere the layer
     * falls back to the direct algorithm. */
    ck_assert_int_eq(winograd_rows, __builtin_cpu_supports("avx512f") ? 1 : 0);
}
END_TEST

Suite *net_winograd_suite(void)
{
    Suite *s = suite_create("net_winograd");
    TCase *tc = tcase_create("winograd");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, winograd_conv_output_is_the_direct_sum);
    tcase_add_test(tc, profile_names_winograd_where_the_cpu_has_it);
    suite_add_tcase(s, tc);
    return s;
}
