/*
 * The last-batch term (docs/sfr.md, "Last-batch term"; DLB): the fast term
 * against the reference over consecutive overlapping batches, the reference
 * against finite differences, a hand-worked case, what the stored batch is
 * after a failed compute, a compute without the term, another K and a
 * loaded checkpoint, and bad input with nothing written.
 */
#include "reg_fixture.h"

enum { N = 6, K = 4 };

/* Ids of three consecutive batches, overlapping by half as DLB's sampler
 * makes them, with id 12 twice in the second (its lower row teaches). */
static const int64_t ids_a[N] = {3, 8, 1, 12, 5, 20};
static const int64_t ids_b[N] = {12, 5, 20, 40, 12, 41};
static const int64_t ids_c[N] = {40, 12, 41, 7, 9, 11};
static const int32_t labels6[N] = {0, 1, 2, 3, 1, 0};

static sfr_reg *make_reg(double weight, double temp)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LAST_BATCH, weight), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LAST_BATCH_TEMPERATURE, temp), SFR_OK);
    return reg;
}

static sfr_status compute(sfr_reg *reg, const int64_t *ids, const float *z, float *dz,
                          double *loss)
{
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, ids, N), SFR_OK);
    return sfr_reg_compute(reg, z, labels6, N, K, dz, loss);
}

/* The batch (z, ids) of n after the stored one (zp, prev_ids) of n_prev,
 * with the label term off: reg's loss and dz against the reference. */
struct batch {
    const float *z;
    const int64_t *ids;
    int64_t n;
};

static void assert_matches_reference(const sfr_reg *reg, struct batch now, struct batch stored,
                                     int64_t k, double temp, double weight, const float *dz)
{
    double lb, want;
    double *zd = fx_to_double(now.z, now.n * k), *zp = fx_to_double(stored.z, stored.n * k);
    double *want_g = malloc((size_t)(now.n * k) * sizeof *want_g);
    ck_assert_ptr_nonnull(want_g);
    ck_assert_int_eq(sfri_ref_last_batch(zd, now.ids, now.n, zp, stored.ids, stored.n, k, temp,
                                         weight, want_g, &want), 0);
    ck_assert_int_eq(sfr_reg_last_batch_loss(reg, &lb), SFR_OK);
    ck_assert(want > 0);
    ck_assert_double_eq_tol(lb, want, 1e-12 * want);
    fx_assert_close(dz, want_g, now.n * k, 1e-5, "last-batch gradient");
    free(zd);
    free(zp);
    free(want_g);
}

/*
 * Three batches through the fast term and the reference, T 1 and 3, a
 * warm-up factor of 1/2: the loss, and the gradient as the change of dlogits
 * from a regularizer without the term (the label term alone).
 */
START_TEST(fast_matches_reference)
{
    const double temps[] = {1, 3};
    const int64_t *ids[3] = {ids_a, ids_b, ids_c};
    for (int ti = 0; ti < 2; ti++) {
        fx_seed(70 + (uint64_t)ti);
        sfr_reg *reg = make_reg(0.6, temps[ti]), *plain = make_reg(0, temps[ti]);
        sfr_reg *both[2] = {reg, plain};
        for (int r = 0; r < 2; r++) {
            ck_assert_int_eq(sfr_reg_set_param(both[r], SFR_PARAM_WARMUP, 0.5), SFR_OK);
            ck_assert_int_eq(sfr_reg_set_progress(both[r], 0.25), SFR_OK);
        }
        float z[3][N * K];
        for (int b = 0; b < 3; b++) {
            fx_fill(z[b], N * K, 0);
            for (int i = 0; i < N * K; i++)
                z[b][i] *= 3.0f;
            float dz[N * K], dz_label[N * K];
            double loss, label, lb = -1, plain_loss;
            ck_assert_int_eq(compute(reg, ids[b], z[b], dz, &loss), SFR_OK);
            ck_assert_int_eq(sfr_reg_set_sample_ids(plain, ids[b], N), SFR_OK);
            ck_assert_int_eq(sfr_reg_compute(plain, z[b], labels6, N, K, dz_label, &plain_loss),
                             SFR_OK);
            ck_assert_int_eq(sfr_reg_label_loss(reg, &label), SFR_OK);
            ck_assert_int_eq(sfr_reg_last_batch_loss(reg, &lb), SFR_OK);
            double want = 0, want_g[N * K] = {0};
            if (b > 0) {
                double *zd = fx_to_double(z[b], N * K), *zp = fx_to_double(z[b - 1], N * K);
                ck_assert_int_eq(sfri_ref_last_batch(zd, ids[b], N, zp, ids[b - 1], N, K,
                                                     temps[ti], 0.6 * 0.5, want_g, &want), 0);
                free(zd);
                free(zp);
                ck_assert(want > 0);
            }
            /* The first batch has no batch before it. */
            ck_assert(fabs(lb - want) <= 1e-12 * want);
            ck_assert(fabs(loss - (label + lb)) <= 1e-12 * loss);
            float term[N * K];
            for (int i = 0; i < N * K; i++)
                term[i] = dz[i] - dz_label[i];
            fx_assert_close(term, want_g, N * K, 1e-5, "last-batch gradient");
        }
        /* Samples whose id was not in the batch before learn nothing. */
        ck_assert_int_eq(sfri_ref_last_batch_row(ids_b, N, 7), -1);
        sfr_reg_destroy(reg);
        sfr_reg_destroy(plain);
    }
}
END_TEST

