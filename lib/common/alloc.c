/*
 * The library's own allocation functions, on top of the host's allocator
 * (sfr_set_allocator) or malloc/free. Every block made here is counted
 * while it lives, so that the allocator is only ever replaced when no
 * block exists: a block must go back to the allocator that made it.
 */
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "sfr/alloc.h"

/* The host's allocator; both NULL means malloc and free. Written only while
 * no block is live, which the header asks the host to ensure is not
 * concurrent with other libsfr calls. */
static sfr_alloc_fn host_alloc;
static sfr_free_fn host_free;
static void *host_user;

/* Successful allocations so far, for tests that check a step allocates
 * nothing, and blocks not yet freed. A relaxed atomic add is noise next to
 * the allocation it counts. */
static atomic_size_t alloc_count;
static atomic_size_t live_blocks;

size_t sfri_alloc_count(void)
{
    return atomic_load_explicit(&alloc_count, memory_order_relaxed);
}

SFR_API sfr_status sfr_set_allocator(sfr_alloc_fn alloc_fn, sfr_free_fn free_fn, void *user)
{
    static const char *const fn = "sfr_set_allocator";
    if ((alloc_fn == NULL) != (free_fn == NULL))
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "%s is NULL but %s is not: give both or neither",
                         alloc_fn == NULL ? "alloc_fn" : "free_fn",
                         alloc_fn == NULL ? "free_fn" : "alloc_fn");
    size_t live = atomic_load(&live_blocks);
    if (live != 0)
        return sfri_fail(SFR_ERR_STATE, fn,
                         "%zu blocks of the current allocator are still live: destroy every "
                         "handle first",
                         live);
    host_alloc = alloc_fn;
    host_free = free_fn;
    host_user = user;
    return SFR_OK;
}

size_t sfri_mul_size(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return SIZE_MAX;
    return count * size;
}

/* size bytes aligned to alignment (a power of two >= sizeof(void *)). */
static void *allocate(size_t alignment, size_t size)
{
    if (size == SIZE_MAX)
        return NULL;
    if (size == 0)
        size = 1;
    void *p = NULL;
    if (host_alloc != NULL)
        p = host_alloc(size, alignment, host_user);
    else if (alignment <= alignof(max_align_t))
        p = malloc(size);
    else if (posix_memalign(&p, alignment, size) != 0)
        p = NULL;
    if (p != NULL) {
        atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&live_blocks, 1, memory_order_relaxed);
    }
    return p;
}

void *sfri_malloc(size_t size)
{
    return allocate(alignof(max_align_t), size);
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
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
        return NULL;
    return allocate(alignment, size);
}

void sfri_free(void *ptr)
{
    if (ptr == NULL)
        return;
    atomic_fetch_sub_explicit(&live_blocks, 1, memory_order_relaxed);
    if (host_free != NULL)
        host_free(ptr, host_user);
    else
        free(ptr);
}
