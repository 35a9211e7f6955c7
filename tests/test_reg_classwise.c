/*
 * The class-wise term (docs/sfr.md, "Class-wise term"): partners by hand,
 * the fast term against the reference, the reference against finite
 * differences, a hand-worked case, and bad input with nothing written.
 */
#include "reg_fixture.h"

enum { N = 7, K = 4 };

/* Labels: class 0 three times, class 1 twice, classes 2 and 3 once each. */
static const int32_t labels7[N] = {0, 1, 0, 2, 1, 3, 0};

START_TEST(partners_by_hand)
{
    /* 0 -> 2, 1 -> 4, 2 -> 6, 3 alone in class 2, 4 -> 1 (wraps), 5 alone, 6 -> 0 (wraps). */
    const int32_t *labels = labels7;
    const int64_t want[N] = {2, 4, 6, -1, 1, -1, 0};
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfri_classwise_partners(reg, labels, N, K, "test"), SFR_OK);
    for (int s = 0; s < N; s++) {
        ck_assert_int_eq(reg->partner[s], want[s]);
        ck_assert_int_eq(sfri_ref_classwise_partner(labels, N, s), want[s]);
    }
    sfr_reg_destroy(reg);
}
END_TEST

/* The fast term against the reference at two temperatures, with a warm-up
 * factor of 1/2: the loss, and its gradient as the change of dlogits from a
 * compute without the term (which holds the label term alone). */
START_TEST(fast_matches_reference)
{
    const double temps[] = {1, 4};
    for (int ti = 0; ti < 2; ti++) {
        fx_seed(60 + (uint64_t)ti);
        float z[N * K], dz_label[N * K], dz[N * K];
        fx_fill(z, N * K, 0);
        for (int i = 0; i < N * K; i++)
            z[i] *= 3.0f;
        sfr_reg *reg;
        ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_WARMUP, 0.5), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_progress(reg, 0.25), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_CLASSWISE_TEMPERATURE, temps[ti]),
                         SFR_OK);
        double loss, label, cw = -1;
        ck_assert_int_eq(sfr_reg_compute(reg, z, labels7, N, K, dz_label, &loss), SFR_OK);
        ck_assert_int_eq(sfr_reg_classwise_loss(reg, &cw), SFR_OK);
        ck_assert(cw == 0.0);   /* off by default */
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_CLASSWISE, 0.7), SFR_OK);
        ck_assert_int_eq(sfr_reg_compute(reg, z, labels7, N, K, dz, &loss), SFR_OK);
        ck_assert_int_eq(sfr_reg_label_loss(reg, &label), SFR_OK);
        ck_assert_int_eq(sfr_reg_classwise_loss(reg, &cw), SFR_OK);
        double *zd = fx_to_double(z, N * K), want_g[N * K], want;
        ck_assert_int_eq(sfri_ref_classwise(zd, zd, labels7, N, K, temps[ti], 0.7 * 0.5, want_g,
                                            &want), 0);
        ck_assert(want > 0);
        ck_assert_double_eq_tol(cw, want, 1e-12 * want);
        ck_assert_double_eq_tol(loss, label + cw, 1e-12 * loss);
        float term[N * K];
        for (int i = 0; i < N * K; i++)
            term[i] = dz[i] - dz_label[i];
        fx_assert_close(term, want_g, N * K, 1e-5, "class-wise gradient");
        for (int j = 0; j < K; j++)   /* sample 5 is alone: no term */
            ck_assert_float_eq(term[5 * K + j], 0.0f);
        free(zd);
        sfr_reg_destroy(reg);
    }
}
END_TEST

/* The reference's gradient is the derivative of its loss in the students'
 * logits, the partners' held (central differences in double). */
