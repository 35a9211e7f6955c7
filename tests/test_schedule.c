/*
 * The learning-rate schedule helper: its rates against those PyTorch's
 * schedulers gave (tests/fixtures/lr_schedule_torch.h, written by the script
 * beside it), against values worked by hand, and every argument error.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>

#include "common/common.h"
#include "fixtures/lr_schedule_torch.h"
#include "sfr/sfr.h"

static sfr_lr_schedule *make(int shape, double base, int64_t total)
{
    sfr_lr_schedule *s = NULL;
    ck_assert_int_eq(sfr_lr_schedule_create(&s, shape, base, total), SFR_OK);
    ck_assert_ptr_nonnull(s);
    return s;
}

static double lr_at(const sfr_lr_schedule *s, int64_t step)
{
    double lr = NAN;
    ck_assert_int_eq(sfr_lr_schedule_lr(s, step, &lr), SFR_OK);
    return lr;
}

START_TEST(rates_follow_pytorchs_schedulers)
{
    for (int c = 0; c < LR_TORCH_CASES; c++) {
        const struct lr_torch_case *t = &lr_torch_cases[c];
        sfr_lr_schedule *s = make(t->shape, t->base, t->total);
        ck_assert_int_eq(sfr_lr_schedule_set_warmup(s, t->warmup, t->factor), SFR_OK);
        ck_assert_int_eq(sfr_lr_schedule_set_min_lr(s, t->min_lr), SFR_OK);
        ck_assert_int_eq(sfr_lr_schedule_set_milestones(s, t->milestones, t->n_milestones,
                                                        t->gamma),
                         SFR_OK);
        /* PyTorch's chainable forms accumulate rounding step after step. */
        for (int64_t i = 0; i < t->total; i++)
            ck_assert_msg(fabs(lr_at(s, i) - t->lr[i]) <= 1e-12 * t->base,
                          "case %d step %lld: %.17g, PyTorch %.17g", c, (long long)i,
                          lr_at(s, i), t->lr[i]);
        sfr_lr_schedule_destroy(s);
    }
}
END_TEST

START_TEST(rates_by_hand)
{
    /* Cosine, base 1, minimum 0.2, 10 steps, warm-up 2 from a half: 0.5,
     * 0.75, then 0.2 + 0.8 (1 + cos(pi s / 8)) / 2: 1 at step 2, 0.6 at
     * step 6, and from step 10 on the minimum 0.2. */
    sfr_lr_schedule *s = make(SFR_LR_COSINE, 1.0, 10);
    ck_assert_int_eq(sfr_lr_schedule_set_warmup(s, 2, 0.5), SFR_OK);
    ck_assert_int_eq(sfr_lr_schedule_set_min_lr(s, 0.2), SFR_OK);
    ck_assert(lr_at(s, 0) == 0.5 && lr_at(s, 1) == 0.75 && lr_at(s, 2) == 1.0);
    ck_assert_double_eq_tol(lr_at(s, 6), 0.6, 1e-15);
    ck_assert(lr_at(s, 10) == 0.2 && lr_at(s, 1000) == 0.2);
    sfr_lr_schedule_destroy(s);
    /* Steps: x0.5 at 3 and at 5. */
    s = make(SFR_LR_STEP, 2.0, 8);
    const int64_t ms[2] = {3, 5};
    ck_assert_int_eq(sfr_lr_schedule_set_milestones(s, ms, 2, 0.5), SFR_OK);
    const double want[8] = {2, 2, 2, 1, 1, 0.5, 0.5, 0.5};
    for (int i = 0; i < 8; i++)
        ck_assert(lr_at(s, i) == want[i]);
    sfr_lr_schedule_destroy(s);
    /* Constant; a warm-up as long as the run never reaches the base. */
    s = make(SFR_LR_CONSTANT, 0.3, 4);
    ck_assert(lr_at(s, 0) == 0.3 && lr_at(s, 9) == 0.3);
    ck_assert_int_eq(sfr_lr_schedule_set_warmup(s, 4, 0.25), SFR_OK);
    ck_assert_double_eq_tol(lr_at(s, 3), 0.3 * (0.25 + 0.75 * 0.75), 1e-16);
    ck_assert(lr_at(s, 4) == 0.3);
    sfr_lr_schedule_destroy(s);
}
END_TEST

/* sfr_lr_schedule_create must fail with SFR_ERR_INVALID_ARG and msg. */
static void create_fails(int shape, double base, int64_t total, const char *msg)
{
    sfr_lr_schedule *sentinel = (sfr_lr_schedule *)(uintptr_t)0x1234, *out = sentinel;
    ck_assert_int_eq(sfr_lr_schedule_create(&out, shape, base, total), SFR_ERR_INVALID_ARG);
    ck_assert_ptr_eq(out, sentinel);
    ck_assert_str_eq(sfr_last_error(), msg);
}

