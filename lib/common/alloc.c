/*
 * The library's own allocation functions. Aligned blocks keep their offset
 * in front of the block so that sfri_free can release any of them.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* Successful allocations so far, for tests that check a step allocates nothing. A relaxed
 * atomic add is noise next to the allocation it counts. */
static atomic_size_t alloc_count;

size_t sfri_alloc_count(void)
{
    return atomic_load_explicit(&alloc_count, memory_order_relaxed);
}

static void *counted(void *p)
{
    if (p != NULL)
        atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
    return p;
}

size_t sfri_mul_size(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return SIZE_MAX;
    return count * size;
}

void *sfri_malloc(size_t size)
{
    if (size == SIZE_MAX)
        return NULL;
    return counted(malloc(size ? size : 1));
}

void *sfri_calloc(size_t count, size_t size)
{
    size_t total = sfri_mul_size(count, size);
    void *p = sfri_malloc(total);
    if (p != NULL)
        memset(p, 0, total);
    return p;
}

void *sfri_aligned_alloc(size_t alignment, size_t size)
{
    void *p = NULL;
    if (size == SIZE_MAX || alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
        return NULL;
    if (posix_memalign(&p, alignment, size ? size : 1) != 0)
        return NULL;
    return counted(p);
}

void sfri_free(void *ptr)
{
    free(ptr);
}
