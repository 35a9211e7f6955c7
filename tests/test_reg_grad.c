/*
 * Feature gradients: the reference against finite differences with the plan
 * held fixed (SFR.md section 7), and the library adding into what the
 * buffers hold.
 */
#include "reg_fixture.h"

/* Central differences of the fixed-plan reference loss at a few entries of one input. */
static void fd_check(const struct sfri_ref_pair *r, double *s, double *t, double *plans,
                     int teacher)
{
    int64_t ns = r->n * r->cs * r->hs * r->ws, nt = r->n * r->ct * r->ht * r->wt;
    double *ds = malloc((size_t)ns * sizeof(double)), *dt = malloc((size_t)nt * sizeof(double));
    double loss;
    ck_assert_int_eq(sfri_ref_pair_loss(r, s, t, plans, 0, ds, dt, &loss, NULL, NULL), 0);
    double *x = teacher ? t : s, *dx = teacher ? dt : ds;
    int64_t nx = teacher ? nt : ns;
    double scale = fx_max_abs(dx, nx);
    ck_assert(scale > 0);
    const double h = 1e-5;
    for (int rep = 0; rep < 16; rep++) {
        int64_t i = (int64_t)(fx_uniform() * (double)nx);
        double keep = x[i], lp, lm;
        x[i] = keep + h;
        ck_assert_int_eq(sfri_ref_pair_loss(r, s, t, plans, 1, NULL, NULL, &lp, NULL, NULL), 0);
        x[i] = keep - h;
        ck_assert_int_eq(sfri_ref_pair_loss(r, s, t, plans, 1, NULL, NULL, &lm, NULL, NULL), 0);
        x[i] = keep;
        double fd = (lp - lm) / (2 * h);
        ck_assert_msg(fabs(fd - dx[i]) <= 1e-6 * scale,
                      "%s[%lld]: analytic %.10g, finite difference %.10g (scale %.3g)",
                      teacher ? "dt" : "ds", (long long)i, dx[i], fd, scale);
    }
    free(ds);
    free(dt);
}

START_TEST(reference_gradients_match_finite_differences)
{
    const struct fx_shape shapes[] = {
        {2, 4, 5, 5, 8, 3, 3},    /* Ct = 2 Cs, 5 -> 3 overlapping windows */
        {2, 6, 4, 4, 2, 4, 4},    /* Cs = 3 Ct */
        {1, 3, 6, 7, 3, 2, 3},    /* equal channels */
    };
    fx_seed(11);
    for (int si = 0; si < 3; si++)
        for (int norm = 0; norm < 2; norm++)
            for (int pooled = 0; pooled < 2; pooled++)
                for (int match = 0; match < 2; match++) {
                    struct fx_shape sh = shapes[si];
                    struct sfri_ref_pair r = {
                        .n = sh.n, .cs = sh.cs, .hs = sh.hs, .ws = sh.ws, .ct = sh.ct,
                        .ht = sh.ht, .wt = sh.wt, .norm = norm, .match = match,
                        .max_iter = 100, .delta = 1e-6, .eps = norm ? 0.5 : 0.05,
                        .tol = 1e-4, .beta = 1.3};
                    /* A pooled teacher (grid below its size) or its own size. */
                    r.tgh = pooled ? 2 : sh.ht;
                    r.tgw = pooled ? 2 : sh.wt;
                    r.gh = r.tgh;
                    r.gw = r.tgw;
                    int64_t ns = sh.n * sh.cs * sh.hs * sh.ws, nt = sh.n * sh.ct * sh.ht * sh.wt;
                    double *s = malloc((size_t)ns * sizeof(double));
                    double *t = malloc((size_t)nt * sizeof(double));
                    for (int64_t i = 0; i < ns; i++)
                        s[i] = fx_gauss();
                    for (int64_t i = 0; i < nt; i++)
                        t[i] = fx_gauss();
                    double *plans = malloc((size_t)(sh.n * r.gh * r.gw * r.tgh * r.tgw) *
                                           sizeof(double));
                    fd_check(&r, s, t, plans, 0);
                    fd_check(&r, s, t, plans, 1);
                    free(s);
                    free(t);
                    free(plans);
                }
}
END_TEST