/* A batch of 257 with ids drawn from 200 values, so that most ids repeat
 * and the stored batch's sort meets every case: the fast term against the
 * reference, with the label term off (gamma 0). */
START_TEST(many_repeated_ids)
{
    enum { BIG = 257, K3 = 3 };
    fx_seed(73);
    static float z[2][BIG * K3], dz[BIG * K3];
    static int64_t ids[2][BIG];
    static int32_t labels[BIG];
    for (int b = 0; b < 2; b++) {
        fx_fill(z[b], BIG * K3, 0);
        for (int s = 0; s < BIG; s++)
            ids[b][s] = (int64_t)(200 * fx_uniform());
    }
    for (int s = 0; s < BIG; s++)
        labels[s] = s % K3;
    sfr_reg *reg = make_reg(1.5, 2);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GAMMA, 0), SFR_OK);
    double loss;
    for (int b = 0; b < 2; b++) {
        ck_assert_int_eq(sfr_reg_set_sample_ids(reg, ids[b], BIG), SFR_OK);
        ck_assert_int_eq(sfr_reg_compute(reg, z[b], labels, BIG, K3, dz, &loss), SFR_OK);
    }
    assert_matches_reference(reg, (struct batch){z[1], ids[1], BIG},
                             (struct batch){z[0], ids[0], BIG}, K3, 2, 1.5, dz);
    sfr_reg_destroy(reg);
}
END_TEST

/* A batch larger than the stored one grows both slots; the stored batch
 * survives the growth and teaches the ids it holds. */
START_TEST(a_larger_batch_keeps_the_stored_one)
{
    fx_seed(75);
    const int64_t small_ids[2] = {8, 3};
    const int32_t small_labels[2] = {0, 1};
    float zs[2 * K], z[N * K], dz[N * K];
    fx_fill(zs, 2 * K, 0);
    fx_fill(z, N * K, 0);
    sfr_reg *reg = make_reg(1, 2);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GAMMA, 0), SFR_OK);
    double loss;
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, small_ids, 2), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, zs, small_labels, 2, K, dz, &loss), SFR_OK);
    ck_assert_int_eq(compute(reg, ids_a, z, dz, &loss), SFR_OK);   /* ids 3 and 8 come again */
    assert_matches_reference(reg, (struct batch){z, ids_a, N}, (struct batch){zs, small_ids, 2},
                             K, 2, 1, dz);
    sfr_reg_destroy(reg);
}
END_TEST

/* The reference's gradient is the derivative of its loss in this batch's
 * logits, the stored ones held (central differences in double). */
START_TEST(reference_gradient_finite_differences)
{
    fx_seed(72);
    double z[N * K], zp[N * K], g[N * K];
    for (int i = 0; i < N * K; i++) {
        z[i] = 2.5 * fx_gauss();
        zp[i] = 2.5 * fx_gauss();
    }
    const double temp = 2.5, weight = 0.8;
    double loss, plus, minus;
    ck_assert_int_eq(sfri_ref_last_batch(z, ids_b, N, zp, ids_a, N, K, temp, weight, g, &loss),
                     0);
    ck_assert(loss > 0);
    for (int i = 0; i < N * K; i++) {
        const double h = 1e-5, keep = z[i];
        z[i] = keep + h;
        ck_assert_int_eq(sfri_ref_last_batch(z, ids_b, N, zp, ids_a, N, K, temp, weight, NULL,
                                             &plus), 0);
        z[i] = keep - h;
        ck_assert_int_eq(sfri_ref_last_batch(z, ids_b, N, zp, ids_a, N, K, temp, weight, NULL,
                                             &minus), 0);
        z[i] = keep;
        double fd = (plus - minus) / (2 * h);
        ck_assert_msg(fabs(fd - g[i]) < 1e-8, "dz[%d]: %.12g, finite differences %.12g", i, g[i],
                      fd);
    }
}
END_TEST

