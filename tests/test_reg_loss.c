/* SFR feature losses: hand-worked cases, fast kernels against the reference. */
#include <float.h>

#include "reg_fixture.h"

START_TEST(pool_windows_overlap_when_size_does_not_divide)
{
    int64_t win[8];
    sfri_pool_windows(7, 4, win);
    const int64_t want[8] = {0, 2, 1, 4, 3, 6, 5, 7};
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(win[i], want[i]);
    sfri_pool_windows(28, 4, win);
    const int64_t even[8] = {0, 7, 7, 14, 14, 21, 21, 28};
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(win[i], even[i]);
}
END_TEST

START_TEST(reference_pool_by_hand)
{
    /* 3x3 -> 2x2: windows [0,2) and [1,3) on both axes, the middle row/column shared. */
    const double in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    double out[4];
    sfri_ref_pool(in, 1, 3, 3, 2, 2, out);
    ck_assert_double_eq_tol(out[0], (1 + 2 + 4 + 5) / 4.0, 1e-15);
    ck_assert_double_eq_tol(out[1], (2 + 3 + 5 + 6) / 4.0, 1e-15);
    ck_assert_double_eq_tol(out[2], (4 + 5 + 7 + 8) / 4.0, 1e-15);
    ck_assert_double_eq_tol(out[3], (5 + 6 + 8 + 9) / 4.0, 1e-15);
    double din[9] = {0};
    const double dout[4] = {4, 8, 12, 16};
    sfri_ref_pool_backward(dout, 1, 3, 3, 2, 2, din);
    /* The centre belongs to all four cells: (4 + 8 + 12 + 16) / 4. */
    ck_assert_double_eq_tol(din[4], 10, 1e-15);
    ck_assert_double_eq_tol(din[0], 1, 1e-15);
    ck_assert_double_eq_tol(din[1], 3, 1e-15);
}
END_TEST

START_TEST(fast_pool_normalize_matches_reference)
{
    const int64_t shapes[][5] = {{3, 7, 7, 4, 4}, {5, 28, 28, 4, 4}, {2, 14, 9, 4, 3},
                                 {4, 5, 6, 5, 6}, {3, 8, 8, 1, 1}};
    fx_seed(1);
    for (int sidx = 0; sidx < 5; sidx++) {
        int64_t c = shapes[sidx][0], h = shapes[sidx][1], w = shapes[sidx][2];
        int64_t gh = shapes[sidx][3], gw = shapes[sidx][4], a = gh * gw;
        for (int norm = 0; norm < 2; norm++) {
            float *in = malloc((size_t)(c * h * w) * sizeof(float));
            fx_fill(in, c * h * w, 0);
            double *ind = fx_to_double(in, c * h * w);
            int64_t wh[2 * 32], ww[2 * 32];
            sfri_pool_windows(h, gh, wh);
            sfri_pool_windows(w, gw, ww);
            struct sfri_pool_geom geo = {c, h, w, gh, gw, wh, ww};
            double *out = malloc((size_t)(a * c) * sizeof(double)), r[64], row[64];
            double *want = malloc((size_t)(a * c) * sizeof(double));
            ck_assert_int_eq(sfri_pool_normalize(&geo, in, norm, 1e-6, out, r, row), 0);
            sfri_ref_pool(ind, c, h, w, gh, gw, want);
            for (int64_t i = 0; i < a; i++) {
                double ss = 0;
                for (int64_t j = 0; j < c; j++)
                    ss += want[i * c + j] * want[i * c + j];
                double rr = norm == SFR_NORM_RMS ? sqrt(ss / (double)c + 1e-6) : 1;
                /* Windows are summed in float: about 7 significant digits. */
                ck_assert_double_eq_tol(r[i], rr, 1e-6 * rr);
                for (int64_t j = 0; j < c; j++)
                    ck_assert_double_eq_tol(out[i * c + j], want[i * c + j] / rr, 1e-6);
            }
            /* A NaN anywhere is caught. */
            in[c * h * w - 1] = NAN;
            ck_assert_int_eq(sfri_pool_normalize(&geo, in, norm, 1e-6, out, r, row), -1);
            in[c * h * w - 1] = 0;
            in[0] = -INFINITY;
            ck_assert_int_eq(sfri_pool_normalize(&geo, in, norm, 1e-6, out, r, row), -1);
            free(in);
            free(ind);
            free(out);
            free(want);
        }
    }
}
END_TEST

