/* Parameters of SFR.md section 10: defaults, bounds, types, and the ABI values. */
#include "reg_fixture.h"

struct key_case {
    sfr_param key;
    double def;
    int integer;
    double lo, hi;   /* valid extremes (hi = INFINITY: unbounded) */
    int lo_open;     /* lo itself is invalid */
};

static const struct key_case keys[] = {
    {SFR_PARAM_SINKHORN_EPS, 0.2, 0, 1e-6, 1e6, 0},
    {SFR_PARAM_MAX_ITER, 100, 1, 1, 100000, 0},
    {SFR_PARAM_TOL, 1e-4, 0, 0, INFINITY, 0},
    {SFR_PARAM_MATCH, SFR_MATCH_EMD, 1, 0, 1, 0},
    {SFR_PARAM_NORM, SFR_NORM_RMS, 1, 0, 1, 0},
    {SFR_PARAM_DELTA, 1e-6, 0, 1e-12, INFINITY, 0},
    {SFR_PARAM_TEACHER_GRAD, 0, 1, 0, 1, 0},
    {SFR_PARAM_GRID_H, 0, 1, 0, 2147483647.0, 0},
    {SFR_PARAM_GRID_W, 0, 1, 0, 2147483647.0, 0},
    {SFR_PARAM_TEACHER_GRID_H, 0, 1, 0, 2147483647.0, 0},
    {SFR_PARAM_TEACHER_GRID_W, 0, 1, 0, 2147483647.0, 0},
    {SFR_PARAM_LS_SCHEDULE, SFR_LS_LINEAR, 1, 0, 2, 0},
    {SFR_PARAM_LS_EPS_START, 0, 0, 0, 1, 0},
    {SFR_PARAM_LS_EPS_END, 0.1, 0, 0, 1, 0},
    {SFR_PARAM_LS_SOURCE, SFR_LS_UNIFORM, 1, 0, 2, 0},
    {SFR_PARAM_LS_TEMPERATURE, 4, 0, 1e-3, INFINITY, 0},
    {SFR_PARAM_LS_BANK_SIZE, 0, 1, 0, 2147483647.0, 0},
    {SFR_PARAM_GAMMA, 1, 0, 0, 1e6, 0},
    {SFR_PARAM_EPS_RELATIVE, 1, 1, 0, 1, 0},
    {SFR_PARAM_EPS_SCALING, 0, 0, 0, 0.99, 0},
    {SFR_PARAM_DEBIAS, 0, 1, 0, 1, 0},
    {SFR_PARAM_WARMUP, 0, 0, 0, 1, 0},
    {SFR_PARAM_HEAD_TEMPERATURE, 3, 0, 0.05, 100, 0},
    {SFR_PARAM_COOLDOWN, 0, 0, 0, 1, 0},
    {SFR_PARAM_HEAD_MUTUAL, 0, 0, 0, 1e6, 0},
    {SFR_PARAM_CLASSWISE, 0, 0, 0, 1e6, 0},
    {SFR_PARAM_CLASSWISE_TEMPERATURE, 4, 0, 0.05, 100, 0},
    {SFR_PARAM_LAST_BATCH, 0, 0, 0, 1e6, 0},
    {SFR_PARAM_LAST_BATCH_TEMPERATURE, 3, 0, 0.05, 100, 0},
};
#define NKEYS ((int)(sizeof keys / sizeof keys[0]))

START_TEST(abi_values)
{
    ck_assert_int_eq(SFR_PARAM_SINKHORN_EPS, 100);
    ck_assert_int_eq(SFR_PARAM_TEACHER_GRID_W, 110);
    ck_assert_int_eq(SFR_PARAM_LS_SCHEDULE, 200);
    ck_assert_int_eq(SFR_PARAM_GAMMA, 206);
    ck_assert_int_eq(SFR_PARAM_EPS_RELATIVE, 111);
    ck_assert_int_eq(SFR_PARAM_DEBIAS, 113);
    ck_assert_int_eq(SFR_PARAM_WARMUP, 300);
    ck_assert_int_eq(SFR_PARAM_HEAD_TEMPERATURE, 301);
    ck_assert_int_eq(SFR_PARAM_COOLDOWN, 302);
    ck_assert_int_eq(SFR_PARAM_HEAD_MUTUAL, 303);
    ck_assert_int_eq(SFR_PARAM_CLASSWISE, 304);
    ck_assert_int_eq(SFR_PARAM_CLASSWISE_TEMPERATURE, 305);
    ck_assert_int_eq(SFR_PARAM_LAST_BATCH, 306);
    ck_assert_int_eq(SFR_PARAM_LAST_BATCH_TEMPERATURE, 307);
    ck_assert_int_eq(NKEYS, SFRI_P_COUNT);
}
END_TEST

