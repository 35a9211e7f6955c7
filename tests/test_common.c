/* Version, status codes, the per-thread error message and thread count. */
#include <check.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "sfr/sfr.h"

START_TEST(version_matches_header)
{
    ck_assert_uint_eq(sfr_version_number(),
                      SFR_VERSION_MAJOR * 10000u + SFR_VERSION_MINOR * 100u + SFR_VERSION_PATCH);
    ck_assert_uint_eq(sfr_version_number(), SFR_VERSION_NUMBER);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", SFR_VERSION_MAJOR, SFR_VERSION_MINOR,
             SFR_VERSION_PATCH);
    ck_assert_str_eq(sfr_version_string(), expect);
    ck_assert_str_eq(sfr_version_string(), "0.2.0");
}
END_TEST

START_TEST(status_values_are_the_abi)
{
    ck_assert_int_eq(SFR_OK, 0);
    ck_assert_int_eq(SFR_ERR_INVALID_ARG, -1);
    ck_assert_int_eq(SFR_ERR_SHAPE, -2);
    ck_assert_int_eq(SFR_ERR_NONFINITE, -3);
    ck_assert_int_eq(SFR_ERR_NOMEM, -4);
    ck_assert_int_eq(SFR_ERR_STATE, -5);
    ck_assert_int_eq(SFR_ERR_IO, -6);
    ck_assert_int_eq(SFR_ERR_FORMAT, -7);
    ck_assert_int_eq(SFR_ERR_BACKEND, -8);
    ck_assert_int_eq(SFR_ERR_UNSUPPORTED, -9);
    ck_assert_int_eq(SFR_ERR_MISUSE, -10);
}
END_TEST

START_TEST(status_strings_are_distinct)
{
    const char *seen[11];
    for (int code = 0; code >= -10; code--) {
        const char *s = sfr_status_string((sfr_status)code);
        ck_assert_ptr_nonnull(s);
        ck_assert_str_ne(s, "unknown status");
        for (int j = 0; j < -code; j++)
            ck_assert_str_ne(s, seen[j]);
        seen[-code] = s;
    }
    ck_assert_str_eq(sfr_status_string(SFR_OK), "success");
    ck_assert_str_eq(sfr_status_string((sfr_status)-11), "unknown status");
    ck_assert_str_eq(sfr_status_string((sfr_status)7), "unknown status");
}
END_TEST

START_TEST(last_error_starts_empty_and_names_the_function)
{
    ck_assert_ptr_nonnull(sfr_last_error());
    ck_assert_str_eq(sfr_last_error(), "");
    ck_assert_int_eq(sfr_set_num_threads(-3), SFR_ERR_INVALID_ARG);
    ck_assert_str_eq(sfr_last_error(), "sfr_set_num_threads: thread count -3 is negative");
    /* A successful call leaves the message alone. */
    ck_assert_int_eq(sfr_set_num_threads(1), SFR_OK);
    ck_assert_str_eq(sfr_last_error(), "sfr_set_num_threads: thread count -3 is negative");
}
END_TEST

START_TEST(last_error_is_bounded)
{
    char huge[4 * SFRI_ERROR_CAP];
    memset(huge, 'x', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    ck_assert_int_eq(sfri_fail(SFR_ERR_SHAPE, "f", "%s", huge), SFR_ERR_SHAPE);
    size_t len = strlen(sfr_last_error());
    ck_assert_uint_eq(len, SFRI_ERROR_CAP - 1);
    ck_assert(strncmp(sfr_last_error(), "f: xxx", 6) == 0);
}
END_TEST

struct thread_result {
    const char *before;
    char after[SFRI_ERROR_CAP];
};

static void *fail_in_thread(void *arg)
{
    struct thread_result *r = arg;
    r->before = sfr_last_error();
    r->before = r->before[0] == '\0' ? "" : "dirty";
    sfr_set_num_threads(-7);
    snprintf(r->after, sizeof r->after, "%s", sfr_last_error());
    return NULL;
}

START_TEST(last_error_is_per_thread)
{
    ck_assert_int_eq(sfr_set_num_threads(-1), SFR_ERR_INVALID_ARG);
    struct thread_result r[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, fail_in_thread, &r[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_str_eq(r[i].before, "");
        ck_assert_str_eq(r[i].after, "sfr_set_num_threads: thread count -7 is negative");
    }
    /* The main thread's message is still its own. */
    ck_assert_str_eq(sfr_last_error(), "sfr_set_num_threads: thread count -1 is negative");
}
END_TEST

START_TEST(set_num_threads_sets_openmp)
{
    ck_assert_int_eq(sfr_set_num_threads(3), SFR_OK);
    ck_assert_int_eq(omp_get_max_threads(), 3);
    setenv("OMP_NUM_THREADS", "2", 1);
    ck_assert_int_eq(sfr_set_num_threads(0), SFR_OK);
    ck_assert_int_eq(omp_get_max_threads(), 2);
    unsetenv("OMP_NUM_THREADS");
    ck_assert_int_eq(sfr_set_num_threads(0), SFR_OK);
    ck_assert_int_eq(omp_get_max_threads(), omp_get_num_procs());
}
END_TEST

START_TEST(handle_check_detects_dead_and_foreign)
{
    uint32_t dead = SFRI_MAGIC_DEAD, other = SFRI_MAGIC_NET, live = SFRI_MAGIC_TAP;
    ck_assert_int_eq(sfri_check_handle(NULL, SFRI_MAGIC_TAP, "f", "tap"), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfri_check_handle(&dead, SFRI_MAGIC_TAP, "f", "tap"), SFR_ERR_MISUSE);
    ck_assert_str_eq(sfr_last_error(), "f: tap is not a live handle of its kind (already destroyed)");
    ck_assert_int_eq(sfri_check_handle(&other, SFRI_MAGIC_TAP, "f", "tap"), SFR_ERR_MISUSE);
    ck_assert_int_eq(sfri_check_handle(&live, SFRI_MAGIC_TAP, "f", "tap"), SFR_OK);
}
END_TEST

Suite *common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("version_status_errors");
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, status_values_are_the_abi);
    tcase_add_test(tc, status_strings_are_distinct);
    tcase_add_test(tc, last_error_starts_empty_and_names_the_function);
    tcase_add_test(tc, last_error_is_bounded);
    tcase_add_test(tc, last_error_is_per_thread);
    tcase_add_test(tc, set_num_threads_sets_openmp);
    tcase_add_test(tc, handle_check_detects_dead_and_foreign);
    suite_add_tcase(s, tc);
    return s;
}