/*
 * Shapes that take every branch of the fast pooling and its gradient: evenly
 * divided windows (28 -> 4, 32 -> 4), overlapping ones (7 -> 4, 14 -> 4, 9 ->
 * 2), grid 1, grid = input size on a small plane with channels past a
 * multiple of 8 (11) and on a plane too large for the lanes (17 x 16), and
 * widths that use every vector chunk (4, 8, 16 and single columns). Planes of at most 256 elements take the path with 8
 * channels in vector lanes: with full and partial channel blocks (16, 11),
 * with and without positions past a multiple of 8 (8 x 8, 7 x 7).
 */
static const int64_t branch_shapes[][5] = {
    {2, 28, 28, 4, 4}, {3, 32, 32, 4, 4}, {11, 7, 7, 4, 4}, {4, 14, 14, 4, 4}, {3, 9, 13, 2, 5},
    {5, 6, 6, 1, 1},   {11, 4, 4, 4, 4},  {17, 3, 5, 3, 5}, {2, 5, 31, 2, 3},  {3, 1, 20, 1, 6},
    {16, 8, 8, 3, 3},  {9, 16, 16, 5, 5}, {3, 17, 16, 17, 16},
};

START_TEST(fast_pool_gradient_matches_reference_on_every_branch)
{
    fx_seed(21);
    for (size_t si = 0; si < sizeof branch_shapes / sizeof branch_shapes[0]; si++) {
        int64_t c = branch_shapes[si][0], h = branch_shapes[si][1], w = branch_shapes[si][2];
        int64_t gh = branch_shapes[si][3], gw = branch_shapes[si][4], a = gh * gw, n = c * h * w;
        int64_t wh[2 * 32], ww[2 * 32];
        sfri_pool_windows(h, gh, wh);
        sfri_pool_windows(w, gw, ww);
        struct sfri_pool_geom geo = {c, h, w, gh, gw, wh, ww};
        for (int norm = 0; norm < 2; norm++) {
            /* Forward, for the normalized features and their rms. */
            float *in = malloc((size_t)n * sizeof(float));
            fx_fill(in, n, 1);
            double *feat = malloc((size_t)(a * c) * sizeof(double)), r[512];
            double *buf = malloc((sfri_pool_backward_scratch(w, gh, gw) +
                                  sfri_pool_scratch(w, gh, gw)) * sizeof(double));
            ck_assert_int_eq(sfri_pool_normalize(&geo, in, norm, 1e-6, feat, r, buf), 0);
            double *want = fx_to_double(in, n);
            double *pooled = malloc((size_t)(a * c) * sizeof(double));
            sfri_ref_pool(want, c, h, w, gh, gw, pooled);
            for (int64_t i = 0; i < a * c; i++)
                ck_assert_double_eq_tol(feat[i] * r[i / c], pooled[i], 1e-6);
            /* Backward into a gradient that already holds values. */
            double *dout = malloc((size_t)(a * c) * sizeof(double));
            double *dpool = malloc((size_t)(a * c) * sizeof(double));
            for (int64_t i = 0; i < a * c; i++)
                dout[i] = fx_gauss();
            /* The reference: through rms by its formula, then the reference pooling transpose. */
            for (int64_t k = 0; k < a; k++) {
                double dot = 0;
                for (int64_t j = 0; j < c; j++)
                    dot += feat[k * c + j] * dout[k * c + j];
                for (int64_t j = 0; j < c; j++)
                    dpool[k * c + j] = norm == SFR_NORM_RMS
                                           ? dout[k * c + j] / r[k] -
                                                 feat[k * c + j] * dot / ((double)c * r[k])
                                           : dout[k * c + j];
            }
            float *grad = malloc((size_t)n * sizeof(float));
            for (int64_t i = 0; i < n; i++) {
                grad[i] = (float)(i % 7) - 3;
                want[i] = grad[i];
            }
            sfri_ref_pool_backward(dpool, c, h, w, gh, gw, want);
            sfri_pool_normalize_backward(&geo, dout, feat, r, norm, grad, buf);
            fx_assert_close(grad, want, n, 1e-6, "pool gradient");
            free(in);
            free(feat);
            free(buf);
            free(want);
            free(pooled);
            free(dout);
            free(dpool);
            free(grad);
        }
    }
}
END_TEST