START_TEST(reference_gradient_finite_differences)
{
    fx_seed(62);
    double z[N * K], zt[N * K], g[N * K];
    for (int i = 0; i < N * K; i++)
        zt[i] = z[i] = 2.5 * fx_gauss();
    const double temp = 2.5, weight = 0.8;
    double loss, plus, minus;
    ck_assert_int_eq(sfri_ref_classwise(z, zt, labels7, N, K, temp, weight, g, &loss), 0);
    ck_assert(loss > 0);
    for (int i = 0; i < N * K; i++) {
        const double h = 1e-5, keep = z[i];
        z[i] = keep + h;
        ck_assert_int_eq(sfri_ref_classwise(z, zt, labels7, N, K, temp, weight, NULL, &plus), 0);
        z[i] = keep - h;
        ck_assert_int_eq(sfri_ref_classwise(z, zt, labels7, N, K, temp, weight, NULL, &minus), 0);
        z[i] = keep;
        double fd = (plus - minus) / (2 * h);
        ck_assert_msg(fabs(fd - g[i]) < 1e-8, "dz[%d]: %.12g, finite differences %.12g", i, g[i],
                      fd);
    }
}
END_TEST

/* Two samples of one class, T = 1, logits (log 3, 0) and (0, 0), no label
 * term (gamma 0): each learns from the other. */
START_TEST(classwise_by_hand)
{
    float z[4] = {(float)log(3.0), 0, 0, 0}, dz[4];
    const int32_t labels[2] = {1, 1};
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GAMMA, 0), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_CLASSWISE, 1), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_CLASSWISE_TEMPERATURE, 1), SFR_OK);
    double loss, cw;
    ck_assert_int_eq(sfr_reg_compute(reg, z, labels, 2, 2, dz, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_classwise_loss(reg, &cw), SFR_OK);
    /* (KL((1/2, 1/2) || (3/4, 1/4)) + KL((3/4, 1/4) || (1/2, 1/2))) / 2 */
    const double want = (0.5 * log(0.5 / 0.75) + 0.5 * log(0.5 / 0.25) + 0.75 * log(1.5) +
                         0.25 * log(0.5)) / 2;
    ck_assert_double_eq_tol(cw, want, 1e-7);
    ck_assert_double_eq_tol(loss, want, 1e-7);
    /* (p0 - p1) / 2 and (p1 - p0) / 2 */
    ck_assert_double_eq_tol(dz[0], 0.125, 1e-7);
    ck_assert_double_eq_tol(dz[1], -0.125, 1e-7);
    ck_assert_double_eq_tol(dz[2], -0.125, 1e-7);
    ck_assert_double_eq_tol(dz[3], 0.125, 1e-7);
    sfr_reg_destroy(reg);
}
END_TEST

START_TEST(bad_input)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    double v = 5;
    ck_assert_int_eq(sfr_reg_classwise_loss(NULL, &v), SFR_ERR_INVALID_ARG);
    ck_assert(v == 5);
    ck_assert_int_eq(sfr_reg_classwise_loss(reg, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_classwise_loss: value is NULL");
    const double bad_weights[] = {-0.1, 2e6, NAN, INFINITY};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_CLASSWISE, bad_weights[i]),
                         SFR_ERR_INVALID_ARG);
    const double bad_temps[] = {0.01, 101, NAN};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_CLASSWISE_TEMPERATURE, bad_temps[i]),
                         SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_get_param(reg, SFR_PARAM_CLASSWISE, &v), SFR_OK);
    ck_assert(v == 0);
    /* A label outside [0, K) is refused before the partners are looked for:
     * nothing written. */
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_CLASSWISE, 1), SFR_OK);
    float z[2 * K] = {0}, dz[2 * K];
    for (int i = 0; i < 2 * K; i++)
        dz[i] = 9.0f;
    const int32_t labels[2] = {1, K};
    double loss = 7;
    ck_assert_int_eq(sfr_reg_compute(reg, z, labels, 2, K, dz, &loss), SFR_ERR_INVALID_ARG);
    ck_assert(loss == 7);
    for (int i = 0; i < 2 * K; i++)
        ck_assert_float_eq(dz[i], 9.0f);
    sfr_reg_destroy(reg);
}
END_TEST

Suite *reg_classwise_suite(void)
{
    Suite *s = suite_create("reg_classwise");
    TCase *tc = tcase_create("classwise");
    tcase_add_test(tc, partners_by_hand);
    tcase_add_test(tc, fast_matches_reference);
    tcase_add_test(tc, reference_gradient_finite_differences);
    tcase_add_test(tc, classwise_by_hand);
    tcase_add_test(tc, bad_input);
    suite_add_tcase(s, tc);
    return s;
}
