/*
 * Bad input to the regularizer (SFR.md section 11): the exact status, a
 * message, and nothing written, bytewise.
 */
#include "reg_fixture.h"

START_TEST(create_destroy_and_handles)
{
    ck_assert_int_eq(sfr_reg_create(NULL), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_create: out is NULL");
    sfr_reg_destroy(NULL);
    /* A tap is not a regularizer; a dead word is reported as destroyed. */
    sfr_tap *tap;
    float x = 0;
    int64_t dims[4] = {1, 1, 1, 1};
    ck_assert_int_eq(sfr_tap_wrap(dims, &x, NULL, &tap), SFR_OK);
    double v = 7;
    ck_assert_int_eq(sfr_reg_get_param((sfr_reg *)tap, SFR_PARAM_GAMMA, &v), SFR_ERR_MISUSE);
    ck_assert(v == 7);
    uint32_t dead[64] = {SFRI_MAGIC_DEAD};
    sfr_reg *fake = (sfr_reg *)dead;
    ck_assert_int_eq(sfr_reg_set_param(fake, SFR_PARAM_GAMMA, 1), SFR_ERR_MISUSE);
    ck_assert_ptr_nonnull(strstr(sfr_last_error(), "already destroyed"));
    ck_assert_int_eq(sfr_reg_add_pair(fake, tap, tap, 1, NULL), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_set_progress(fake, 0.5), SFR_ERR_MISUSE);
    int64_t id = 0;
    ck_assert_int_eq(sfr_reg_set_sample_ids(fake, &id, 1), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_compute(fake, NULL, NULL, 0, 0, NULL, &v), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_pair_loss(fake, 0, &v), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_label_loss(fake, &v), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_pair_stats(fake, 0, NULL, NULL), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_reg_compute(NULL, NULL, NULL, 0, 0, NULL, &v), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_label_loss(NULL, &v), SFR_ERR_INVALID_ARG);
    ck_assert(v == 7);
    sfr_reg_destroy(fake);   /* not a live reg: ignored */
    ck_assert_uint_eq(dead[0], SFRI_MAGIC_DEAD);
    sfr_tap_destroy(tap);
}
END_TEST

START_TEST(add_pair_errors)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    float a[2 * 4 * 4 * 4] = {0}, g[2 * 4 * 4 * 4] = {0};
    int64_t d4[4] = {2, 4, 4, 4}, d6[4] = {2, 6, 2, 2}, dn[4] = {1, 8, 2, 2}, d8[4] = {2, 8, 2, 2};
    sfr_tap *s, *s_nograd, *t6, *tn, *t8;
    ck_assert_int_eq(sfr_tap_wrap(d4, a, g, &s), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(d4, a, NULL, &s_nograd), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(d6, a, NULL, &t6), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(dn, a, NULL, &tn), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(d8, a, NULL, &t8), SFR_OK);
    int idx = 99;
    ck_assert_int_eq(sfr_reg_add_pair(reg, NULL, t8, 1, &idx), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, NULL, 1, &idx), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, t8, -0.5, &idx), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, t8, NAN, &idx), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, t8, INFINITY, &idx), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, t8, 1e308, &idx), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, t8, nextafter(1e6, 2e6), &idx), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_add_pair: beta = 1000000.0000000001 is outside "
                                       "[0, 1e+06], the range float math carries");
    /* A map matched with itself, even with a gradient buffer. */
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, s, 1, &idx), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_add_pair: student and teacher are the same tap: "
                                       "a pair matches two different feature maps");
    ck_assert_int_eq(sfr_reg_add_pair(reg, s_nograd, t8, 1, &idx), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_add_pair: the student tap has no gradient buffer");
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, tn, 1, &idx), SFR_ERR_SHAPE);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, t6, 1, &idx), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_add_pair: teacher has 6 channels, student 4: one "
                                       "must divide the other");
    ck_assert_int_eq(idx, 99);
    /* Nothing was added: queries see no pair. */
    double v;
    ck_assert_int_eq(sfr_reg_pair_loss(reg, 0, &v), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, t8, 0, &idx), SFR_OK);
    ck_assert_int_eq(idx, 0);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, t8, 1, NULL), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, t8, 2, &idx), SFR_OK);
    ck_assert_int_eq(idx, 2);
    ck_assert_int_eq(sfr_reg_add_pair(reg, s, t8, 1e6, &idx), SFR_OK);
    sfr_reg_destroy(reg);
    sfr_tap_destroy(s), sfr_tap_destroy(s_nograd), sfr_tap_destroy(t6), sfr_tap_destroy(tn);
    sfr_tap_destroy(t8);
}
END_TEST

