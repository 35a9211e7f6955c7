/*
 * The whole library together: a small ResNet with SFR pairs on its own taps,
 * trained by sfr_reg_compute + sfr_net_backward + sfr_sgd_step on a
 * synthetic problem, learns; and the SFR gradients really reach the
 * parameters through the taps.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reference_nets.h"
#include "sfr/sfr.h"

enum { B = 32, SIDE = 8, K = 4, PIXELS = SIDE * SIDE };

/* input 1x8x8 - conv8 - BN - ReLU - block(8,8) - block(8,16,/2) - GAP - linear(4).
 * taps[0] the stem, [1] block 1, [2] block 2. */
static sfr_net *small_resnet(int taps[3])
{
    sfr_net *net;
    int id;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(sfr_net_input(net, 1, SIDE, SIDE, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_conv2d(net, id, 8, 3, 1, 1, 0, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_batchnorm(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_relu(net, id, &id), SFR_OK);
    taps[0] = id;
    ck_assert_int_eq(sfr_ref_basic_block(net, id, 8, 8, 1, &id), SFR_OK);
    taps[1] = id;
    ck_assert_int_eq(sfr_ref_basic_block(net, id, 8, 16, 2, &id), SFR_OK);
    taps[2] = id;
    ck_assert_int_eq(sfr_net_global_avgpool(net, id, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_linear(net, id, K, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, B), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, 11), SFR_OK);
    return net;
}

/* Class c lights up quadrant c of the image, under noise. */
static void make_batch(float *images, int32_t *labels, unsigned *seed)
{
    for (int n = 0; n < B; n++) {
        labels[n] = n % K;
        for (int i = 0; i < PIXELS; i++) {
            *seed = *seed * 1103515245u + 12345u;
            float noise = (float)((*seed >> 16) & 0x7FFF) / 32768.0f - 0.5f;
            int quadrant = (i / SIDE >= SIDE / 2) * 2 + (i % SIDE >= SIDE / 2);
            images[n * PIXELS + i] = (quadrant == labels[n] ? 1.0f : 0.0f) + 0.6f * noise;
        }
    }
}

static sfr_reg *sfr_on(sfr_net *net, const int taps[3], double beta)
{
    sfr_reg *reg;
    sfr_tap *teacher, *student;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_net_tap(net, taps[2], &teacher), SFR_OK);
    for (int s = 0; s < 2; s++) {
        ck_assert_int_eq(sfr_net_tap(net, taps[s], &student), SFR_OK);
        ck_assert_int_eq(sfr_reg_add_pair(reg, student, teacher, beta, NULL), SFR_OK);
    }
    return reg;
}

/* Trains for steps and returns the mean label loss of the first and last 5. */
static void train(sfr_net *net, sfr_reg *reg, int steps, double *first, double *last)
{
    sfr_sgd *opt;
    ck_assert_int_eq(sfr_sgd_create(&opt, 0.05, 0.9, 1e-4, 0), SFR_OK);
    float images[B * PIXELS], dlogits[B * K];
    int32_t labels[B];
    unsigned seed = 7;
    *first = *last = 0;
    for (int step = 0; step < steps; step++) {
        make_batch(images, labels, &seed);
        ck_assert_int_eq(sfr_net_forward(net, images, 1), SFR_OK);
        const float *logits;
        int64_t dims[2];
        ck_assert_int_eq(sfr_net_output(net, &logits, dims), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_progress(reg, (double)step / steps), SFR_OK);
        double loss, label_loss;
        ck_assert_int_eq(sfr_reg_compute(reg, logits, labels, B, K, dlogits, &loss), SFR_OK);
        ck_assert(isfinite(loss));
        ck_assert_int_eq(sfr_reg_label_loss(reg, &label_loss), SFR_OK);
        ck_assert_int_eq(sfr_net_backward(net, dlogits), SFR_OK);
        ck_assert_int_eq(sfr_sgd_step(opt, net), SFR_OK);
        if (step < 5)
            *first += label_loss / 5;
        if (step >= steps - 5)
            *last += label_loss / 5;
    }
    sfr_sgd_destroy(opt);
}

START_TEST(learns_with_plain_cross_entropy)
{
    int taps[3];
    sfr_net *net = small_resnet(taps);
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_EPS_END, 0.0), SFR_OK);
    double first, last;
    train(net, reg, 40, &first, &last);
    ck_assert_msg(last < 0.5 * first, "label loss went from %g to %g", first, last);
    sfr_reg_destroy(reg);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(learns_with_sfr_pairs_on_net_taps)
{
    int taps[3];
    sfr_net *net = small_resnet(taps);
    sfr_reg *reg = sfr_on(net, taps, 1.0);
    double first, last;
    train(net, reg, 40, &first, &last);
    ck_assert_msg(last < 0.5 * first, "label loss went from %g to %g", first, last);
    for (int p = 0; p < 2; p++) {
        double pair_loss;
        int iterations;
        ck_assert_int_eq(sfr_reg_pair_loss(reg, p, &pair_loss), SFR_OK);
        ck_assert_int_eq(sfr_reg_pair_stats(reg, p, &iterations, NULL), SFR_OK);
        ck_assert(pair_loss > 0 && pair_loss < 4);
        ck_assert_int_ge(iterations, 1);
    }
    sfr_reg_destroy(reg);
    sfr_net_destroy(net);
}
END_TEST

/* The parameter gradient with beta = 1 minus the one with beta = 0 is the
 * gradient of the pair losses alone: it must be non-zero for the layers
 * below the students and zero for the layers only above the teacher
 * (the head), since the teacher gets no gradient by default. */
START_TEST(sfr_gradients_reach_the_parameters_below_the_students)
{
    int taps[3];
    float images[B * PIXELS], dlogits[B * K];
    int32_t labels[B];
    unsigned seed = 3;
    make_batch(images, labels, &seed);
    float *grads_by_beta[2];
    int64_t count = 0;
    for (int b = 0; b < 2; b++) {
        sfr_net *net = small_resnet(taps);
        sfr_reg *reg = sfr_on(net, taps, (double)b);
        ck_assert_int_eq(sfr_net_forward(net, images, 1), SFR_OK);
        const float *logits;
        int64_t dims[2];
        double loss;
        ck_assert_int_eq(sfr_net_output(net, &logits, dims), SFR_OK);
        ck_assert_int_eq(sfr_reg_compute(reg, logits, labels, B, K, dlogits, &loss), SFR_OK);
        ck_assert_int_eq(sfr_net_backward(net, dlogits), SFR_OK);
        float *grads;
        ck_assert_int_eq(sfr_net_params(net, NULL, &grads, &count), SFR_OK);
        grads_by_beta[b] = malloc((size_t)count * sizeof(float));
        memcpy(grads_by_beta[b], grads, (size_t)count * sizeof(float));
        sfr_reg_destroy(reg);
        sfr_net_destroy(net);
    }
    int64_t stem_weight_size, head_offset, head_size;
    int tensors;
    sfr_net *net = small_resnet(taps);
    ck_assert_int_eq(sfr_net_param_tensors(net, &tensors), SFR_OK);
    ck_assert_int_eq(sfr_net_param_info(net, 0, NULL, NULL, &stem_weight_size), SFR_OK);
    ck_assert_int_eq(sfr_net_param_info(net, tensors - 2, NULL, &head_offset, &head_size), SFR_OK);
    sfr_net_destroy(net);
    double stem_change = 0, head_change = 0;
    for (int64_t i = 0; i < stem_weight_size; i++)
        stem_change += fabs(grads_by_beta[1][i] - grads_by_beta[0][i]);
    for (int64_t i = head_offset; i < count; i++)
        head_change += fabs(grads_by_beta[1][i] - grads_by_beta[0][i]);
    ck_assert_msg(stem_change > 1e-4, "SFR changed the stem's gradient by %g", stem_change);
    ck_assert_msg(head_change == 0, "SFR changed the head's gradient by %g", head_change);
    free(grads_by_beta[0]);
    free(grads_by_beta[1]);
}
END_TEST

Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("small_resnet");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, learns_with_plain_cross_entropy);
    tcase_add_test(tc, learns_with_sfr_pairs_on_net_taps);
    tcase_add_test(tc, sfr_gradients_reach_the_parameters_below_the_students);
    suite_add_tcase(s, tc);
    return s;
}
