/*
 * The build's promises: headers that compile alone, only sfr_ symbols
 * exported (and exactly the committed list), the SONAME, and an install a
 * pkg-config or CMake user can build against, where it was installed or
 * moved elsewhere. The work is in tests/build_checks.sh.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static int run_check(const char *what)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/build_checks.sh' '%s' '%s' %s", SFR_SOURCE_DIR,
             SFR_SOURCE_DIR, SFR_BUILD_DIR, what);
    return system(cmd);
}

START_TEST(headers_compile_alone_as_c99_and_cxx)
{
    ck_assert_int_eq(run_check("headers"), 0);
}
END_TEST

START_TEST(only_listed_sfr_symbols_are_exported)
{
    ck_assert_int_eq(run_check("symbols"), 0);
}
END_TEST

START_TEST(shared_library_has_soname_and_links)
{
    ck_assert_int_eq(run_check("soname"), 0);
}
END_TEST

START_TEST(staged_install_builds_with_pkg_config)
{
    ck_assert_int_eq(run_check("install"), 0);
}
END_TEST

START_TEST(demo_needs_only_the_build_packages)
{
    ck_assert_int_eq(run_check("deps"), 0);
}
END_TEST

START_TEST(documented_link_commands_work_as_written)
{
    ck_assert_int_eq(run_check("link-commands"), 0);
}
END_TEST

START_TEST(relocated_install_builds_with_pkg_config)
{
    ck_assert_int_eq(run_check("relocated-pkg-config"), 0);
}
END_TEST

START_TEST(relocated_install_builds_with_cmake)
{
    ck_assert_int_eq(run_check("relocated-cmake"), 0);
}
END_TEST

Suite *build_suite(void)
{
    Suite *s = suite_create("build");
    TCase *tc = tcase_create("artefacts");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, headers_compile_alone_as_c99_and_cxx);
    tcase_add_test(tc, only_listed_sfr_symbols_are_exported);
    tcase_add_test(tc, shared_library_has_soname_and_links);
    tcase_add_test(tc, staged_install_builds_with_pkg_config);
    tcase_add_test(tc, demo_needs_only_the_build_packages);
    tcase_add_test(tc, documented_link_commands_work_as_written);
    tcase_add_test(tc, relocated_install_builds_with_pkg_config);
    tcase_add_test(tc, relocated_install_builds_with_cmake);
    suite_add_tcase(s, tc);
    return s;
}