/*
 * By hand, T = 1, K = 2, no label term (gamma 0): a batch of ids (4, 9)
 * with logits (log 3, 0) and (0, 0), then a batch of ids (9, 6) with logits
 * (0, 0) and (1, 2). Sample 0 of the second learns from (1/2, 1/2), sample
 * 1 from nothing; in the first, nothing learns.
 */
START_TEST(last_batch_by_hand)
{
    sfr_reg *reg = make_reg(1, 1);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GAMMA, 0), SFR_OK);
    const int64_t first_ids[2] = {4, 9}, second_ids[2] = {9, 6};
    const int32_t labels[2] = {0, 1};
    float z1[4] = {(float)log(3.0), 0, 0, 0}, z2[4] = {(float)log(3.0), 0, 1, 2}, dz[4];
    double loss, lb;
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, first_ids, 2), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, z1, labels, 2, 2, dz, &loss), SFR_OK);
    ck_assert(loss == 0);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(dz[i], 0.0f);
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, second_ids, 2), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, z2, labels, 2, 2, dz, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_last_batch_loss(reg, &lb), SFR_OK);
    /* KL((1/2, 1/2) || (3/4, 1/4)) / 2 */
    const double want = (0.5 * log(0.5 / 0.75) + 0.5 * log(0.5 / 0.25)) / 2;
    ck_assert_double_eq_tol(lb, want, 1e-7);
    ck_assert_double_eq_tol(loss, want, 1e-7);
    /* (3/4 - 1/2) / 2 and (1/4 - 1/2) / 2; sample 1 untouched */
    ck_assert_double_eq_tol(dz[0], 0.125, 1e-7);
    ck_assert_double_eq_tol(dz[1], -0.125, 1e-7);
    ck_assert_float_eq(dz[2], 0.0f);
    ck_assert_float_eq(dz[3], 0.0f);
    sfr_reg_destroy(reg);
}
END_TEST