START_TEST(queries_before_compute_and_out_of_range)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    fx_seed(31);
    struct fx_pair p;
    fx_pair_make(&p, (struct fx_shape){2, 4, 4, 4, 8, 2, 2}, 1);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1, NULL), SFR_OK);
    double v = 5;
    int it = 5;
    ck_assert_int_eq(sfr_reg_pair_loss(reg, 0, &v), SFR_OK);
    ck_assert(v == 0);
    ck_assert_int_eq(sfr_reg_label_loss(reg, &v), SFR_OK);
    ck_assert(v == 0);
    ck_assert_int_eq(sfr_reg_pair_stats(reg, 0, &it, &v), SFR_OK);
    ck_assert(it == 0 && v == 0);
    ck_assert_int_eq(sfr_reg_pair_stats(reg, 0, NULL, NULL), SFR_OK);
    v = 5, it = 5;
    ck_assert_int_eq(sfr_reg_pair_loss(reg, 1, &v), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_pair_loss(reg, -1, &v), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_pair_stats(reg, 1, &it, &v), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_pair_loss(reg, 0, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_label_loss(reg, NULL), SFR_ERR_INVALID_ARG);
    ck_assert(v == 5 && it == 5);
    /* A pair added after a compute reads 0 until the next one. */
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &v), SFR_OK);
    ck_assert(v > 0);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1, NULL), SFR_OK);
    ck_assert_int_eq(sfr_reg_pair_loss(reg, 1, &v), SFR_OK);
    ck_assert(v == 0);
    ck_assert_int_eq(sfr_reg_pair_stats(reg, 1, &it, &v), SFR_OK);
    ck_assert(it == 0 && v == 0);
    sfr_reg_destroy(reg);
    fx_pair_free(&p);
}
END_TEST

START_TEST(set_progress_and_sample_ids_errors)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_progress(reg, -0.01), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_set_progress(reg, 1.01), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_set_progress(reg, NAN), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_set_progress(reg, INFINITY), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_set_progress(NULL, 0.5), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_set_progress(reg, 0), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_progress(reg, 1), SFR_OK);
    const int64_t good[2] = {1, 0}, bad[2] = {1, -3};
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, NULL, 2), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, good, 0), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, good, -1), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, bad, 2), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_set_sample_ids: ids[1] = -3 is negative");
    /* A rejected call keeps the ids set before it pending. */
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_SOURCE, SFR_LS_PAST), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_BANK_SIZE, 2), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, good, 2), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_sample_ids(reg, bad, 2), SFR_ERR_INVALID_ARG);
    float z[4] = {0, 1, 2, 3}, dz[4];
    int32_t y[2] = {0, 1};
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, z, y, 2, 2, dz, &loss), SFR_OK);
    sfr_reg_destroy(reg);
}
END_TEST

/*
 * A valid setup with a label term and two pairs (teacher_grad on), the
 * buffers a compute may write filled with a pattern and a first successful
 * compute done, so that every failure can be checked to leave every byte
 * and every stored value as it was.
 */
struct guard {
    sfr_reg *reg;
    struct fx_pair p1, p2;
    float z[3 * 4], dz[3 * 4];
    int32_t y[3];
    int64_t ids[3];
    double loss;
    /* Snapshots. */
    float *gs1, *gt1, *gs2, *gt2, dz0[3 * 4];
    double pl[2], ll, err[2];
    int it[2];
};

