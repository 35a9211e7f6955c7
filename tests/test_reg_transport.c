/*
 * The transport options of 0.2 (docs/sfr.md, "Matching"): epsilon scaling
 * and relative eps against the reference, the debiased divergence against
 * its definition from three reference transports, the count of solves that
 * stop at max_iter, and their bad inputs.
 */
#include "reg_fixture.h"

START_TEST(scaled_sinkhorn_matches_reference)
{
    const double scalings[] = {0.5, 0.8, 0.1};
    const double eps_list[] = {0.05, 0.01, 0.003};   /* the last takes the log-domain path */
    const int64_t sizes[][2] = {{16, 16}, {4, 9}, {25, 16}};
    fx_seed(60);
    for (int si = 0; si < 3; si++)
        for (int e = 0; e < 3; e++)
            for (int z = 0; z < 3; z++) {
                int64_t a = sizes[z][0], b = sizes[z][1];
                double cost[400], plan[400], want[400], scratch[2 * 400 + 10 * 25];
                fx_random_cost(cost, a * b, 4.0);
                int it, wit;
                double err, werr;
                sfri_sinkhorn(cost, a, b, eps_list[e], scalings[si], 2000, 1e-7, plan, &it, &err,
                              scratch);
                ck_assert_int_eq(sfri_ref_sinkhorn(cost, a, b, eps_list[e], scalings[si], 2000,
                                                   1e-7, want, &wit, &werr), 0);
                ck_assert_int_eq(it, wit);
                ck_assert_double_eq_tol(err, werr, 1e-9);
                for (int64_t i = 0; i < a * b; i++)
                    ck_assert_double_eq_tol(plan[i], want[i], 1e-9);
            }
}
END_TEST

/* On hard problems (eps small next to the cost) epsilon scaling converges in fewer
 * iterations; on random costs, whose plans are full of near-ties, by about a quarter. */
START_TEST(scaling_needs_fewer_iterations)
{
    fx_seed(61);
    int plain_total = 0, scaled_total = 0;
    for (int rep = 0; rep < 8; rep++) {
        double cost[256], plan[256], scratch[2 * 256 + 10 * 16];
        fx_random_cost(cost, 256, 2.0);
        int it;
        double err;
        sfri_sinkhorn(cost, 16, 16, 0.01, 0, 100000, 1e-4, plan, &it, &err, scratch);
        plain_total += it;
        sfri_sinkhorn(cost, 16, 16, 0.01, 0.5, 100000, 1e-4, plan, &it, &err, scratch);
        scaled_total += it;
        ck_assert(err < 1e-4);
    }
    ck_assert_msg(scaled_total < plain_total, "iterations: scaled %d, plain %d",
                  scaled_total, plain_total);
}
END_TEST

/* max_iter 1 leaves no room for scaling rounds: the one iteration is made at eps. */
START_TEST(scaling_keeps_last_iteration_at_eps)
{
    double cost[4] = {0, 1, 1, 0}, plan[4], scratch[2 * 4 + 10 * 2];
    int it;
    double err;
    sfri_sinkhorn(cost, 2, 2, 0.5, 0.5, 1, 0, plan, &it, &err, scratch);
    ck_assert_int_eq(it, 1);
    /* From g = 0 one iteration at eps 0.5 gives K / sum K exactly (two_cells_known_plan). */
    double k = exp(-2.0);
    ck_assert_double_eq_tol(plan[1], k / (2 * (1 + k)), 1e-12);
}
END_TEST

/* The whole pair under the 0.2 defaults (relative eps, scaling) against the reference. */
START_TEST(pair_with_new_transport_matches_reference)
{
    fx_seed(62);
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    struct fx_pair p;
    fx_pair_make(&p, (struct fx_shape){5, 8, 12, 12, 16, 4, 4}, 1);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1.5, NULL), SFR_OK);
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    double *ds = malloc((size_t)p.ns * sizeof *ds);
    ck_assert_ptr_nonnull(ds);
    int it, got_it;
    double err, got_err;
    double want = fx_ref_pair(reg, &p, 1.5, ds, NULL, &it, &err);
    ck_assert_double_eq_tol(loss, want, 1e-6 * want);
    fx_assert_close(p.gs, ds, p.ns, 1e-5, "student gradient");
    ck_assert_int_eq(sfr_reg_pair_stats(reg, 0, &got_it, &got_err), SFR_OK);
    ck_assert_int_eq(got_it, it);
    free(ds);
    fx_pair_free(&p);
    sfr_reg_destroy(reg);
}
END_TEST