START_TEST(fast_pool_huge_finite_values_are_finite_and_nan_inf_are_not)
{
    /* Windows full of values near FLT_MAX sum past FLT_MAX: still finite features. */
    for (size_t si = 0; si < sizeof branch_shapes / sizeof branch_shapes[0]; si++) {
        int64_t c = branch_shapes[si][0], h = branch_shapes[si][1], w = branch_shapes[si][2];
        int64_t gh = branch_shapes[si][3], gw = branch_shapes[si][4], a = gh * gw, n = c * h * w;
        int64_t wh[2 * 32], ww[2 * 32];
        sfri_pool_windows(h, gh, wh);
        sfri_pool_windows(w, gw, ww);
        struct sfri_pool_geom geo = {c, h, w, gh, gw, wh, ww};
        float *in = malloc((size_t)n * sizeof(float));
        double *out = malloc((size_t)(a * c) * sizeof(double)), r[512], buf[256];
        for (int64_t i = 0; i < n; i++)
            in[i] = i % 3 == 2 ? -FLT_MAX : FLT_MAX;
        for (int norm = 0; norm < 2; norm++) {
            ck_assert_int_eq(sfri_pool_normalize(&geo, in, norm, 1e-6, out, r, buf), 0);
            for (int64_t i = 0; i < a * c; i++)
                ck_assert(isfinite(out[i]));
        }
        /* One NaN, +inf or -inf anywhere (first, middle, last) is caught. */
        const float bad[3] = {NAN, INFINITY, -INFINITY};
        const int64_t at[3] = {0, n / 2, n - 1};
        for (int b = 0; b < 3; b++)
            for (int p = 0; p < 3; p++) {
                float keep = in[at[p]];
                in[at[p]] = bad[b];
                ck_assert_int_eq(sfri_pool_normalize(&geo, in, SFR_NORM_RMS, 1e-6, out, r, buf),
                                 -1);
                in[at[p]] = keep;
            }
        free(in);
        free(out);
    }
}
END_TEST

START_TEST(fast_cost_matches_reference_both_directions)
{
    /* (Cs, Ct, A, B): both directions; 4-row tiles with a remainder row; a
     * partial 16-column tile and two tiles; more than 128 groups (two depth
     * blocks of the cross term). */
    const int64_t cases[][4] = {{4, 4, 5, 7},  {4, 12, 5, 7},   {12, 4, 5, 7},
                                {3, 24, 5, 7}, {16, 2, 5, 7},   {8, 16, 9, 20},
                                {160, 320, 6, 3}};
    fx_seed(2);
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        int64_t cs = cases[ci][0], ct = cases[ci][1], a = cases[ci][2], b = cases[ci][3];
        struct sfri_pair_shape sh = {.cs = cs, .ct = ct, .a = a, .b = b};
        sh.g = cs < ct ? cs : ct;
        sh.m = cs < ct ? ct : cs;
        sh.n_s = cs / sh.g;
        sh.n_t = ct / sh.g;
        double *x = malloc((size_t)(a * cs) * sizeof(double));
        double *y = malloc((size_t)(b * ct) * sizeof(double));
        double *xg = malloc((size_t)(a * sh.g) * sizeof(double));
        double *yg = malloc((size_t)(b * sh.g) * sizeof(double));
        double *cost = malloc((size_t)(a * b) * sizeof(double));
        double *want = malloc((size_t)(a * b) * sizeof(double));
        for (int64_t i = 0; i < a * cs; i++)
            x[i] = fx_gauss();
        for (int64_t i = 0; i < b * ct; i++)
            y[i] = fx_gauss();
        sfri_group_sum(x, a, cs, sh.g, xg);
        sfri_group_sum(y, b, ct, sh.g, yg);
        sfri_cost(&sh, x, y, xg, yg, cost);
        sfri_ref_cost(x, y, a, b, cs, ct, want);
        for (int64_t i = 0; i < a * b; i++)
            ck_assert_double_eq_tol(cost[i], want[i], 1e-12 * (1 + want[i]));
        free(x);
        free(y);
        free(xg);
        free(yg);
        free(cost);
        free(want);
    }
}
END_TEST

/* Units in the last place between got and want (both positive, normal). */
static double ulps(double got, double want)
{
    return fabs(got - want) / (nextafter(want, INFINITY) - want);
}