static void guard_setup(struct guard *g)
{
    fx_seed(41);
    ck_assert_int_eq(sfr_reg_create(&g->reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(g->reg, SFR_PARAM_TEACHER_GRAD, 1), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(g->reg, SFR_PARAM_LS_SOURCE, SFR_LS_PAST), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(g->reg, SFR_PARAM_LS_BANK_SIZE, 10), SFR_OK);
    fx_pair_make(&g->p1, (struct fx_shape){3, 4, 6, 6, 8, 3, 3}, 1);
    fx_pair_make(&g->p2, (struct fx_shape){3, 16, 5, 5, 8, 3, 3}, 1);
    ck_assert_int_eq(sfr_reg_add_pair(g->reg, g->p1.ts, g->p1.tt, 1, NULL), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(g->reg, g->p2.ts, g->p2.tt, 2, NULL), SFR_OK);
    for (int i = 0; i < 12; i++)
        g->z[i] = (float)fx_gauss();
    for (int i = 0; i < 3; i++) {
        g->y[i] = i;
        g->ids[i] = 2 * i;
    }
    ck_assert_int_eq(sfr_reg_set_sample_ids(g->reg, g->ids, 3), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(g->reg, g->z, g->y, 3, 4, g->dz, &g->loss), SFR_OK);
    /* Fresh ids pending for the failing calls; a distinctive pattern in every output. */
    ck_assert_int_eq(sfr_reg_set_sample_ids(g->reg, g->ids, 3), SFR_OK);
    memset(g->dz, 0xA5, sizeof g->dz);
    memcpy(g->dz0, g->dz, sizeof g->dz);
    g->loss = -12345;
    g->gs1 = malloc((size_t)g->p1.ns * sizeof(float));
    g->gt1 = malloc((size_t)g->p1.nt * sizeof(float));
    g->gs2 = malloc((size_t)g->p2.ns * sizeof(float));
    g->gt2 = malloc((size_t)g->p2.nt * sizeof(float));
    memcpy(g->gs1, g->p1.gs, (size_t)g->p1.ns * sizeof(float));
    memcpy(g->gt1, g->p1.gt, (size_t)g->p1.nt * sizeof(float));
    memcpy(g->gs2, g->p2.gs, (size_t)g->p2.ns * sizeof(float));
    memcpy(g->gt2, g->p2.gt, (size_t)g->p2.nt * sizeof(float));
    for (int p = 0; p < 2; p++) {
        ck_assert_int_eq(sfr_reg_pair_loss(g->reg, p, &g->pl[p]), SFR_OK);
        ck_assert_int_eq(sfr_reg_pair_stats(g->reg, p, &g->it[p], &g->err[p]), SFR_OK);
    }
    ck_assert_int_eq(sfr_reg_label_loss(g->reg, &g->ll), SFR_OK);
}

/* Nothing the compute could write has changed, and the state still works. */
static void guard_check(struct guard *g)
{
    ck_assert(g->loss == -12345);
    ck_assert(memcmp(g->dz, g->dz0, sizeof g->dz) == 0);
    ck_assert(memcmp(g->gs1, g->p1.gs, (size_t)g->p1.ns * sizeof(float)) == 0);
    ck_assert(memcmp(g->gt1, g->p1.gt, (size_t)g->p1.nt * sizeof(float)) == 0);
    ck_assert(memcmp(g->gs2, g->p2.gs, (size_t)g->p2.ns * sizeof(float)) == 0);
    ck_assert(memcmp(g->gt2, g->p2.gt, (size_t)g->p2.nt * sizeof(float)) == 0);
    for (int p = 0; p < 2; p++) {
        double v, e;
        int it;
        ck_assert_int_eq(sfr_reg_pair_loss(g->reg, p, &v), SFR_OK);
        ck_assert_int_eq(sfr_reg_pair_stats(g->reg, p, &it, &e), SFR_OK);
        ck_assert(memcmp(&v, &g->pl[p], sizeof v) == 0 && it == g->it[p] &&
                  memcmp(&e, &g->err[p], sizeof e) == 0);
    }
    double ll;
    ck_assert_int_eq(sfr_reg_label_loss(g->reg, &ll), SFR_OK);
    ck_assert(memcmp(&ll, &g->ll, sizeof ll) == 0);
    ck_assert(strncmp(sfr_last_error(), "sfr_reg_compute: ", 17) == 0);
}

static void guard_teardown(struct guard *g)
{
    sfr_reg_destroy(g->reg);
    fx_pair_free(&g->p1);
    fx_pair_free(&g->p2);
    free(g->gs1), free(g->gt1), free(g->gs2), free(g->gt2);
}

#define EXPECT_FAIL(g, code, z, y, n, k, dz, loss)                                        \
    do {                                                                                  \
        ck_assert_int_eq(sfr_reg_compute((g)->reg, z, y, n, k, dz, loss), code);          \
        guard_check(g);                                                                   \
    } while (0)

START_TEST(compute_argument_errors_write_nothing)
{
    struct guard g;
    guard_setup(&g);
    int32_t bad_y[3] = {0, 4, 1}, neg_y[3] = {0, -1, 1};
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, g.y, 3, 4, g.dz, NULL);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, NULL, g.y, 3, 4, g.dz, &g.loss);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, g.y, 0, 4, g.dz, &g.loss);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, g.y, 3, 0, g.dz, &g.loss);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, NULL, 3, 4, g.dz, &g.loss);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, g.y, 3, 4, NULL, &g.loss);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, bad_y, 3, 4, g.dz, &g.loss);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, neg_y, 3, 4, g.dz, &g.loss);
    EXPECT_FAIL(&g, SFR_ERR_SHAPE, g.z, g.y, 2, 4, g.dz, &g.loss);   /* n != tap N */
    /* dlogits on the logits, wholly or from either side in part; z kept intact. */
    float z0[3 * 4];
    memcpy(z0, g.z, sizeof z0);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, g.y, 3, 4, g.z, &g.loss);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_compute: dlogits overlaps logits: the gradient "
                                       "needs its own buffer");
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, g.y, 2, 4, g.z + 7, &g.loss);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z + 7, g.y, 2, 4, g.z, &g.loss);
    ck_assert(memcmp(z0, g.z, sizeof z0) == 0);
    g.z[5] = NAN;
    EXPECT_FAIL(&g, SFR_ERR_NONFINITE, g.z, g.y, 3, 4, g.dz, &g.loss);
    g.z[5] = -INFINITY;
    EXPECT_FAIL(&g, SFR_ERR_NONFINITE, g.z, g.y, 3, 4, g.dz, &g.loss);
    g.z[5] = 0;
    /* The label-free form still validates the pairs, and works. */
    ck_assert_int_eq(sfr_reg_compute(g.reg, g.z, g.y, 3, 4, g.dz, &g.loss), SFR_OK);
    guard_teardown(&g);
}
END_TEST

