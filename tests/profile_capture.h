/*
 * Tests that read SFR_PROFILE's output: stderr goes to a temporary file and
 * the profile is on for nets compiled from then on. Check runs each test in
 * a child process, so neither outlives the test.
 */
#ifndef SFR_TESTS_PROFILE_CAPTURE_H
#define SFR_TESTS_PROFILE_CAPTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* path: a writable "...XXXXXX" template, completed here. */
static inline void profile_capture_start(char *path)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
    close(fd);
    setenv("SFR_PROFILE", "1", 1);
}

/* The captured output so far, open for reading; the caller closes it and
 * unlinks path. */
static inline FILE *profile_capture_open(const char *path)
{
    fflush(stderr);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    return f;
}

#endif /* SFR_TESTS_PROFILE_CAPTURE_H */
