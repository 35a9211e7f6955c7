/**
 * @file sfr/alloc.h
 * @brief The host's allocator.
 *
 * Every block libsfr allocates itself (handles, parameter and activation
 * buffers, oneDNN memories' storage and scratchpads, regularizer workspaces,
 * checkpoint buffers) comes from one process-wide allocator, malloc/free by
 * default. A host that accounts for memory, or that wants to test its own
 * behaviour when memory runs out, supplies its own pair of functions here.
 * oneDNN's own internal allocations (primitive descriptors, JIT code, its
 * primitive cache) and OpenMP's thread pool do not go through it
 * (docs/allocation.md).
 *
 * @since 0.1.0
 */
#ifndef SFR_ALLOC_H
#define SFR_ALLOC_H

#include <stddef.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief A host allocation function.
 *
 * Returns a block of at least @p size bytes (size >= 1) whose address is a
 * multiple of @p alignment (a power of two, at least sizeof(void *)), or NULL
 * when it cannot: the libsfr call then fails with ::SFR_ERR_NOMEM and leaves
 * its handle as it was. @p user is the pointer given to sfr_set_allocator().
 * Must be thread-safe when handles are used from several threads.
 *
 * @since 0.1.0
 */
typedef void *(*sfr_alloc_fn)(size_t size, size_t alignment, void *user);

/**
 * @brief A host release function: frees a block the matching ::sfr_alloc_fn
 * returned; @p ptr is never NULL. @p user is the pointer given to
 * sfr_set_allocator(). Must be thread-safe when handles are used from
 * several threads.
 *
 * @since 0.1.0
 */
typedef void (*sfr_free_fn)(void *ptr, void *user);

/**
 * @brief Installs the allocator of every later libsfr allocation, in every
 * thread.
 *
 * Because a block must be freed by the allocator that made it, the allocator
 * can only change while libsfr holds no block at all, that is while no
 * handle (net, regularizer, optimizer, wrapped tap) is alive. Call it at
 * start-up, or between runs once everything is destroyed, and not while
 * another thread is inside a libsfr call.
 *
 * @param[in] alloc_fn The allocation function, or NULL (with free_fn NULL)
 *                     to restore malloc and free.
 * @param[in] free_fn  The matching release function, or NULL with alloc_fn.
 * @param[in] user     Passed unchanged to both functions; may be NULL.
 * @retval SFR_OK              The allocator is installed.
 * @retval SFR_ERR_INVALID_ARG Exactly one of alloc_fn and free_fn is NULL.
 * @retval SFR_ERR_STATE       A libsfr block (a handle) is alive; nothing
 *                             changed.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_set_allocator(sfr_alloc_fn alloc_fn, sfr_free_fn free_fn, void *user);

#ifdef __cplusplus
}
#endif

#endif /* SFR_ALLOC_H */