START_TEST(compute_feature_errors_write_nothing)
{
    struct guard g;
    guard_setup(&g);
    /* Non-finite values in a student (last element) and in a teacher (first). */
    float keep = g.p2.s[g.p2.ns - 1];
    g.p2.s[g.p2.ns - 1] = NAN;
    EXPECT_FAIL(&g, SFR_ERR_NONFINITE, g.z, g.y, 3, 4, g.dz, &g.loss);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_compute: pair 1: the student feature map holds "
                                       "NaN or infinity");
    g.p2.s[g.p2.ns - 1] = keep;
    keep = g.p1.t[0];
    g.p1.t[0] = INFINITY;
    EXPECT_FAIL(&g, SFR_ERR_NONFINITE, g.z, g.y, 3, 4, g.dz, &g.loss);
    g.p1.t[0] = keep;
    /* Grids that do not fit: teacher grid 4 > 3, student grid 6 > 5 of pair 1. */
    ck_assert_int_eq(sfr_reg_set_param(g.reg, SFR_PARAM_TEACHER_GRID_H, 4), SFR_OK);
    EXPECT_FAIL(&g, SFR_ERR_SHAPE, g.z, g.y, 3, 4, g.dz, &g.loss);
    ck_assert_int_eq(sfr_reg_set_param(g.reg, SFR_PARAM_TEACHER_GRID_H, 0), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(g.reg, SFR_PARAM_GRID_W, 6), SFR_OK);
    EXPECT_FAIL(&g, SFR_ERR_SHAPE, g.z, g.y, 3, 4, g.dz, &g.loss);
    /* l2 with different grids (student 3x2, teacher 3x3). */
    ck_assert_int_eq(sfr_reg_set_param(g.reg, SFR_PARAM_GRID_W, 2), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(g.reg, SFR_PARAM_MATCH, SFR_MATCH_L2), SFR_OK);
    EXPECT_FAIL(&g, SFR_ERR_SHAPE, g.z, g.y, 3, 4, g.dz, &g.loss);
    ck_assert_int_eq(sfr_reg_set_param(g.reg, SFR_PARAM_MATCH, SFR_MATCH_EMD), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(g.reg, SFR_PARAM_GRID_W, 0), SFR_OK);
    /* teacher_grad = 1 with a teacher without gradient buffer; a student rebound without. */
    ck_assert_int_eq(sfr_tap_rebind(g.p2.tt, g.p2.t, NULL), SFR_OK);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, g.y, 3, 4, g.dz, &g.loss);
    ck_assert_int_eq(sfr_tap_rebind(g.p2.tt, g.p2.t, g.p2.gt), SFR_OK);
    ck_assert_int_eq(sfr_tap_rebind(g.p1.ts, g.p1.s, NULL), SFR_OK);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, g.y, 3, 4, g.dz, &g.loss);
    ck_assert_int_eq(sfr_tap_rebind(g.p1.ts, g.p1.s, g.p1.gs), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(g.reg, g.z, g.y, 3, 4, g.dz, &g.loss), SFR_OK);
    guard_teardown(&g);
}
END_TEST