/* The term's loss after computing batch a then ids with logits z. */
static double loss_after_a(sfr_reg *reg, const float *za, const int64_t *ids, const float *z)
{
    float dz[N * K];
    double loss, lb = -1;
    ck_assert_int_eq(compute(reg, ids_a, za, dz, &loss), SFR_OK);
    ck_assert_int_eq(compute(reg, ids, z, dz, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_last_batch_loss(reg, &lb), SFR_OK);
    return lb;
}

/*
 * What the stored batch is: a failed compute leaves it (and its ids
 * pending); a compute with the weight at 0 forgets it, as does another K
 * and a loaded checkpoint.
 */
START_TEST(stored_batch)
{
    fx_seed(74);
    float za[N * K], zb[N * K], dz[N * K];
    fx_fill(za, N * K, 0);
    fx_fill(zb, N * K, 0);
    sfr_reg *reg = make_reg(1, 2);
    const double want = loss_after_a(reg, za, ids_b, zb);
    ck_assert(want > 0);

    /* A NaN in batch b is refused; the next try of b learns from a still. */
    float bad[N * K];
    memcpy(bad, zb, sizeof bad);
    bad[5] = NAN;
    double loss = 3, lb;
    ck_assert_int_eq(compute(reg, ids_a, za, dz, &loss), SFR_OK);
    ck_assert_int_eq(compute(reg, ids_b, bad, dz, &loss), SFR_ERR_NONFINITE);
    ck_assert_int_eq(sfr_reg_compute(reg, zb, labels6, N, K, dz, &loss), SFR_OK);  /* ids pending */
    ck_assert_int_eq(sfr_reg_last_batch_loss(reg, &lb), SFR_OK);
    ck_assert_double_eq_tol(lb, want, 1e-12 * want);

    /* A compute with the weight at 0 forgets batch a. */
    ck_assert_int_eq(compute(reg, ids_a, za, dz, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LAST_BATCH, 0), SFR_OK);
    ck_assert_int_eq(compute(reg, ids_c, za, dz, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LAST_BATCH, 1), SFR_OK);
    ck_assert_int_eq(compute(reg, ids_b, zb, dz, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_last_batch_loss(reg, &lb), SFR_OK);
    ck_assert(lb == 0);

    /* Logits of another K do not teach these. */
    const int32_t labels2[N] = {0, 1, 0, 1, 1, 0};
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, ids_a, N), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, za, labels2, N, 2, dz, &loss), SFR_OK);
    ck_assert_int_eq(compute(reg, ids_b, zb, dz, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_last_batch_loss(reg, &lb), SFR_OK);
    ck_assert(lb == 0);

    /* A checkpoint does not hold the stored batch: after a load the next batch has no teacher. */
    sfr_checkpoint *ck;
    ck_assert_int_eq(sfr_checkpoint_create(&ck), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_add_reg(ck, reg), SFR_OK);
    ck_assert_int_eq(compute(reg, ids_a, za, dz, &loss), SFR_OK);
    size_t size;
    ck_assert_int_eq(sfr_checkpoint_save_memory(ck, NULL, 0, &size), SFR_OK);
    void *bytes = malloc(size);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_int_eq(sfr_checkpoint_save_memory(ck, bytes, size, &size), SFR_OK);
    ck_assert_int_eq(sfr_checkpoint_load_memory(ck, bytes, size), SFR_OK);
    ck_assert_int_eq(compute(reg, ids_b, zb, dz, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_last_batch_loss(reg, &lb), SFR_OK);
    ck_assert(lb == 0);
    free(bytes);
    sfr_checkpoint_destroy(ck);
    sfr_reg_destroy(reg);
}
END_TEST

START_TEST(bad_input)
{
    sfr_reg *reg = make_reg(0, 3);
    double v = 5;
    ck_assert_int_eq(sfr_reg_last_batch_loss(NULL, &v), SFR_ERR_INVALID_ARG);
    ck_assert(v == 5);
    ck_assert_int_eq(sfr_reg_last_batch_loss(reg, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_last_batch_loss: value is NULL");
    const double bad_weights[] = {-0.1, 2e6, NAN, INFINITY};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LAST_BATCH, bad_weights[i]),
                         SFR_ERR_INVALID_ARG);
    const double bad_temps[] = {0.01, 101, NAN};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LAST_BATCH_TEMPERATURE, bad_temps[i]),
                         SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_get_param(reg, SFR_PARAM_LAST_BATCH, &v), SFR_OK);
    ck_assert(v == 0);
    ck_assert_int_eq(sfr_reg_get_param(reg, SFR_PARAM_LAST_BATCH_TEMPERATURE, &v), SFR_OK);
    ck_assert(v == 3);

    /* With the term on, a compute needs ids, as many as samples: nothing written. */
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LAST_BATCH, 1), SFR_OK);
    float z[N * K] = {0}, dz[N * K];
    for (int i = 0; i < N * K; i++)
        dz[i] = 9.0f;
    double loss = 7;
    ck_assert_int_eq(sfr_reg_compute(reg, z, labels6, N, K, dz, &loss), SFR_ERR_STATE);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_compute: last_batch > 0 needs sample ids: call "
                     "sfr_reg_set_sample_ids before each compute");
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, ids_a, N - 1), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, z, labels6, N, K, dz, &loss), SFR_ERR_SHAPE);
    ck_assert(loss == 7);
    for (int i = 0; i < N * K; i++)
        ck_assert_float_eq(dz[i], 9.0f);
    ck_assert_int_eq(sfr_reg_last_batch_loss(reg, &v), SFR_OK);
    ck_assert(v == 0);
    sfr_reg_destroy(reg);
}
END_TEST

Suite *reg_last_batch_suite(void)
{
    Suite *s = suite_create("reg_last_batch");
    TCase *tc = tcase_create("last_batch");
    tcase_add_test(tc, fast_matches_reference);
    tcase_add_test(tc, many_repeated_ids);
    tcase_add_test(tc, a_larger_batch_keeps_the_stored_one);
    tcase_add_test(tc, reference_gradient_finite_differences);
    tcase_add_test(tc, last_batch_by_hand);
    tcase_add_test(tc, stored_batch);
    tcase_add_test(tc, bad_input);
    suite_add_tcase(s, tc);
    return s;
}