START_TEST(fast_exp_within_two_ulp_of_libm)
{
    /* A dense sweep of the kernel's range, the ends, and lengths that leave a partial vector. */
    enum { N = 100003 };
    double *x = malloc(N * sizeof(double)), *y = malloc(N * sizeof(double));
    ck_assert(x && y);
    for (int i = 0; i < N; i++)
        x[i] = -708.0 * (double)i / (N - 1);
    x[1] = -0.0;
    x[2] = -0x1p-40;
    x[3] = -0.5 * M_LN2;
    sfri_exp_nonpositive(x, N, y);
    for (int i = 0; i < N; i++)
        ck_assert_msg(ulps(y[i], exp(x[i])) <= 2, "exp(%.17g): %.17g, libm %.17g", x[i], y[i],
                      exp(x[i]));
    ck_assert(y[0] == 1.0 && y[1] == 1.0);
    /* In place, 3 values: only those are written. */
    double z[4] = {-1, -2, -3, 42};
    sfri_exp_nonpositive(z, 3, z);
    ck_assert(ulps(z[0], exp(-1.0)) <= 2 && ulps(z[2], exp(-3.0)) <= 2);
    ck_assert(z[3] == 42);
    free(x);
    free(y);
}
END_TEST

START_TEST(fast_sinkhorn_matches_log_domain_reference)
{
    /* Ranges over eps from small to beyond the scaling form's limit (log-domain path). */
    const double eps_list[] = {0.05, 0.5, 0.02, 0.0205, 0.005};
    const int64_t sizes[][2] = {{16, 16}, {4, 9}, {9, 4}, {1, 5}, {25, 16}};
    fx_seed(3);
    for (int e = 0; e < 5; e++)
        for (int si = 0; si < 5; si++) {
            int64_t a = sizes[si][0], b = sizes[si][1];
            double cost[400], plan[400], want[400], scratch[2 * 400 + 10 * 25];
            fx_random_cost(cost, a * b, 4.0);
            int it, wit;
            double err, werr;
            sfri_sinkhorn(cost, a, b, eps_list[e], 0, 300, 1e-6, plan, &it, &err, scratch);
            ck_assert_int_eq(sfri_ref_sinkhorn(cost, a, b, eps_list[e], 0, 300, 1e-6, want,
                                               &wit, &werr), 0);
            ck_assert_int_eq(it, wit);
            ck_assert_double_eq_tol(err, werr, 1e-9);
            double lp = 0, lw = 0;
            for (int64_t i = 0; i < a * b; i++) {
                ck_assert_double_eq_tol(plan[i], want[i], 1e-10);
                lp += plan[i] * cost[i];
                lw += want[i] * cost[i];
            }
            ck_assert_double_eq_tol(lp, lw, 1e-9 * (1 + lw));
        }
}
END_TEST

START_TEST(sinkhorn_final_marginals_within_tol)
{
    fx_seed(4);
    for (int rep = 0; rep < 4; rep++) {
        int64_t a = 6 + rep, b = 9 - rep;
        double cost[81], plan[81], scratch[2 * 81 + 10 * 9];
        fx_random_cost(cost, a * b, 2.0);
        int it;
        double err;
        const double tol = 1e-7;
        sfri_sinkhorn(cost, a, b, 0.05, 0, 100000, tol, plan, &it, &err, scratch);
        double row_err = 0;
        for (int64_t i = 0; i < a; i++) {
            double s = 0;
            for (int64_t j = 0; j < b; j++)
                s += plan[i * b + j];
            row_err += fabs(s - 1.0 / (double)a);
        }
        ck_assert(row_err < tol);
        ck_assert_double_eq_tol(row_err, err, 1e-12);
        for (int64_t j = 0; j < b; j++) {
            double s = 0;
            for (int64_t i = 0; i < a; i++)
                s += plan[i * b + j];
            ck_assert_double_eq_tol(s, 1.0 / (double)b, 1e-12);
        }
    }
}
END_TEST

/*
 * A pair with one sample whose grids give two cells on each side: x = (0, 1)
 * along W, norm none, beta 3, C = [[0, 1], [1, 0]] (mean 1/2). With eps 1/2
 * the plan is K / sum K with K = exp(-C/eps), found in one iteration, and
 * <P, C> = e^-2 / (1 + e^-2): sinkhorn_eps 0.5 absolute (0.1.0's transport),
 * or 1 relative to the mean cost.
 */
