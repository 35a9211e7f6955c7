/* Dynamic label smoothing: schedules, sources, gradients and the `past` bank. */
#include "reg_fixture.h"

START_TEST(schedules_by_hand)
{
    ck_assert_double_eq_tol(sfri_ls_eps(SFR_LS_CONSTANT, 0.3, 0.1, 0.5), 0.1, 1e-15);
    ck_assert_double_eq_tol(sfri_ls_eps(SFR_LS_LINEAR, 0.3, 0.1, 0.0), 0.3, 1e-15);
    ck_assert_double_eq_tol(sfri_ls_eps(SFR_LS_LINEAR, 0.3, 0.1, 0.25), 0.25, 1e-15);
    ck_assert_double_eq_tol(sfri_ls_eps(SFR_LS_COSINE, 0.3, 0.1, 0.0), 0.3, 1e-15);
    ck_assert_double_eq_tol(sfri_ls_eps(SFR_LS_COSINE, 0.3, 0.1, 0.5), 0.2, 1e-15);
    ck_assert_double_eq_tol(sfri_ls_eps(SFR_LS_COSINE, 0.3, 0.1, 1.0), 0.1, 1e-15);
}
END_TEST

START_TEST(two_classes_by_hand)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_progress(reg, 1.0), SFR_OK);   /* linear: eps = 0.1 */
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GAMMA, 2.0), SFR_OK);
    const float z[2] = {0, 0};
    const int32_t y[1] = {0};
    float dz[2];
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, z, y, 1, 2, dz, &loss), SFR_OK);
    /* q = (0.95, 0.05), p = (0.5, 0.5): L = 2 * log 2, dz = 2 * (p - q). */
    ck_assert_double_eq_tol(loss, 2 * log(2.0), 1e-12);
    ck_assert_float_eq_tol(dz[0], 2 * (0.5f - 0.95f), 1e-6f);
    ck_assert_float_eq_tol(dz[1], 2 * (0.5f - 0.05f), 1e-6f);
    double ll;
    ck_assert_int_eq(sfr_reg_label_loss(reg, &ll), SFR_OK);
    ck_assert_double_eq_tol(ll, loss, 1e-15);
    sfr_reg_destroy(reg);
}
END_TEST

/* u for `self`: softmax(z / T) per row. */
static void softmax_rows(const double *z, int64_t n, int64_t k, double temp, double *u)
{
    for (int64_t s = 0; s < n; s++) {
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < k; j++)
            mx = fmax(mx, z[s * k + j] / temp);
        for (int64_t j = 0; j < k; j++)
            sum += exp(z[s * k + j] / temp - mx);
        for (int64_t j = 0; j < k; j++)
            u[s * k + j] = exp(z[s * k + j] / temp - mx) / sum;
    }
}

START_TEST(dlogits_match_reference_and_finite_differences)
{
    enum { N = 5, K = 7 };
    fx_seed(21);
    float z[N * K], dz[N * K];
    int32_t y[N];
    for (int i = 0; i < N * K; i++)
        z[i] = (float)(3 * fx_gauss());
    for (int i = 0; i < N; i++)
        y[i] = (int32_t)(fx_uniform() * K);
    double *zd = fx_to_double(z, N * K);
    for (int sched = 0; sched < 3; sched++)
        for (int source = 0; source < 3; source++) {
            sfr_reg *reg;
            ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
            ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_SCHEDULE, sched), SFR_OK);
            ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_SOURCE, source), SFR_OK);
            ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_EPS_START, 0.6), SFR_OK);
            ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_EPS_END, 0.2), SFR_OK);
            ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_TEMPERATURE, 2.5), SFR_OK);
            ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GAMMA, 0.8), SFR_OK);
            ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_BANK_SIZE, 100), SFR_OK);
            ck_assert_int_eq(sfr_reg_set_progress(reg, 0.3), SFR_OK);
            /* For `past`, a first compute fills the bank for ids 10..14 from other logits. */
            double u[N * K];
            const int64_t ids[N] = {10, 11, 12, 13, 14};
            if (source == SFR_LS_PAST) {
                float z0[N * K], d0[N * K];
                double loss0;
                for (int i = 0; i < N * K; i++)
                    z0[i] = (float)fx_gauss();
                ck_assert_int_eq(sfr_reg_set_sample_ids(reg, ids, N), SFR_OK);
                ck_assert_int_eq(sfr_reg_compute(reg, z0, y, N, K, d0, &loss0), SFR_OK);
                double *z0d = fx_to_double(z0, N * K);
                softmax_rows(z0d, N, K, 1.0, u);
                free(z0d);
                ck_assert_int_eq(sfr_reg_set_sample_ids(reg, ids, N), SFR_OK);
            } else {
                softmax_rows(zd, N, K, 2.5, u);   /* `self`, held constant */
            }
            double loss;
            ck_assert_int_eq(sfr_reg_compute(reg, z, y, N, K, dz, &loss), SFR_OK);
            double eps_t = sfri_ls_eps(sched, 0.6, 0.2, 0.3);
            double want_dz[N * K];
            double want = sfri_ref_label(zd, y, N, K, eps_t, source, 2.5, u, 0.8, want_dz);
            ck_assert_msg(fabs(loss - want) <= 1e-9 * want, "loss %.12g, reference %.12g", loss,
                          want);
            fx_assert_close(dz, want_dz, N * K, 1e-6, "dlogits");
            /* Finite differences with u held fixed (as `past` with the same u). */
            const double h = 1e-6;
            for (int i = 0; i < N * K; i++) {
                double keep = zd[i];
                int src = source == SFR_LS_UNIFORM ? SFR_LS_UNIFORM : SFR_LS_PAST;
                zd[i] = keep + h;
                double lp = sfri_ref_label(zd, y, N, K, eps_t, src, 2.5, u, 0.8, NULL);
                zd[i] = keep - h;
                double lm = sfri_ref_label(zd, y, N, K, eps_t, src, 2.5, u, 0.8, NULL);
                zd[i] = keep;
                ck_assert_double_eq_tol((lp - lm) / (2 * h), want_dz[i], 1e-7);
            }
            sfr_reg_destroy(reg);
        }
    free(zd);
}
END_TEST

