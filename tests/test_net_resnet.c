/* The reference networks end to end, and a small net that learns. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference_nets.h"
#include "sfr/sfr.h"

static void check_shape(sfr_tap *tap, int64_t n, int64_t c, int64_t h, int64_t w)
{
    int64_t d[4];
    ck_assert_int_eq(sfr_tap_dims(tap, d), SFR_OK);
    ck_assert_msg(d[0] == n && d[1] == c && d[2] == h && d[3] == w,
                  "tap is %lld x %lld x %lld x %lld, expected %lld x %lld x %lld x %lld",
                  (long long)d[0], (long long)d[1], (long long)d[2], (long long)d[3],
                  (long long)n, (long long)c, (long long)h, (long long)w);
}

/* Builds, compiles at batch 2, runs forward and backward with taps on
 * every stage; checks the logits' and taps' shapes. */
static sfr_net *run_reference(sfr_status (*build)(sfr_net *, int *), int c_in, int hw, int k,
                              const int widths[5], const int sizes[5])
{
    sfr_net *net;
    int stages[SFR_REF_STAGES];
    sfr_tap *taps[SFR_REF_STAGES];
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(build(net, stages), SFR_OK);
    for (int i = 0; i < SFR_REF_STAGES; i++)
        ck_assert_int_eq(sfr_net_tap(net, stages[i], &taps[i]), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, 2), SFR_OK);
    size_t n_in = (size_t)(2 * c_in * hw * hw);
    float *x = malloc(n_in * sizeof *x);
    for (size_t i = 0; i < n_in; i++)
        x[i] = (float)sin((double)i);
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    const float *logits;
    int64_t d[2];
    ck_assert_int_eq(sfr_net_output(net, &logits, d), SFR_OK);
    ck_assert_int_eq(d[0], 2);
    ck_assert_int_eq(d[1], k);
    for (int i = 0; i < SFR_REF_STAGES; i++)
        check_shape(taps[i], 2, widths[i], sizes[i], sizes[i]);
    for (int64_t i = 0; i < 2 * k; i++)
        ck_assert(isfinite(logits[i]));
    float *dl = calloc((size_t)(2 * k), sizeof *dl);
    dl[0] = 1;
    dl[k + 1] = -1;
    ck_assert_int_eq(sfr_net_backward(net, dl), SFR_OK);
    float *g;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, NULL, &g, &np), SFR_OK);
    double norm = 0;
    for (int64_t i = 0; i < np; i++)
        norm += (double)g[i] * g[i];
    ck_assert(isfinite(norm) && norm > 0);
    free(dl);
    free(x);
    return net;
}

static sfr_status fmnist_mobilenet(sfr_net *net, int *stages)
{
    return sfr_ref_fmnist_mobilenet(net, 0.2, stages);
}

START_TEST(fmnist_mobilenet_runs_with_the_documented_shapes)
{
    static const int widths[5] = {16, 16, 24, 40, 256}, sizes[5] = {28, 28, 14, 7, 7};
    sfr_net *net = run_reference(fmnist_mobilenet, 1, 28, 10, widths, sizes);
    /* Parameters counted by hand from docs/fmnist-mobilenet.md (conv, BN
     * gamma and beta, SE's two linear layers with biases):
     *   stem    144 + 32                                            176
     *   block1  dw 144 + 32, project 256 + 32                       464
     *   block2  1024 + 128, 576 + 128, 1536 + 48                   3440
     *   block3  1728 + 144, 648 + 144, 1728 + 48                   4440
     *   block4  2304 + 192, 864 + 192, SE 2328 + 2400, 3840 + 80  12200
     *   block5  4800 + 240, 1080 + 240, SE 3630 + 3720, 4800 + 80 18590
     *   block6  6400 + 320, 1440 + 320, SE 6440 + 6560, 10240 + 128 31848
     *   head    16384 + 512, classifier 2560 + 10                 19466 */
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, NULL, NULL, &np), SFR_OK);
    ck_assert_int_eq(np, 176 + 464 + 3440 + 4440 + 12200 + 18590 + 31848 + 19466);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(fmnist_resnet_runs_with_the_documented_shapes)
{
    static const int widths[5] = {16, 16, 32, 64, 128}, sizes[5] = {28, 28, 14, 7, 4};
    sfr_net *net = run_reference(sfr_ref_fmnist_resnet, 1, 28, 10, widths, sizes);

    /* Parameters counted by hand from NETWORKS.md:
     *   stem    conv 1*16*9 = 144, BN 2*16                        176
     *   stage1  2 * (16*16*9 + 2*16)                             4672
     *   stage2  16*32*9 + 32*32*9 + 16*32 + 3 * 2*32            14528
     *   stage3  32*64*9 + 64*64*9 + 32*64 + 3 * 2*64            57728
     *   stage4  64*128*9 + 128*128*9 + 64*128 + 3 * 2*128      230144
     *   head    128*10 + 10                                      1290 */
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, NULL, NULL, &np), SFR_OK);
    ck_assert_int_eq(np, 176 + 4672 + 14528 + 57728 + 230144 + 1290);
    int nt;
    ck_assert_int_eq(sfr_net_param_tensors(net, &nt), SFR_OK);
    ck_assert_int_eq(nt, 3 + 6 + 9 + 9 + 9 + 2);

    /* Order: conv weight, BN gamma, BN beta, ...; sizes in PyTorch's layout;
     * tensors packed one after the other. */
    const int64_t first_sizes[] = {144, 16, 16, 2304, 16, 16, 2304, 16, 16};
    int64_t expect_off = 0;
    for (int i = 0; i < nt; i++) {
        const char *name;
        int64_t off, size;
        ck_assert_int_eq(sfr_net_param_info(net, i, &name, &off, &size), SFR_OK);
        ck_assert_int_eq(off, expect_off);
        if (i < 9)
            ck_assert_int_eq(size, first_sizes[i]);
        expect_off += size;
    }
    ck_assert_int_eq(expect_off, np);
    const char *name;
    int64_t off, size;
    ck_assert_int_eq(sfr_net_param_info(net, 0, &name, &off, &size), SFR_OK);
    ck_assert_str_eq(name, "layer1.weight");
    ck_assert_int_eq(sfr_net_param_info(net, 1, &name, &off, &size), SFR_OK);
    ck_assert_str_eq(name, "layer2.weight");
    ck_assert_int_eq(sfr_net_param_info(net, 2, &name, &off, &size), SFR_OK);
    ck_assert_str_eq(name, "layer2.bias");
    ck_assert_int_eq(sfr_net_param_info(net, nt - 2, &name, &off, &size), SFR_OK);
    ck_assert_int_eq(size, 1280);
    ck_assert_int_eq(sfr_net_param_info(net, nt - 1, &name, &off, &size), SFR_OK);
    ck_assert_int_eq(size, 10);
    ck_assert_int_eq(off, np - 10);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(cifar_resnet18_runs_with_the_documented_shapes)
{
    static const int widths[5] = {64, 64, 128, 256, 512}, sizes[5] = {32, 32, 16, 8, 4};
    sfr_net *net = run_reference(sfr_ref_cifar_resnet18, 3, 32, 100, widths, sizes);
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, NULL, NULL, &np), SFR_OK);
    /* torchvision's resnet18 with a 3x3 stem, no maxpool and 100 classes. */
    ck_assert_int_eq(np, 11220132);
    int nt;
    ck_assert_int_eq(sfr_net_param_tensors(net, &nt), SFR_OK);
    ck_assert_int_eq(nt, 62);
    sfr_net_destroy(net);
}
END_TEST

