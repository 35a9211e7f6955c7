/*
 * Temporary directories for the checkpoint tests: make one, count what is in
 * it (a save must leave no temporary file behind), remove it. Header-only,
 * for the test files that write checkpoints.
 */
#ifndef SFR_TESTS_TEMP_DIR_H
#define SFR_TESTS_TEMP_DIR_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh directory under /tmp. */
static inline void make_temp_dir(char dir[64])
{
    snprintf(dir, 64, "/tmp/sfr-ckpt-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Entries of dir other than "." and "..". */
static inline int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static inline void remove_tree(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

#endif /* SFR_TESTS_TEMP_DIR_H */