/* The stub net's tap: it holds an output once the stub's phase says a forward ran. */
static int stub_has_output(const sfr_tap *tap)
{
    return tap->owner->phase == SFRI_PHASE_TRAINED || tap->owner->phase == SFRI_PHASE_EVALUATED;
}

static sfr_status stub_prepare_read(sfr_tap *tap, const char *func)
{
    (void)tap, (void)func;
    return SFR_OK;
}

static const struct sfri_tap_owner_ops stub_net_tap_ops = {stub_has_output, stub_prepare_read};

START_TEST(compute_state_and_tap_errors_write_nothing)
{
    struct guard g;
    guard_setup(&g);
    /* Taps of different N across pairs (a net recompiled for another batch). */
    g.p2.ts->dims[0] = 2;
    g.p2.tt->dims[0] = 2;
    EXPECT_FAIL(&g, SFR_ERR_SHAPE, g.z, g.y, 3, 4, g.dz, &g.loss);
    g.p2.ts->dims[0] = 3;
    EXPECT_FAIL(&g, SFR_ERR_SHAPE, g.z, g.y, 3, 4, g.dz, &g.loss);
    g.p2.tt->dims[0] = 3;
    /* Channels that no longer divide. */
    g.p2.ts->dims[1] = 12;
    EXPECT_FAIL(&g, SFR_ERR_SHAPE, g.z, g.y, 3, 4, g.dz, &g.loss);
    g.p2.ts->dims[1] = 16;
    /* A net's tap not compiled yet (its owner's answers are the stub net's phase). */
    struct sfr_net *net = fx_forwarded_net();
    sfr_tap *owned = sfri_tap_new_owned(net, 7);
    ck_assert_ptr_nonnull(owned);
    owned->ops = &stub_net_tap_ops;
    ck_assert_int_eq(sfr_reg_add_pair(g.reg, owned, g.p1.tt, 1, NULL), SFR_OK);
    EXPECT_FAIL(&g, SFR_ERR_STATE, g.z, g.y, 3, 4, g.dz, &g.loss);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_compute: pair 2: the student tap (layer 7) has "
                                       "no buffers: compile its net first");
    /* "Compile" it: its buffers hold no output until a forward has run. */
    owned->dims[0] = 3, owned->dims[1] = 4, owned->dims[2] = 6, owned->dims[3] = 6;
    owned->data = g.p1.s;
    owned->grad = g.p1.gs;
    net->phase = SFRI_PHASE_COMPILED;
    EXPECT_FAIL(&g, SFR_ERR_STATE, g.z, g.y, 3, 4, g.dz, &g.loss);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_compute: pair 2: the student tap (layer 7) holds "
                                       "no output: no forward since its net was compiled");
    /* After a forward the same compute succeeds. */
    net->phase = SFRI_PHASE_TRAINED;
    ck_assert_int_eq(sfr_reg_compute(g.reg, g.z, g.y, 3, 4, g.dz, &g.loss), SFR_OK);
    sfri_tap_free_owned(owned);
    guard_teardown(&g);
}
END_TEST

START_TEST(compute_past_errors_write_nothing)
{
    struct guard g;
    guard_setup(&g);
    /* Ids out of the bank, then the wrong count, then none pending. */
    const int64_t big[3] = {0, 10, 1}, two[2] = {0, 1};
    ck_assert_int_eq(sfr_reg_set_sample_ids(g.reg, big, 3), SFR_OK);
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, g.z, g.y, 3, 4, g.dz, &g.loss);
    ck_assert_int_eq(sfr_reg_set_sample_ids(g.reg, two, 2), SFR_OK);
    EXPECT_FAIL(&g, SFR_ERR_SHAPE, g.z, g.y, 3, 4, g.dz, &g.loss);
    ck_assert_int_eq(sfr_reg_set_sample_ids(g.reg, g.ids, 3), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(g.reg, g.z, g.y, 3, 4, g.dz, &g.loss), SFR_OK);
    g.loss = -12345;
    memcpy(g.dz, g.dz0, sizeof g.dz);
    memcpy(g.gs1, g.p1.gs, (size_t)g.p1.ns * sizeof(float));
    memcpy(g.gt1, g.p1.gt, (size_t)g.p1.nt * sizeof(float));
    memcpy(g.gs2, g.p2.gs, (size_t)g.p2.ns * sizeof(float));
    memcpy(g.gt2, g.p2.gt, (size_t)g.p2.nt * sizeof(float));
    for (int p = 0; p < 2; p++) {
        ck_assert_int_eq(sfr_reg_pair_loss(g.reg, p, &g.pl[p]), SFR_OK);
        ck_assert_int_eq(sfr_reg_pair_stats(g.reg, p, &g.it[p], &g.err[p]), SFR_OK);
    }
    ck_assert_int_eq(sfr_reg_label_loss(g.reg, &g.ll), SFR_OK);
    EXPECT_FAIL(&g, SFR_ERR_STATE, g.z, g.y, 3, 4, g.dz, &g.loss);
    /* logits NULL with k != 0. */
    EXPECT_FAIL(&g, SFR_ERR_INVALID_ARG, NULL, NULL, 0, 4, NULL, &g.loss);
    guard_teardown(&g);
}
END_TEST