static void two_cells_known_plan_case(double sinkhorn_eps, int relative)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_NORM, SFR_NORM_NONE), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_SINKHORN_EPS, sinkhorn_eps), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_EPS_RELATIVE, relative), SFR_OK);
    float s[2] = {0, 1}, t[2] = {0, 1}, gs[2] = {0, 0};
    int64_t dims[4] = {1, 1, 1, 2};
    sfr_tap *ts, *tt;
    ck_assert_int_eq(sfr_tap_wrap(dims, s, gs, &ts), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(dims, t, NULL, &tt), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(reg, ts, tt, 3.0, NULL), SFR_OK);
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    double want = 3.0 * exp(-2.0) / (1 + exp(-2.0));
    ck_assert_double_eq_tol(loss, want, 1e-12);
    double pl;
    int it;
    double err;
    ck_assert_int_eq(sfr_reg_pair_loss(reg, 0, &pl), SFR_OK);
    ck_assert_double_eq_tol(pl, want, 1e-12);
    ck_assert_int_eq(sfr_reg_pair_stats(reg, 0, &it, &err), SFR_OK);
    ck_assert_int_eq(it, 1);
    ck_assert(err < 1e-12);
    /* dL/dx_a = beta * (2/M) sum_b P_ab (x_a - y_b): +-beta*2*P_01. */
    double p01 = exp(-2.0) / (2 * (1 + exp(-2.0)));
    ck_assert_double_eq_tol(gs[0], 3.0 * 2 * p01 * (0 - 1), 1e-6);
    ck_assert_double_eq_tol(gs[1], 3.0 * 2 * p01 * (1 - 0), 1e-6);
    sfr_reg_destroy(reg);
    sfr_tap_destroy(ts);
    sfr_tap_destroy(tt);
}

START_TEST(two_cells_known_plan)
{
    two_cells_known_plan_case(0.5, 0);
}
END_TEST

START_TEST(two_cells_known_plan_relative_eps)
{
    two_cells_known_plan_case(1.0, 1);
}
END_TEST

START_TEST(one_cell_grids_by_hand)
{
    /* Student 2 channels pooled 2x2 -> 1x1, teacher 4 channels at 1x1 (two per student
     * channel), norm none: C = (1/4) sum_j sum_{k in grp j} (x_j - y_k)^2, plan = 1. */
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_NORM, SFR_NORM_NONE), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GRID_H, 1), SFR_OK);
    float s[8] = {1, 2, 3, 6, -1, -1, -1, -1}, gs[8] = {0};
    float t[4] = {1, 2, 0, -3};
    int64_t ds[4] = {1, 2, 2, 2}, dt[4] = {1, 4, 1, 1};
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GRID_W, 1), SFR_OK);
    sfr_tap *ts, *tt;
    ck_assert_int_eq(sfr_tap_wrap(ds, s, gs, &ts), SFR_OK);
    ck_assert_int_eq(sfr_tap_wrap(dt, t, NULL, &tt), SFR_OK);
    ck_assert_int_eq(sfr_reg_add_pair(reg, ts, tt, 1.0, NULL), SFR_OK);
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    /* x = (3, -1); groups: x_0 with y_0, y_1; x_1 with y_2, y_3. */
    double want = ((3 - 1.0) * (3 - 1) + (3 - 2.0) * (3 - 2) + (-1 - 0.0) * (-1 - 0) +
                   (-1 + 3.0) * (-1 + 3)) / 4;
    ck_assert_double_eq_tol(loss, want, 1e-12);
    /* dL/dx_0 = (2/4)((3-1) + (3-2)) = 1.5, spread over 4 inputs: 0.375 each. */
    ck_assert_double_eq_tol(gs[0], 0.375, 1e-6);
    ck_assert_double_eq_tol(gs[3], 0.375, 1e-6);
    /* dL/dx_1 = (2/4)((-1-0) + (-1+3)) = 0.5 -> 0.125 each. */
    ck_assert_double_eq_tol(gs[4], 0.125, 1e-6);
    sfr_reg_destroy(reg);
    sfr_tap_destroy(ts);
    sfr_tap_destroy(tt);
}
END_TEST

