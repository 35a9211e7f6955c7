/*
 * The documentation cannot drift from the code: the snippets still match the
 * code they quote, and the API reference renders without a warning,
 * documents every exported symbol and opens on a map of the API.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one subcommand of tests/doc_checks.sh; its output explains a failure. */
static int run_check(const char *what)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/doc_checks.sh' '%s' %s", SFR_SOURCE_DIR,
             SFR_SOURCE_DIR, what);
    return system(cmd);
}

START_TEST(doc_snippets_match_their_sources)
{
    ck_assert_int_eq(run_check("snippets"), 0);
}
END_TEST

START_TEST(integration_guide_quotes_a_whole_program)
{
    ck_assert_int_eq(run_check("guide-program"), 0);
}
END_TEST

START_TEST(api_reference_renders_without_warnings)
{
    ck_assert_int_eq(run_check("api-warnings"), 0);
}
END_TEST

START_TEST(api_reference_documents_every_exported_symbol)
{
    ck_assert_int_eq(run_check("api-symbols"), 0);
}
END_TEST

START_TEST(api_reference_index_maps_the_api)
{
    ck_assert_int_eq(run_check("api-map"), 0);
}
END_TEST

Suite *docs_suite(void)
{
    Suite *s = suite_create("docs");
    TCase *tc = tcase_create("snippets");
    tcase_add_test(tc, doc_snippets_match_their_sources);
    tcase_add_test(tc, integration_guide_quotes_a_whole_program);
    suite_add_tcase(s, tc);
    TCase *api = tcase_create("api_reference");
    /* Doxygen takes a few seconds; more on a loaded machine. */
    tcase_set_timeout(api, 120);
    tcase_add_test(api, api_reference_renders_without_warnings);
    tcase_add_test(api, api_reference_documents_every_exported_symbol);
    tcase_add_test(api, api_reference_index_maps_the_api);
    suite_add_tcase(s, api);
    return s;
}