START_TEST(defaults)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    for (int i = 0; i < NKEYS; i++) {
        double v = -1;
        ck_assert_int_eq(sfr_reg_get_param(reg, keys[i].key, &v), SFR_OK);
        ck_assert_msg(v == keys[i].def, "key %d: default %g, expected %g", keys[i].key, v,
                      keys[i].def);
    }
    sfr_reg_destroy(reg);
}
END_TEST

/* Sets a bad value: invalid argument, and the key keeps its value. */
static void reject(sfr_reg *reg, sfr_param key, double value)
{
    double before, after;
    ck_assert_int_eq(sfr_reg_get_param(reg, key, &before), SFR_OK);
    ck_assert_msg(sfr_reg_set_param(reg, key, value) == SFR_ERR_INVALID_ARG,
                  "key %d accepted %.17g", key, value);
    ck_assert(strncmp(sfr_last_error(), "sfr_reg_set_param: ", 19) == 0);
    ck_assert_int_eq(sfr_reg_get_param(reg, key, &after), SFR_OK);
    ck_assert(memcmp(&before, &after, sizeof before) == 0);
}

static void accept(sfr_reg *reg, sfr_param key, double value)
{
    double got;
    ck_assert_msg(sfr_reg_set_param(reg, key, value) == SFR_OK, "key %d rejected %.17g: %s",
                  key, value, sfr_last_error());
    ck_assert_int_eq(sfr_reg_get_param(reg, key, &got), SFR_OK);
    ck_assert(got == value);
}

START_TEST(bounds_types_and_non_finite)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    for (int i = 0; i < NKEYS; i++) {
        const struct key_case *k = &keys[i];
        reject(reg, k->key, NAN);
        reject(reg, k->key, INFINITY);
        reject(reg, k->key, -INFINITY);
        if (k->lo_open) {
            reject(reg, k->key, k->lo);
            accept(reg, k->key, nextafter(k->lo, 1));
        } else {
            accept(reg, k->key, k->lo);
        }
        reject(reg, k->key, k->integer ? k->lo - 1 : nextafter(k->lo, -1));
        if (isfinite(k->hi)) {
            accept(reg, k->key, k->hi);
            reject(reg, k->key, k->integer ? k->hi + 1 : nextafter(k->hi, INFINITY));
        } else {
            accept(reg, k->key, 1e300);
        }
        if (k->integer) {
            reject(reg, k->key, k->lo + 0.5);
            reject(reg, k->key, 2147483648.0);
            reject(reg, k->key, 1e19);
        }
        accept(reg, k->key, k->def);
    }
    const int unknown[] = {0, 99, 114, 199, 207, 299, 308, -1};
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(sfr_reg_set_param(reg, (sfr_param)unknown[i], 0), SFR_ERR_INVALID_ARG);
    double v = 3;
    ck_assert_int_eq(sfr_reg_get_param(reg, (sfr_param)199, &v), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_get_param(reg, SFR_PARAM_TOL, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_get_param(NULL, SFR_PARAM_TOL, &v), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_reg_set_param(NULL, SFR_PARAM_TOL, 1), SFR_ERR_INVALID_ARG);
    ck_assert(v == 3);
    sfr_reg_destroy(reg);
}
END_TEST

START_TEST(tol_zero_runs_max_iter)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TOL, 0), SFR_OK);
    ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_MAX_ITER, 37), SFR_OK);
    fx_seed(51);
    struct fx_pair p;
    fx_pair_make(&p, (struct fx_shape){2, 4, 6, 6, 4, 3, 3}, 1);
    ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1, NULL), SFR_OK);
    double loss;
    int it;
    ck_assert_int_eq(sfr_reg_compute(reg, NULL, NULL, 0, 0, NULL, &loss), SFR_OK);
    ck_assert_int_eq(sfr_reg_pair_stats(reg, 0, &it, NULL), SFR_OK);
    ck_assert_int_eq(it, 37);
    sfr_reg_destroy(reg);
    fx_pair_free(&p);
}
END_TEST

