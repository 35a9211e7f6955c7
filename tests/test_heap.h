/*
 * A test allocator for sfr_set_allocator: it counts what libsfr allocates
 * and frees, can fail one chosen allocation, and can keep freed blocks
 * allocated (so that a destroyed handle's memory stays readable and a test
 * may pass the stale pointer back to libsfr without undefined behaviour).
 */
#ifndef SFR_TESTS_TEST_HEAP_H
#define SFR_TESTS_TEST_HEAP_H

#include <stdatomic.h>

/* Blocks a keeping heap can hold back at once. */
#define TEST_HEAP_KEPT_MAX 4096

struct test_heap {
    atomic_long calls;  /* allocation requests so far, failed ones included */
    atomic_long live;   /* blocks handed to libsfr and not freed by it yet */
    atomic_long failed; /* allocations refused so far */
    long fail_at;       /* the value of calls whose request fails; 0: none */
    int keep;           /* 1: freed blocks are held until test_heap_uninstall */
    void *kept[TEST_HEAP_KEPT_MAX];
    int n_kept;
};

/* Zeroes heap, sets keep, and installs it as libsfr's allocator. */
void test_heap_install(struct test_heap *heap, int keep);

/* Makes the k-th allocation from now (k >= 1) fail; k = 0 disarms. */
void test_heap_fail_in(struct test_heap *heap, long k);

/* Restores malloc/free (every handle must be destroyed: asserted) and frees
 * the kept blocks. */
void test_heap_uninstall(struct test_heap *heap);

#endif /* SFR_TESTS_TEST_HEAP_H */