START_TEST(l2_is_the_diagonal_mean)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_MATCH, SFR_MATCH_L2), SFR_OK);
    fx_seed(5);
    struct fx_pair p;
    fx_pair_make(&p, (struct fx_shape){3, 4, 6, 6, 8, 3, 3}, 1);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 0.5, NULL), SFR_OK);
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    /* Independently: pooled, normalized, the diagonal of the reference cost. */
    double want = 0;
    for (int64_t n = 0; n < 3; n++) {
        double *s = fx_to_double(p.s + n * 144, 144), *t = fx_to_double(p.t + n * 72, 72);
        double x[9 * 4], y[9 * 8], cost[81];
        sfri_ref_pool(s, 4, 6, 6, 3, 3, x);
        sfri_ref_pool(t, 8, 3, 3, 3, 3, y);
        for (int a = 0; a < 9; a++) {
            double sx = 0, sy = 0;
            for (int j = 0; j < 4; j++)
                sx += x[a * 4 + j] * x[a * 4 + j];
            for (int j = 0; j < 8; j++)
                sy += y[a * 8 + j] * y[a * 8 + j];
            for (int j = 0; j < 4; j++)
                x[a * 4 + j] /= sqrt(sx / 4 + 1e-6);
            for (int j = 0; j < 8; j++)
                y[a * 8 + j] /= sqrt(sy / 8 + 1e-6);
        }
        sfri_ref_cost(x, y, 9, 9, 4, 8, cost);
        for (int a = 0; a < 9; a++)
            want += 0.5 / 3 * cost[a * 9 + a] / 9;
        free(s);
        free(t);
    }
    ck_assert_double_eq_tol(loss, want, 1e-6 * want);
    int it = -1;
    double err = -1;
    ck_assert_int_eq(sfr_reg_pair_stats(reg, 0, &it, &err), SFR_OK);
    ck_assert_int_eq(it, 0);
    ck_assert(err == 0);
    sfr_reg_destroy(reg);
    fx_pair_free(&p);
}
END_TEST

/* Smallest (1/A) sum_a C_{a, perm(a)} over all permutations, by recursion. */
static double best_assignment(const double *c, int a, int row, int used, double acc)
{
    if (row == a)
        return acc;
    double best = INFINITY;
    for (int j = 0; j < a; j++)
        if (!(used & (1 << j)))
            best = fmin(best, best_assignment(c, a, row + 1, used | (1 << j),
                                              acc + c[row * a + j] / a));
    return best;
}

START_TEST(small_eps_approaches_exact_assignment)
{
    fx_seed(6);
    for (int a = 2; a <= 5; a++) {
        sfr_reg *reg;
        ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_SINKHORN_EPS, 1e-3), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_MAX_ITER, 100000), SFR_OK);
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TOL, 1e-9), SFR_OK);
        /* A cells along W: student (1, 6, 1, A), teacher (1, 6, 1, A). */
        struct fx_pair p;
        fx_pair_make(&p, (struct fx_shape){1, 6, 1, a, 6, 1, a}, 0);
        ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1.0, NULL), SFR_OK);
        double loss;
        ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
        double *s = fx_to_double(p.s, p.ns), *t = fx_to_double(p.t, p.nt);
        double x[30], y[30], cost[25];
        sfri_ref_pool(s, 6, 1, a, 1, a, x);
        sfri_ref_pool(t, 6, 1, a, 1, a, y);
        for (int i = 0; i < a; i++) {
            double sx = 0, sy = 0;
            for (int j = 0; j < 6; j++) {
                sx += x[i * 6 + j] * x[i * 6 + j];
                sy += y[i * 6 + j] * y[i * 6 + j];
            }
            for (int j = 0; j < 6; j++) {
                x[i * 6 + j] /= sqrt(sx / 6 + 1e-6);
                y[i * 6 + j] /= sqrt(sy / 6 + 1e-6);
            }
        }
        sfri_ref_cost(x, y, a, a, 6, 6, cost);
        double exact = best_assignment(cost, a, 0, 0, 0);
        /* The entropic plan costs a little more than the exact one, by O(eps log A). */
        ck_assert_msg(loss >= exact - 1e-6 && loss <= exact + 1e-3 * log(a) * 4 + 1e-6,
                      "A = %d: entropic %.9g, exact %.9g", a, loss, exact);
        int it;
        double err;
        ck_assert_int_eq(sfr_reg_pair_stats(reg, 0, &it, &err), SFR_OK);
        /* Near-permutation plans converge slowly: the error may stall just above tol. */
        ck_assert_msg(err < 1e-5, "A = %d: error %g after %d iterations", a, err, it);
        free(s);
        free(t);
        sfr_reg_destroy(reg);
        fx_pair_free(&p);
    }
}
END_TEST