/* S(x, y) = OT(x, y) - OT(x, x)/2 - OT(y, y)/2, each OT the reference's, plans fixed. */
START_TEST(debiased_divergence_matches_definition)
{
    for (int teacher_grad = 0; teacher_grad < 2; teacher_grad++) {
        fx_seed(63 + (uint64_t)teacher_grad);
        sfr_reg *reg;
        ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_DEBIAS, 1), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TEACHER_GRAD, teacher_grad), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TOL, 1e-8), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_MAX_ITER, 5000), SFR_OK);
        struct fx_pair p;
        const struct fx_shape sh = {4, 8, 9, 9, 8, 3, 3};
        fx_pair_make(&p, sh, 1);
        const double beta = 2.0;
        ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, beta, NULL), SFR_OK);
        double loss;
        ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);

        /* The three reference problems: (s, t), (s, s) on the student grid, (t, t). */
        struct sfri_ref_pair xy = fx_ref_problem(reg, sh, beta);
        struct sfri_ref_pair xx = xy, yy = xy;
        xx.ct = sh.cs, xx.ht = sh.hs, xx.wt = sh.ws, xx.tgh = xy.gh, xx.tgw = xy.gw;
        yy.cs = sh.ct, yy.hs = sh.ht, yy.ws = sh.wt, yy.gh = xy.tgh, yy.gw = xy.tgw;
        double *s = fx_to_double(p.s, p.ns), *t = fx_to_double(p.t, p.nt);
        double *plans = malloc(sizeof(double) * 4 * 81 * 81);
        double *g1 = calloc((size_t)p.ns, sizeof *g1), *g2 = calloc((size_t)p.ns, sizeof *g2);
        double *g3 = calloc((size_t)p.ns, sizeof *g3), *t1 = calloc((size_t)p.nt, sizeof *t1);
        double *t2 = calloc((size_t)p.nt, sizeof *t2), *t3 = calloc((size_t)p.nt, sizeof *t3);
        ck_assert(plans && g1 && g2 && g3 && t1 && t2 && t3);
        double lxy, lxx, lyy;
        ck_assert_int_eq(sfri_ref_pair_loss(&xy, s, t, plans, 0, g1, t1, &lxy, NULL, NULL), 0);
        ck_assert_int_eq(sfri_ref_pair_loss(&xx, s, s, plans, 0, g2, g3, &lxx, NULL, NULL), 0);
        ck_assert_int_eq(sfri_ref_pair_loss(&yy, t, t, plans, 0, t2, t3, &lyy, NULL, NULL), 0);
        double want = lxy - 0.5 * lxx - 0.5 * lyy;
        ck_assert_msg(fabs(loss - want) <= 1e-6 * fabs(lxy), "loss %.9g, definition %.9g",
                      loss, want);
        for (int64_t i = 0; i < p.ns; i++)
            g1[i] -= 0.5 * (g2[i] + g3[i]);
        fx_assert_close(p.gs, g1, p.ns, 1e-5, "debiased student gradient");
        if (teacher_grad) {
            for (int64_t i = 0; i < p.nt; i++)
                t1[i] -= 0.5 * (t2[i] + t3[i]);
            fx_assert_close(p.gt, t1, p.nt, 1e-5, "debiased teacher gradient");
        }
        int64_t solves, capped;
        ck_assert_int_eq(sfr_reg_pair_solves(reg, 0, &solves, &capped), SFR_OK);
        ck_assert_int_eq(solves, 3 * sh.n);
        ck_assert(capped >= 0 && capped <= solves);
        free(s), free(t), free(plans), free(g1), free(g2), free(g3), free(t1), free(t2), free(t3);
        fx_pair_free(&p);
        sfr_reg_destroy(reg);
    }
}
END_TEST

