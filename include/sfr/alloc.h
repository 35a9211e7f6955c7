/*
 * libsfr: the host's allocator.
 *
 * Every block libsfr allocates itself (handles, parameter and activation
 * buffers, oneDNN memories' storage and scratchpads, regularizer workspaces,
 * checkpoint buffers) comes from one process-wide allocator, malloc/free by
 * default. A host that accounts for memory, or that wants to test its own
 * behaviour when memory runs out, supplies its own pair of functions here.
 * oneDNN's own internal allocations (primitive descriptors, JIT code, its
 * primitive cache) and OpenMP's thread pool do not go through it.
 */
#ifndef SFR_ALLOC_H
#define SFR_ALLOC_H

#include <stddef.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Returns a block of at least size bytes (size >= 1) whose address is a
 * multiple of alignment (a power of two, at least sizeof(void *)), or NULL
 * when it cannot: the libsfr call then fails with SFR_ERR_NOMEM and leaves
 * its handle as it was. user is the pointer given to sfr_set_allocator.
 */
typedef void *(*sfr_alloc_fn)(size_t size, size_t alignment, void *user);

/* Releases a block alloc_fn returned; ptr is never NULL. */
typedef void (*sfr_free_fn)(void *ptr, void *user);

/*
 * Installs alloc_fn and free_fn (with their user pointer) as the allocator
 * of every later libsfr allocation, in every thread; sfr_set_allocator(NULL,
 * NULL, NULL) restores malloc and free. Both functions must be thread-safe
 * when handles are used from several threads.
 *
 * Because a block must be freed by the allocator that made it, the allocator
 * can only change while libsfr holds no block at all, that is while no
 * handle (net, regularizer, optimizer, wrapped tap) is alive: otherwise
 * SFR_ERR_STATE and nothing changes. Call it at start-up, or between runs
 * once everything is destroyed, and not while another thread is inside a
 * libsfr call.
 *
 * Errors: SFR_ERR_INVALID_ARG (exactly one of alloc_fn and free_fn is NULL),
 * SFR_ERR_STATE (a handle is alive). Since 0.1.0.
 */
SFR_API sfr_status sfr_set_allocator(sfr_alloc_fn alloc_fn, sfr_free_fn free_fn, void *user);

#ifdef __cplusplus
}
#endif

#endif /* SFR_ALLOC_H */