/* Loss, stats and gradients of the library against the reference for one configuration. */
static void check_against_reference(struct fx_shape sh, int norm, int teacher_grad,
                                    int tgrid, int sgrid, int relu)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_NORM, norm), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TEACHER_GRAD, teacher_grad), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TEACHER_GRID_H, tgrid), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TEACHER_GRID_W, tgrid), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GRID_H, sgrid), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_GRID_W, sgrid), SFR_OK);
    if (norm == SFR_NORM_NONE)   /* unnormalized costs are larger: keep eps in proportion */
        ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_SINKHORN_EPS, 0.5), SFR_OK);
    struct fx_pair p;
    fx_pair_make(&p, sh, relu);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 0.7, NULL), SFR_OK);
    double loss;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    double *ds = malloc((size_t)p.ns * sizeof(double)), *dt = malloc((size_t)p.nt * sizeof(double));
    int wit, it;
    double werr, err;
    double want = fx_ref_pair(reg, &p, 0.7, ds, dt, &wit, &werr);
    ck_assert_msg(fabs(loss - want) <= 1e-5 * fabs(want), "loss %.9g, reference %.9g", loss, want);
    ck_assert_int_eq(sfr_reg_pair_stats(reg, 0, &it, &err), SFR_OK);
    ck_assert_int_eq(it, wit);
    ck_assert_double_eq_tol(err, werr, 1e-6);
    fx_assert_close(p.gs, ds, p.ns, 1e-4, "student grad");
    if (teacher_grad)
        fx_assert_close(p.gt, dt, p.nt, 1e-4, "teacher grad");
    else
        for (int64_t i = 0; i < p.nt; i++)
            ck_assert(p.gt[i] == 0);
    free(ds);
    free(dt);
    sfr_reg_destroy(reg);
    fx_pair_free(&p);
}

START_TEST(compute_matches_reference)
{
    fx_seed(7);
    const struct fx_shape shapes[] = {
        {3, 4, 8, 8, 8, 4, 4},     /* Ct = 2 Cs */
        {2, 12, 7, 7, 4, 4, 4},    /* Cs = 3 Ct, 7 -> 4 overlapping windows */
        {2, 6, 9, 5, 6, 3, 5},     /* equal channels, rectangular */
    };
    for (int si = 0; si < 3; si++)
        for (int norm = 0; norm < 2; norm++)
            for (int tg = 0; tg < 2; tg++) {
                check_against_reference(shapes[si], norm, tg, 0, 0, 1);
                check_against_reference(shapes[si], norm, tg, 2, 0, 0);   /* pooled teacher */
                check_against_reference(shapes[si], norm, tg, 3, 2, 1);   /* A != B */
            }
}
END_TEST

Suite *reg_loss_suite(void)
{
    Suite *s = suite_create("reg_loss");
    TCase *tc = tcase_create("kernels");
    tcase_add_test(tc, pool_windows_overlap_when_size_does_not_divide);
    tcase_add_test(tc, reference_pool_by_hand);
    tcase_add_test(tc, fast_pool_normalize_matches_reference);
    tcase_add_test(tc, fast_pool_gradient_matches_reference_on_every_branch);
    tcase_add_test(tc, fast_pool_huge_finite_values_are_finite_and_nan_inf_are_not);
    tcase_add_test(tc, fast_cost_matches_reference_both_directions);
    tcase_add_test(tc, fast_exp_within_two_ulp_of_libm);
    tcase_add_test(tc, fast_sinkhorn_matches_log_domain_reference);
    tcase_add_test(tc, sinkhorn_final_marginals_within_tol);
    suite_add_tcase(s, tc);
    tc = tcase_create("losses");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, two_cells_known_plan);
    tcase_add_test(tc, two_cells_known_plan_relative_eps);
    tcase_add_test(tc, one_cell_grids_by_hand);
    tcase_add_test(tc, l2_is_the_diagonal_mean);
    tcase_add_test(tc, small_eps_approaches_exact_assignment);
    tcase_add_test(tc, compute_matches_reference);
    suite_add_tcase(s, tc);
    return s;
}
