/*
 * Internal helpers shared by every part of libsfr: error reporting, handle
 * magic numbers and allocation. Nothing here is exported (the library is
 * built with -fvisibility=hidden and only SFR_API declarations are public).
 */
#ifndef SFR_LIB_COMMON_H
#define SFR_LIB_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "sfr/status.h"

/* Longest message kept for sfr_last_error(), terminator included. */
#define SFRI_ERROR_CAP 512

/*
 * Records "func: <formatted message>" as the calling thread's last error and
 * returns code, so that a failure path reads `return sfri_fail(...)`.
 */
sfr_status sfri_fail(sfr_status code, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Inserts formatted context into the calling thread's last error, right
 * after the "func: " that sfri_fail wrote ("func: layer 3 (conv): oneDNN
 * ... failed"), and returns code: a caller that knows more than the
 * function that failed adds it without rewriting every message.
 */
sfr_status sfri_fail_context(sfr_status code, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Handle kinds. Each public handle starts with a uint32_t magic word so that
 * a destroyed or foreign pointer is reported as SFR_ERR_MISUSE rather than
 * dereferenced further. Destroy overwrites the word with SFRI_MAGIC_DEAD.
 */
enum {
    SFRI_MAGIC_TAP = 0x53465254u, /* "SFRT" */
    SFRI_MAGIC_REG = 0x53465252u, /* "SFRR" */
    SFRI_MAGIC_NET = 0x5346524Eu, /* "SFRN" */
    SFRI_MAGIC_SGD = 0x53465253u, /* "SFRS" */
    SFRI_MAGIC_ADAMW = 0x53465241u, /* "SFRA" */
    SFRI_MAGIC_SCHEDULE = 0x5346524Cu, /* "SFRL" */
    SFRI_MAGIC_CHECKPOINT = 0x53465243u, /* "SFRC" */
    SFRI_MAGIC_DEAD = 0xDEADF00Du
};

/*
 * Checks that handle (whose first member is its magic word) is non-NULL and
 * live of the expected kind; on failure records the error for func.
 */
sfr_status sfri_check_handle(const void *handle, uint32_t magic, const char *func,
                             const char *what);

/*
 * The library's allocator. Every allocation libsfr makes itself goes
 * through these, so that they can be counted and failed in tests. Sizes
 * that overflow return NULL.
 */
void *sfri_malloc(size_t size);
void *sfri_calloc(size_t count, size_t size);
void *sfri_aligned_alloc(size_t alignment, size_t size);
void sfri_free(void *ptr);

/* Allocations made so far by the functions above, all threads together. */
size_t sfri_alloc_count(void);

/* The index of the first NaN or infinity among n floats, or -1 (finite.c). */
int64_t sfri_first_nonfinite(const float *x, int64_t n);

/* count*size, or SIZE_MAX when it overflows (sfri_malloc then fails). */
size_t sfri_mul_size(size_t count, size_t size);

/*
 * An optimizer's hyper-parameter v must be finite, >= 0 (> 0 when positive
 * is set) and stay finite (and non-zero when positive) as a float, since the
 * kernels work in float as PyTorch does for float32 parameters. On failure
 * records the error for func, naming the value name.
 */
sfr_status sfri_check_hyper(double v, const char *name, int positive, const char *func);

/*
 * The hot kernels are compiled for x86-64-v4 (AVX-512) and v3 (AVX2) besides
 * the generic x86-64 baseline and picked at load time (no -march=native in
 * the build). The levels, unlike "avx512f" alone, include FMA.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SFRI_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SFRI_CLONES
#endif

#endif /* SFR_LIB_COMMON_H */
