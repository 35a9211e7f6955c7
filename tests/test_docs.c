/* The documentation's code snippets still match the code they quote. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

START_TEST(doc_snippets_match_their_sources)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/doc_checks.sh' '%s' snippets", SFR_SOURCE_DIR,
             SFR_SOURCE_DIR);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *docs_suite(void)
{
    Suite *s = suite_create("docs");
    TCase *tc = tcase_create("snippets");
    tcase_add_test(tc, doc_snippets_match_their_sources);
    suite_add_tcase(s, tc);
    return s;
}