/*
 * The safety net under the parameter bounds: values the bounds refuse,
 * written past the setter as if a bound had missed them, made NaN or
 * infinite results with SFR_OK; now the compute refuses them and writes
 * nothing.
 */
START_TEST(non_finite_results_are_refused_writing_nothing)
{
    struct guard g;
    guard_setup(&g);
    double *prm = g.reg->param;
    prm[SFRI_P_SINKHORN_EPS] = 1e-310;
    EXPECT_FAIL(&g, SFR_ERR_NONFINITE, g.z, g.y, 3, 4, g.dz, &g.loss);
    ck_assert(strstr(sfr_last_error(), "is not finite in float") != NULL);
    prm[SFRI_P_SINKHORN_EPS] = 0.05;
    prm[SFRI_P_GAMMA] = 1e300;
    EXPECT_FAIL(&g, SFR_ERR_NONFINITE, g.z, g.y, 3, 4, g.dz, &g.loss);
    prm[SFRI_P_GAMMA] = 1;
    prm[SFRI_P_LS_SOURCE] = SFR_LS_SELF;
    prm[SFRI_P_LS_TEMPERATURE] = 1e-310;
    EXPECT_FAIL(&g, SFR_ERR_NONFINITE, g.z, g.y, 3, 4, g.dz, &g.loss);
    prm[SFRI_P_LS_TEMPERATURE] = 4;
    prm[SFRI_P_LS_SOURCE] = SFR_LS_PAST;
    g.reg->pairs[1].beta = 1e308;
    EXPECT_FAIL(&g, SFR_ERR_NONFINITE, g.z, g.y, 3, 4, g.dz, &g.loss);
    g.reg->pairs[1].beta = 2;
    /* A finite loss with infinite gradients: a zero local feature under a
     * tiny delta (its gradient is divided by sqrt(delta)). */
    float *s0 = malloc((size_t)g.p1.ns / 3 * sizeof(float));
    memcpy(s0, g.p1.s, (size_t)g.p1.ns / 3 * sizeof(float));
    memset(g.p1.s, 0, (size_t)g.p1.ns / 3 * sizeof(float));
    prm[SFRI_P_DELTA] = 1e-320;
    EXPECT_FAIL(&g, SFR_ERR_NONFINITE, g.z, g.y, 3, 4, g.dz, &g.loss);
    prm[SFRI_P_DELTA] = 1e-6;
    memcpy(g.p1.s, s0, (size_t)g.p1.ns / 3 * sizeof(float));
    free(s0);
    /* Pending ids stayed pending: the same compute now succeeds. */
    ck_assert_int_eq(sfr_reg_compute(g.reg, g.z, g.y, 3, 4, g.dz, &g.loss), SFR_OK);
    guard_teardown(&g);
}
END_TEST

Suite *reg_errors_suite(void)
{
    Suite *s = suite_create("reg_errors");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, create_destroy_and_handles);
    tcase_add_test(tc, add_pair_errors);
    tcase_add_test(tc, queries_before_compute_and_out_of_range);
    tcase_add_test(tc, set_progress_and_sample_ids_errors);
    tcase_add_test(tc, compute_argument_errors_write_nothing);
    tcase_add_test(tc, compute_feature_errors_write_nothing);
    tcase_add_test(tc, compute_state_and_tap_errors_write_nothing);
    tcase_add_test(tc, compute_past_errors_write_nothing);
    tcase_add_test(tc, non_finite_results_are_refused_writing_nothing);
    suite_add_tcase(s, tc);
    return s;
}