/* Values that gave a NaN or infinite loss or gradient with SFR_OK are refused. */
START_TEST(values_float_math_cannot_carry_are_refused)
{
    sfr_reg *reg;
    ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
    reject(reg, SFR_PARAM_SINKHORN_EPS, 1e-310);
    reject(reg, SFR_PARAM_SINKHORN_EPS, 1e300);
    reject(reg, SFR_PARAM_LS_TEMPERATURE, 1e-310);
    reject(reg, SFR_PARAM_DELTA, 1e-320);
    reject(reg, SFR_PARAM_GAMMA, 1e300);
    ck_assert_str_eq(sfr_last_error(), "sfr_reg_set_param: gamma = 1.0000000000000001e+300 is "
                                       "outside [0, 1e+06], the range float math carries");
    sfr_reg_destroy(reg);
}
END_TEST

/* Every one of the n floats is finite. */
static void assert_all_finite(const float *x, int64_t n, const char *what)
{
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(isfinite(x[i]), "%s[%lld] = %g", what, (long long)i, (double)x[i]);
}

/*
 * At the ends of every bounded range, with both normalizations, the `self`
 * source, a local feature that is all zero (post-ReLU) and features from
 * 1e-30 to 1e30, a compute succeeds with a finite loss, finite dlogits and
 * finite tap gradients.
 */
START_TEST(bounded_extremes_give_finite_results)
{
    struct setting {
        sfr_param key;
        double value;
    };
    const struct setting ends[] = {
        {SFR_PARAM_SINKHORN_EPS, 1e-6}, {SFR_PARAM_SINKHORN_EPS, 1e6},
        {SFR_PARAM_DELTA, 1e-12},       {SFR_PARAM_DELTA, 1e300},
        {SFR_PARAM_LS_TEMPERATURE, 1e-3}, {SFR_PARAM_LS_TEMPERATURE, 1e300},
        {SFR_PARAM_GAMMA, 1e6},         {SFR_PARAM_GAMMA, 0},
    };
    const float scales[] = {1e-30f, 1, 1e30f};
    fx_seed(53);
    for (size_t e = 0; e < sizeof ends / sizeof ends[0]; e++)
        for (int norm = 0; norm < 2; norm++)
            for (int sc = 0; sc < 3; sc++) {
                sfr_reg *reg;
                ck_assert_int_eq(sfr_reg_create(&reg), SFR_OK);
                ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_NORM, norm), SFR_OK);
                ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_LS_SOURCE, SFR_LS_SELF), SFR_OK);
                ck_assert_int_eq(sfr_reg_set_param(reg, SFR_PARAM_TEACHER_GRAD, 1), SFR_OK);
                ck_assert_int_eq(sfr_reg_set_param(reg, ends[e].key, ends[e].value), SFR_OK);
                struct fx_pair p;
                fx_pair_make(&p, (struct fx_shape){2, 4, 4, 4, 8, 2, 2}, 1);
                for (int64_t i = 0; i < p.ns; i++)
                    p.s[i] = i % 16 < 2 || i % 16 == 4 || i % 16 == 5 ? 0 : p.s[i] * scales[sc];
                for (int64_t i = 0; i < p.nt; i++)
                    p.t[i] *= scales[sc];
                ck_assert_int_eq(sfr_reg_add_pair(reg, p.ts, p.tt, 1e6, NULL), SFR_OK);
                float z[2 * 3] = {3e38f, -3e38f, 0, 1, 2, -40}, dz[2 * 3];
                int32_t y[2] = {1, 2};
                double loss;
                ck_assert_msg(sfr_reg_compute(reg, z, y, 2, 3, dz, &loss) == SFR_OK,
                              "key %d = %g, norm %d, scale %g: %s", ends[e].key, ends[e].value,
                              norm, (double)scales[sc], sfr_last_error());
                ck_assert(isfinite(loss));
                assert_all_finite(dz, 6, "dlogits");
                assert_all_finite(p.gs, p.ns, "student grad");
                assert_all_finite(p.gt, p.nt, "teacher grad");
                sfr_reg_destroy(reg);
                fx_pair_free(&p);
            }
}
END_TEST

Suite *reg_params_suite(void)
{
    Suite *s = suite_create("reg_params");
    TCase *tc = tcase_create("params");
    tcase_add_test(tc, abi_values);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, bounds_types_and_non_finite);
    tcase_add_test(tc, tol_zero_runs_max_iter);
    tcase_add_test(tc, values_float_math_cannot_carry_are_refused);
    tcase_add_test(tc, bounded_extremes_give_finite_results);
    suite_add_tcase(s, tc);
    return s;
}
