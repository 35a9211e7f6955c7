/*
 * libsfr reaches its users: Python through ctypes (an installed package),
 * C++ through sfr.hpp, data-parallel training on MPI, static linking into an
 * SDK, and plots of a run. Each path runs for real; the work is in
 * tests/reach_checks.sh.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static int run_check(const char *what)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/reach_checks.sh' '%s' '%s' %s", SFR_SOURCE_DIR,
             SFR_SOURCE_DIR, SFR_BUILD_DIR, what);
    return system(cmd);
}

START_TEST(python_module_declares_and_checks_everything)
{
    ck_assert_int_eq(run_check("python-module"), 0);
}
END_TEST

START_TEST(python_package_installs_and_imports_from_outside_the_tree)
{
    ck_assert_int_eq(run_check("python-install"), 0);
}
END_TEST

START_TEST(python_trains_the_demo_network)
{
    ck_assert_int_eq(run_check("python-train"), 0);
}
END_TEST

START_TEST(python_external_taps_match_the_c_api_bitwise)
{
    ck_assert_int_eq(run_check("python-external"), 0);
}
END_TEST

START_TEST(cpp_header_compiles_alone_and_behaves)
{
    ck_assert_int_eq(run_check("cpp-header"), 0);
}
END_TEST

START_TEST(cpp_example_learns)
{
    ck_assert_int_eq(run_check("cpp-train"), 0);
}
END_TEST

START_TEST(mpi_ranks_stay_identical_and_learn)
{
    ck_assert_int_eq(run_check("mpi"), 0);
}
END_TEST

START_TEST(static_archive_links_through_pkg_config_and_runs)
{
    ck_assert_int_eq(run_check("static"), 0);
}
END_TEST

START_TEST(plot_makes_a_png_of_the_right_size)
{
    ck_assert_int_eq(run_check("plot"), 0);
}
END_TEST

Suite *reach_suite(void)
{
    Suite *s = suite_create("reach");
    TCase *python = tcase_create("python");
    tcase_set_timeout(python, 300);
    tcase_add_test(python, python_module_declares_and_checks_everything);
    tcase_add_test(python, python_package_installs_and_imports_from_outside_the_tree);
    tcase_add_test(python, python_trains_the_demo_network);
    tcase_add_test(python, python_external_taps_match_the_c_api_bitwise);
    suite_add_tcase(s, python);

    TCase *cpp = tcase_create("cpp");
    tcase_set_timeout(cpp, 300);
    tcase_add_test(cpp, cpp_header_compiles_alone_and_behaves);
    tcase_add_test(cpp, cpp_example_learns);
    suite_add_tcase(s, cpp);

    TCase *mpi = tcase_create("mpi");
    tcase_set_timeout(mpi, 300);
    tcase_add_test(mpi, mpi_ranks_stay_identical_and_learn);
    suite_add_tcase(s, mpi);

    TCase *link = tcase_create("static");
    tcase_set_timeout(link, 300);
    tcase_add_test(link, static_archive_links_through_pkg_config_and_runs);
    suite_add_tcase(s, link);

    TCase *plot = tcase_create("plot");
    tcase_set_timeout(plot, 120);
    tcase_add_test(plot, plot_makes_a_png_of_the_right_size);
    suite_add_tcase(s, plot);
    return s;
}