/* Bank fixture: K = 3, bank of 8. */
struct bank_case {
    sfr_reg *reg;
    float z[4 * 3], dz[4 * 3];
    int32_t y[4];
};

static void bank_setup(struct bank_case *b)
{
    ck_assert_int_eq(sfr_reg_create(&b->reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(b->reg, SFR_PARAM_LS_SOURCE, SFR_LS_PAST), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(b->reg, SFR_PARAM_LS_SCHEDULE, SFR_LS_CONSTANT), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(b->reg, SFR_PARAM_LS_EPS_END, 0.5), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(b->reg, SFR_PARAM_LS_BANK_SIZE, 8), SFR_OK);
    for (int i = 0; i < 12; i++)
        b->z[i] = (float)((i * 7) % 5) - 2.0f;
    for (int i = 0; i < 4; i++)
        b->y[i] = i % 3;
}

/* The label loss of logits z (n x 3) with u given per row. */
static double expect_loss(const float *z, const int32_t *y, int64_t n, const double *u)
{
    double *zd = fx_to_double(z, n * 3);
    double l = sfri_ref_label(zd, y, n, 3, 0.5, SFR_LS_PAST, 4, u, 1, NULL);
    free(zd);
    return l;
}

static void onehot_rows(const int32_t *y, int64_t n, double *u)
{
    for (int64_t s = 0; s < n; s++)
        for (int j = 0; j < 3; j++)
            u[s * 3 + j] = j == y[s];
}

static double run(struct bank_case *b, const int64_t *ids, int64_t n, const float *z)
{
    double loss;
    ck_assert_int_eq(sfr_reg_set_sample_ids(b->reg, ids, n), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(b->reg, z, b->y, n, 3, b->dz, &loss), SFR_OK);
    return loss;
}

START_TEST(bank_first_visit_onehot_then_stored_prediction)
{
    struct bank_case b;
    bank_setup(&b);
    const int64_t ids[2] = {3, 5};
    double u[2 * 3];
    onehot_rows(b.y, 2, u);
    ck_assert_double_eq_tol(run(&b, ids, 2, b.z), expect_loss(b.z, b.y, 2, u), 1e-9);
    /* Second visit with other logits: u is softmax of the first visit's logits. */
    double *zd = fx_to_double(b.z, 6);
    softmax_rows(zd, 2, 3, 1.0, u);
    free(zd);
    ck_assert_double_eq_tol(run(&b, ids, 2, b.z + 6), expect_loss(b.z + 6, b.y, 2, u), 1e-6);
    sfr_reg_destroy(b.reg);
}
END_TEST

START_TEST(bank_duplicates_later_sample_wins)
{
    struct bank_case b;
    bank_setup(&b);
    const int64_t dup[2] = {4, 4};
    double u[2 * 3];
    /* Both see the empty bank within the batch. */
    onehot_rows(b.y, 2, u);
    ck_assert_double_eq_tol(run(&b, dup, 2, b.z), expect_loss(b.z, b.y, 2, u), 1e-9);
    /* Next visit of id 4 gets the second sample's prediction. */
    const int64_t one[1] = {4};
    double *zd = fx_to_double(b.z + 3, 3);
    softmax_rows(zd, 1, 3, 1.0, u);
    free(zd);
    ck_assert_double_eq_tol(run(&b, one, 1, b.z + 6), expect_loss(b.z + 6, b.y, 1, u), 1e-6);
    sfr_reg_destroy(b.reg);
}
END_TEST

START_TEST(bank_not_updated_by_failed_compute)
{
    struct bank_case b;
    bank_setup(&b);
    const int64_t ids[1] = {2};
    float bad[3] = {0, NAN, 1};
    double loss, u[3];
    ck_assert_int_eq(sfr_reg_set_sample_ids(b.reg, ids, 1), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(b.reg, bad, b.y, 1, 3, b.dz, &loss), SFR_ERR_NONFINITE);
    /* The ids are still pending and id 2 still unseen. */
    onehot_rows(b.y, 1, u);
    ck_assert_int_eq(sfr_reg_compute(b.reg, b.z, b.y, 1, 3, b.dz, &loss), SFR_OK);
    ck_assert_double_eq_tol(loss, expect_loss(b.z, b.y, 1, u), 1e-9);
    /* Consumed: another compute needs new ids. */
    ck_assert_int_eq(sfr_reg_compute(b.reg, b.z, b.y, 1, 3, b.dz, &loss), SFR_ERR_STATE);
    sfr_reg_destroy(b.reg);
}
END_TEST

START_TEST(bank_emptied_on_size_and_k_change)
{
    struct bank_case b;
    bank_setup(&b);
    const int64_t ids[1] = {1};
    double u[3];
    onehot_rows(b.y, 1, u);
    run(&b, ids, 1, b.z);
    /* Same size again: still remembered. */
    ck_assert_int_eq(sfr_reg_set_param(b.reg, SFR_PARAM_LS_BANK_SIZE, 8), SFR_OK);
    ck_assert(fabs(run(&b, ids, 1, b.z) - expect_loss(b.z, b.y, 1, u)) > 1e-6);
    /* Another size: unseen again. */
    ck_assert_int_eq(sfr_reg_set_param(b.reg, SFR_PARAM_LS_BANK_SIZE, 9), SFR_OK);
    ck_assert_double_eq_tol(run(&b, ids, 1, b.z), expect_loss(b.z, b.y, 1, u), 1e-9);
    /* Another K: unseen again (K = 2 now, labels 0). */
    const int32_t y2[1] = {0};
    float z2[2] = {0.5f, -0.5f}, dz2[2];
    double loss;
    ck_assert_int_eq(sfr_reg_set_sample_ids(b.reg, ids, 1), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(b.reg, z2, y2, 1, 2, dz2, &loss), SFR_OK);
    double zz[2] = {0.5, -0.5}, uu[2] = {1, 0};
    ck_assert_double_eq_tol(loss, sfri_ref_label(zz, y2, 1, 2, 0.5, SFR_LS_PAST, 4, uu, 1, NULL),
                            1e-7);
    /* And back to K = 3: unseen again, since the bank held K = 2. */
    ck_assert_double_eq_tol(run(&b, ids, 1, b.z), expect_loss(b.z, b.y, 1, u), 1e-9);
    sfr_reg_destroy(b.reg);
}
END_TEST

START_TEST(bank_records_nothing_for_other_sources)
{
    struct bank_case b;
    bank_setup(&b);
    const int64_t ids[1] = {6};
    ck_assert_int_eq(sfr_reg_set_param(b.reg, SFR_PARAM_LS_SOURCE, SFR_LS_UNIFORM), SFR_OK);
    run(&b, ids, 1, b.z);
    ck_assert_int_eq(sfr_reg_set_param(b.reg, SFR_PARAM_LS_SOURCE, SFR_LS_PAST), SFR_OK);
    double u[3];
    onehot_rows(b.y, 1, u);
    ck_assert_double_eq_tol(run(&b, ids, 1, b.z), expect_loss(b.z, b.y, 1, u), 1e-9);
    /* A compute without a label term neither needs nor consumes ids. */
    double loss;
    ck_assert_int_eq(sfr_reg_set_sample_ids(b.reg, ids, 1), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(b.reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    ck_assert(loss == 0);
    ck_assert_int_eq(sfr_reg_compute(b.reg, b.z, b.y, 1, 3, b.dz, &loss), SFR_OK);
    sfr_reg_destroy(b.reg);
}
END_TEST

Suite *reg_label_suite(void)
{
    Suite *s = suite_create("reg_label");
    TCase *tc = tcase_create("label");
    tcase_add_test(tc, schedules_by_hand);
    tcase_add_test(tc, two_classes_by_hand);
    tcase_add_test(tc, dlogits_match_reference_and_finite_differences);
    suite_add_tcase(s, tc);
    tc = tcase_create("bank");
    tcase_add_test(tc, bank_first_visit_onehot_then_stored_prediction);
    tcase_add_test(tc, bank_duplicates_later_sample_wins);
    tcase_add_test(tc, bank_not_updated_by_failed_compute);
    tcase_add_test(tc, bank_emptied_on_size_and_k_change);
    tcase_add_test(tc, bank_records_nothing_for_other_sources);
    suite_add_tcase(s, tc);
    return s;
}
