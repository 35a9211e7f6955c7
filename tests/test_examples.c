/*
 * The example trainer works for a user: clear errors on bad data, and a
 * short real run that writes its CSV and checkpoint and resumes; the
 * external-taps and minimal examples run and do what they say. The work is
 * in tests/example_checks.sh.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static int run_check(const char *what)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/example_checks.sh' '%s' '%s' %s", SFR_SOURCE_DIR,
             SFR_SOURCE_DIR, SFR_BUILD_DIR, what);
    return system(cmd);
}

START_TEST(trainer_reports_bad_data_clearly)
{
    ck_assert_int_eq(run_check("loader"), 0);
}
END_TEST

START_TEST(trainer_writes_csv_and_resumes)
{
    ck_assert_int_eq(run_check("train"), 0);
}
END_TEST

START_TEST(external_taps_example_runs)
{
    ck_assert_int_eq(run_check("external"), 0);
}
END_TEST

START_TEST(minimal_example_trains_saves_and_loads)
{
    ck_assert_int_eq(run_check("minimal"), 0);
}
END_TEST

START_TEST(compare_script_validation_mode)
{
    ck_assert_int_eq(run_check("compare"), 0);
}
END_TEST

Suite *examples_suite(void)
{
    Suite *s = suite_create("examples");
    TCase *tc = tcase_create("train_fmnist");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, trainer_reports_bad_data_clearly);
    tcase_add_test(tc, trainer_writes_csv_and_resumes);
    tcase_add_test(tc, external_taps_example_runs);
    tcase_add_test(tc, minimal_example_trains_saves_and_loads);
    tcase_add_test(tc, compare_script_validation_mode);
    suite_add_tcase(s, tc);
    return s;
}