/*
 * Two classes of 1 x 6 x 6 images, bright on the left or on the right, with
 * noise; conv - BN - ReLU - global pool - linear; plain p -= lr * g with
 * the softmax cross-entropy gradient computed here.
 */
START_TEST(training_lowers_the_loss)
{
    enum { B = 16, HW = 6, K = 2, STEPS = 60 };
    sfr_net *net;
    int x, c, b, r, g, fc;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 1, HW, HW, &x), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, x, 4, 3, 1, 1, 1, &c), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(net, c, &b), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(net, b, &r), SFR_OK);
    ck_assert_int_eq(sfr_net_global_avgpool(net, r, &g), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, g, K, &fc), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, 5), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, B), SFR_OK);

    float img[B * HW * HW], dl[B * K];
    int label[B];
    unsigned seed = 1;
    for (int n = 0; n < B; n++) {
        label[n] = n % 2;
        for (int i = 0; i < HW * HW; i++) {
            seed = seed * 1103515245u + 12345u;
            float noise = (float)((seed >> 16) & 0x7FFF) / 32768.0f - 0.5f;
            int left = i % HW < HW / 2;
            img[n * HW * HW + i] = (left == (label[n] == 0) ? 1.0f : 0.0f) + 0.5f * noise;
        }
    }
    float *p, *grad;
    int64_t np;
    ck_assert_int_eq(sfr_net_params(net, &p, &grad, &np), SFR_OK);
    double first = 0, last = 0;
    for (int step = 0; step < STEPS; step++) {
        ck_assert_int_eq(sfr_net_forward(net, img, 1), SFR_OK);
        const float *z;
        int64_t d[2];
        ck_assert_int_eq(sfr_net_output(net, &z, d), SFR_OK);
        double loss = 0;
        for (int n = 0; n < B; n++) {
            double m = fmax(z[n * K], z[n * K + 1]);
            double e0 = exp(z[n * K] - m), e1 = exp(z[n * K + 1] - m);
            double p0 = e0 / (e0 + e1);
            loss -= log(label[n] == 0 ? p0 : 1 - p0) / B;
            dl[n * K] = (float)((p0 - (label[n] == 0)) / B);
            dl[n * K + 1] = (float)((1 - p0 - (label[n] == 1)) / B);
        }
        if (step == 0)
            first = loss;
        last = loss;
        ck_assert_int_eq(sfr_net_backward(net, dl), SFR_OK);
        for (int64_t i = 0; i < np; i++)
            p[i] -= 0.5f * grad[i];
    }
    ck_assert_msg(last < 0.5 * first, "loss went from %g to %g", first, last);
    sfr_net_destroy(net);
}
END_TEST

Suite *net_resnet_suite(void)
{
    Suite *s = suite_create("net_resnet");
    TCase *tc = tcase_create("reference");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, fmnist_resnet_runs_with_the_documented_shapes);
    tcase_add_test(tc, fmnist_mobilenet_runs_with_the_documented_shapes);
    tcase_add_test(tc, cifar_resnet18_runs_with_the_documented_shapes);
    tcase_add_test(tc, training_lowers_the_loss);
    suite_add_tcase(s, tc);
    return s;
}