/* Equal sets of local features: the debiased divergence is 0 where the raw cost is not. */
START_TEST(debiased_divergence_zero_at_equal_features)
{
    fx_seed(65);
    struct fx_pair p;
    fx_pair_make(&p, (struct fx_shape){3, 8, 4, 4, 8, 4, 4}, 1);
    memcpy(p.t, p.s, (size_t)p.ns * sizeof *p.s);
    double raw = 0, debiased = 0;
    for (int debias = 0; debias < 2; debias++) {
        sfr_reg *reg;
        ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_DEBIAS, debias), SFR_OK);
        /* A large eps blurs the plan: the raw entropic cost of equal sets is well above 0. */
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_SINKHORN_EPS, 1.0), SFR_OK);
        ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1.0, NULL), SFR_OK);
        ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, debias ? &debiased : &raw),
                         SFR_OK);
        sfr_reg_destroy(reg);
    }
    ck_assert(raw > 1e-3);
    ck_assert_double_eq_tol(debiased, 0, 1e-9);
    fx_pair_free(&p);
}
END_TEST

START_TEST(solves_count_capped)
{
    fx_seed(66);
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    struct fx_pair p;
    fx_pair_make(&p, (struct fx_shape){7, 4, 8, 8, 8, 4, 4}, 1);
    int index;
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1.0, &index), SFR_OK);
    int64_t solves = -1, capped = -1;
    ck_assert_int_eq(sfr_reg_pair_solves(reg, index, &solves, &capped), SFR_OK);
    ck_assert(solves == 0 && capped == 0);
    double loss;
    /* tol 0 is never reached: every solve stops at max_iter. */
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TOL, 0), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_MAX_ITER, 3), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_pair_solves(reg, index, &solves, &capped), SFR_OK);
    ck_assert(solves == 7 && capped == 7);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TOL, 1e-4), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_MAX_ITER, 1000), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_pair_solves(reg, index, NULL, &capped), SFR_OK);
    ck_assert_int_eq(capped, 0);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_MATCH, SFR_MATCH_L2), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GRID_H, 4), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GRID_W, 4), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_pair_solves(reg, index, &solves, &capped), SFR_OK);
    ck_assert(solves == 0 && capped == 0);
    solves = capped = 5;
    ck_assert_int_eq(sfr_reg_pair_solves(reg, 1, &solves, &capped), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_pair_solves(reg, -1, &solves, &capped), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_pair_solves(NULL, 0, &solves, &capped), SFR_ERR_INVALID_ARG);
    ck_assert(solves == 5 && capped == 5);
    fx_pair_free(&p);
    sfr_reg_destroy(reg);
}
END_TEST

START_TEST(debias_bad_input_writes_nothing)
{
    fx_seed(67);
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    struct fx_pair p;
    fx_pair_make(&p, (struct fx_shape){2, 4, 8, 8, 8, 4, 4}, 1);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1.0, NULL), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_DEBIAS, 1), SFR_OK);
    double loss = 42;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_ERR_SHAPE);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_compute: pair 0: debias compares features of "
                                       "equal width, student 4 channels, teacher 8 (an adapter "
                                       "can map one to the other)");
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_MATCH, SFR_MATCH_L2), SFR_OK);
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_ERR_INVALID_ARG);
    ck_assert(loss == 42);
    for (int64_t i = 0; i < p.ns; i++)
        ck_assert(p.gs[i] == 0);
    fx_pair_free(&p);
    sfr_reg_destroy(reg);
}
END_TEST

Suite *reg_transport_suite(void)
{
    Suite *s = suite_create("reg_transport");
    TCase *tc = tcase_create("transport");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, scaled_sinkhorn_matches_reference);
    tcase_add_test(tc, scaling_needs_fewer_iterations);
    tcase_add_test(tc, scaling_keeps_last_iteration_at_eps);
    tcase_add_test(tc, pair_with_new_transport_matches_reference);
    tcase_add_test(tc, debiased_divergence_matches_definition);
    tcase_add_test(tc, debiased_divergence_zero_at_equal_features);
    tcase_add_test(tc, solves_count_capped);
    tcase_add_test(tc, debias_bad_input_writes_nothing);
    suite_add_tcase(s, tc);
    return s;
}