START_TEST(bad_arguments_are_refused_and_change_nothing)
{
    ck_assert_int_eq(sfr_lr_schedule_create(NULL, SFR_LR_COSINE, 0.1, 10), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_lr_schedule_create: out is NULL");
    create_fails(3, 0.1, 10,
                 "sfr_lr_schedule_create: shape is 3: it must be SFR_LR_CONSTANT, "
                 "SFR_LR_COSINE or SFR_LR_STEP");
    create_fails(SFR_LR_COSINE, 0.0, 10,
                 "sfr_lr_schedule_create: base_lr is 0: it must be finite and > 0");
    create_fails(SFR_LR_COSINE, NAN, 10,
                 "sfr_lr_schedule_create: base_lr is nan: it must be finite and > 0");
    create_fails(SFR_LR_COSINE, 0.1, 0,
                 "sfr_lr_schedule_create: total_steps is 0: it must be >= 1");

    sfr_lr_schedule *s = make(SFR_LR_STEP, 1.0, 10);
    const int64_t ms[2] = {4, 8};
    ck_assert_int_eq(sfr_lr_schedule_set_milestones(s, ms, 2, 0.5), SFR_OK);
    ck_assert_int_eq(sfr_lr_schedule_set_warmup(s, 2, 0.5), SFR_OK);
    ck_assert_int_eq(sfr_lr_schedule_set_warmup(s, 11, 0.5), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_lr_schedule_set_warmup: steps is 11: it must be in [0, 10]");
    ck_assert_int_eq(sfr_lr_schedule_set_warmup(s, -1, 0.5), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_lr_schedule_set_warmup(s, 3, 0.0), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_lr_schedule_set_warmup: start_factor is 0: it must be in (0, 1]");
    ck_assert_int_eq(sfr_lr_schedule_set_warmup(s, 3, NAN), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_lr_schedule_set_min_lr(s, 1.5), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_lr_schedule_set_min_lr: min_lr is 1.5: it must be in [0, 1]");
    ck_assert_int_eq(sfr_lr_schedule_set_min_lr(s, -0.1), SFR_ERR_INVALID_ARG);
    const int64_t unordered[2] = {5, 5}, zero[1] = {0};
    ck_assert_int_eq(sfr_lr_schedule_set_milestones(s, unordered, 2, 0.5), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_lr_schedule_set_milestones: milestones[1] is 5: each must be >= 1 "
                     "and larger than the one before");
    ck_assert_int_eq(sfr_lr_schedule_set_milestones(s, zero, 1, 0.5), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_lr_schedule_set_milestones(s, NULL, 1, 0.5), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_lr_schedule_set_milestones: milestones is NULL");
    ck_assert_int_eq(sfr_lr_schedule_set_milestones(s, ms, 65, 0.5), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_lr_schedule_set_milestones(s, ms, 2, 1.5), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(),
                     "sfr_lr_schedule_set_milestones: gamma is 1.5: it must be in (0, 1]");
    /* The refused calls changed nothing: warm-up 2 from 0.5, x0.5 at 4 and 8. */
    ck_assert(lr_at(s, 0) == 0.5 && lr_at(s, 3) == 1.0 && lr_at(s, 4) == 0.5 &&
              lr_at(s, 8) == 0.25);
    double lr = 7;
    ck_assert_int_eq(sfr_lr_schedule_lr(s, -1, &lr), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_lr_schedule_lr: step is -1: it must be >= 0");
    ck_assert(lr == 7);
    ck_assert_int_eq(sfr_lr_schedule_lr(s, 0, NULL), SFR_ERR_INVALID_ARG);
    sfr_lr_schedule_destroy(s);
}
END_TEST

START_TEST(handles_are_checked)
{
    uint32_t dead = SFRI_MAGIC_DEAD, sgd_word = SFRI_MAGIC_SGD;
    double lr;
    ck_assert_int_eq(sfr_lr_schedule_lr(NULL, 0, &lr), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_lr_schedule_lr: sched is NULL");
    ck_assert_int_eq(sfr_lr_schedule_lr((sfr_lr_schedule *)&dead, 0, &lr), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_lr_schedule_set_warmup((sfr_lr_schedule *)&sgd_word, 0, 1),
                     SFR_ERR_MISUSE);
    ck_assert_int_eq(sfr_lr_schedule_set_min_lr(NULL, 0), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_lr_schedule_set_milestones((sfr_lr_schedule *)&dead, NULL, 0, 1),
                     SFR_ERR_MISUSE);
    sfr_lr_schedule_destroy((sfr_lr_schedule *)&sgd_word);
    ck_assert_uint_eq(sgd_word, SFRI_MAGIC_SGD);
    sfr_lr_schedule_destroy(NULL);
}
END_TEST

Suite *schedule_suite(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("schedule");
    tcase_add_test(tc, rates_follow_pytorchs_schedulers);
    tcase_add_test(tc, rates_by_hand);
    tcase_add_test(tc, bad_arguments_are_refused_and_change_nothing);
    tcase_add_test(tc, handles_are_checked);
    suite_add_tcase(s, tc);
    return s;
}
