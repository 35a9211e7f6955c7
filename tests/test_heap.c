/* The counting, failing and keeping test allocator of test_heap.h. */
#include "test_heap.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfr/sfr.h"

static void *heap_alloc(size_t size, size_t alignment, void *user)
{
    struct test_heap *heap = user;
    /* The contract sfr_alloc_fn promises its implementer. */
    ck_assert_uint_ge(size, 1);
    ck_assert_uint_ge(alignment, sizeof(void *));
    ck_assert_uint_eq(alignment & (alignment - 1), 0);
    long call = atomic_fetch_add(&heap->calls, 1) + 1;
    if (call == heap->fail_at) {
        atomic_fetch_add(&heap->failed, 1);
        return NULL;
    }
    void *p = NULL;
    if (posix_memalign(&p, alignment, size) != 0)
        return NULL;
    /* Garbage, not zeroes: code that reads memory it never wrote shows it. */
    memset(p, 0xA5, size);
    atomic_fetch_add(&heap->live, 1);
    return p;
}

static void heap_free(void *ptr, void *user)
{
    struct test_heap *heap = user;
    ck_assert_ptr_nonnull(ptr);
    ck_assert_int_gt(atomic_fetch_sub(&heap->live, 1), 0);
    if (!heap->keep) {
        free(ptr);
        return;
    }
    ck_assert_int_lt(heap->n_kept, TEST_HEAP_KEPT_MAX);
    heap->kept[heap->n_kept++] = ptr;
}

void test_heap_install(struct test_heap *heap, int keep)
{
    memset(heap, 0, sizeof *heap);
    heap->keep = keep;
    ck_assert_int_eq(sfr_set_allocator(heap_alloc, heap_free, heap), SFR_OK);
}

void test_heap_fail_in(struct test_heap *heap, long k)
{
    heap->fail_at = k > 0 ? atomic_load(&heap->calls) + k : 0;
}

void test_heap_uninstall(struct test_heap *heap)
{
    ck_assert_int_eq(atomic_load(&heap->live), 0);
    ck_assert_int_eq(sfr_set_allocator(NULL, NULL, NULL), SFR_OK);
    for (int i = 0; i < heap->n_kept; i++)
        free(heap->kept[i]);
    heap->n_kept = 0;
}