START_TEST(gradients_are_added_to_the_buffers)
{
    fx_seed(12);
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TEACHER_GRAD, 1), SFR_OK);
    struct fx_pair p;
    fx_pair_make(&p, (struct fx_shape){2, 4, 6, 6, 8, 3, 3}, 1);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1.0, NULL), SFR_OK);
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    float *fresh_s = malloc((size_t)p.ns * sizeof(float));
    float *fresh_t = malloc((size_t)p.nt * sizeof(float));
    memcpy(fresh_s, p.gs, (size_t)p.ns * sizeof(float));
    memcpy(fresh_t, p.gt, (size_t)p.nt * sizeof(float));
    /* Start from other values: the result is those values plus the same gradient. */
    for (int64_t i = 0; i < p.ns; i++)
        p.gs[i] = (float)i * 0.25f;
    for (int64_t i = 0; i < p.nt; i++)
        p.gt[i] = -(float)i;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    for (int64_t i = 0; i < p.ns; i++)
        ck_assert_float_eq_tol(p.gs[i], (float)i * 0.25f + fresh_s[i], 1e-5f * (1 + (float)i));
    for (int64_t i = 0; i < p.nt; i++)
        ck_assert_float_eq_tol(p.gt[i], -(float)i + fresh_t[i], 1e-5f * (1 + (float)i));
    free(fresh_s);
    free(fresh_t);
    sfr_reg_destroy(reg);
    fx_pair_free(&p);
}
END_TEST

START_TEST(shared_teacher_and_chained_taps_accumulate)
{
    /* Two students share a teacher, and the second student is the teacher of a third
     * pair: every tap's gradient is the sum of its pairs' references. */
    fx_seed(13);
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TEACHER_GRAD, 1), SFR_OK);
    struct fx_pair p1, p2;
    fx_pair_make(&p1, (struct fx_shape){3, 4, 8, 8, 16, 4, 4}, 1);
    fx_pair_make(&p2, (struct fx_shape){3, 8, 6, 6, 16, 4, 4}, 1);
    /* p2's teacher is p1's teacher. */
    memcpy(p2.t, p1.t, (size_t)p1.nt * sizeof(float));
    int idx;
    ck_assert_int_eq(sfr_reg_add_pair(reg, p1.ts, p1.tt, 1.0, &idx), SFR_OK);
    ck_assert_int_eq(idx, 0);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p2.ts, p1.tt, 0.5, &idx), SFR_OK);
    ck_assert_int_eq(idx, 1);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p1.ts, p2.ts, 2.0, &idx), SFR_OK);
    ck_assert_int_eq(idx, 2);
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);

    double *d1s = malloc((size_t)p1.ns * sizeof(double)), *d1t = malloc((size_t)p1.nt * sizeof(double));
    double *d2s = malloc((size_t)p2.ns * sizeof(double)), *d2t = malloc((size_t)p1.nt * sizeof(double));
    double *d3s = malloc((size_t)p1.ns * sizeof(double)), *d3t = malloc((size_t)p2.ns * sizeof(double));
    double l1 = fx_ref_pair(reg, &p1, 1.0, d1s, d1t, NULL, NULL);
    double l2 = fx_ref_pair(reg, &p2, 0.5, d2s, d2t, NULL, NULL);
    /* Third pair: student p1.s, teacher p2.s. */
    struct fx_pair p3 = p1;
    p3.sh = (struct fx_shape){3, 4, 8, 8, 8, 6, 6};
    p3.t = p2.s;
    p3.nt = p2.ns;
    double l3 = fx_ref_pair(reg, &p3, 2.0, d3s, d3t, NULL, NULL);
    ck_assert_double_eq_tol(loss, l1 + l2 + l3, 1e-5 * (l1 + l2 + l3));
    for (int64_t i = 0; i < p1.ns; i++)
        d1s[i] += d3s[i];
    for (int64_t i = 0; i < p1.nt; i++)
        d1t[i] += d2t[i];
    for (int64_t i = 0; i < p2.ns; i++)
        d2s[i] += d3t[i];
    fx_assert_close(p1.gs, d1s, p1.ns, 1e-4, "p1 student");
    fx_assert_close(p1.gt, d1t, p1.nt, 1e-4, "shared teacher");
    fx_assert_close(p2.gs, d2s, p2.ns, 1e-4, "p2 student / p3 teacher");
    double pl;
    ck_assert_int_eq(sfr_reg_pair_loss(reg, 2, &pl), SFR_OK);
    ck_assert_double_eq_tol(pl, l3, 1e-5 * l3);
    free(d1s), free(d1t), free(d2s), free(d2t), free(d3s), free(d3t);
    sfr_reg_destroy(reg);
    fx_pair_free(&p1);
    fx_pair_free(&p2);
}
END_TEST

Suite *reg_grad_suite(void)
{
    Suite *s = suite_create("reg_grad");
    TCase *tc = tcase_create("gradients");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, reference_gradients_match_finite_differences);
    tcase_add_test(tc, gradients_are_added_to_the_buffers);
    tcase_add_test(tc, shared_teacher_and_chained_taps_accumulate);
    suite_add_tcase(s, tc);
    return s;
}
