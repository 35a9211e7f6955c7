/*
 * Shared by the libFuzzer targets on the public API: a reader that turns
 * the fuzzer's bytes into small numbers and raw floats (NaN and infinities
 * come out of raw bits on their own), and a bounded allocator installed with
 * sfr_set_allocator, so that sizes the input asks for beyond the harness's
 * budget become SFR_ERR_NOMEM (a path worth fuzzing) rather than the
 * sanitizer's out-of-memory report. Header-only: each target is one program.
 */
#ifndef SFR_FUZZ_INPUT_H
#define SFR_FUZZ_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sfr/sfr.h"

/* Largest block the harness allocator grants. */
#define FUZZ_MAX_BLOCK ((size_t)32 << 20)

struct fuzz_input {
    const uint8_t *p;
    size_t left;
};

/* Next byte, 0 once the input is used up. */
static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

/* A value in [lo, hi] from one byte. */
static inline int fuzz_range(struct fuzz_input *in, int lo, int hi)
{
    return lo + (int)(fuzz_u8(in) % (unsigned)(hi - lo + 1));
}

static inline uint64_t fuzz_u64(struct fuzz_input *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | fuzz_u8(in);
    return v;
}

/* A float from four raw bytes: any bit pattern, NaN and infinities included. */
static inline float fuzz_float(struct fuzz_input *in)
{
    uint32_t bits = 0;
    for (int i = 0; i < 4; i++)
        bits = bits << 8 | fuzz_u8(in);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline double fuzz_double(struct fuzz_input *in)
{
    uint64_t bits = fuzz_u64(in);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* n floats: mostly small values, with a raw bit pattern every few. */
static inline void fuzz_floats(struct fuzz_input *in, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = fuzz_u8(in);
        out[i] = b < 240 ? (float)b / 60.0f - 2.0f : fuzz_float(in);
    }
}

static void *fuzz_alloc(size_t size, size_t alignment, void *user)
{
    (void)user;
    void *p = NULL;
    if (size > FUZZ_MAX_BLOCK || posix_memalign(&p, alignment, size) != 0)
        return NULL;
    return p;
}

static void fuzz_free(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

/* Installs the bounded allocator and one OpenMP thread, once per process. */
static inline void fuzz_setup(void)
{
    static int done;
    if (done)
        return;
    if (sfr_set_allocator(fuzz_alloc, fuzz_free, NULL) != SFR_OK ||
        sfr_set_num_threads(1) != SFR_OK)
        abort();
    done = 1;
}

/* Statuses a call may return on hostile input from live handles and a
 * memory-only harness; anything else (I/O, format, misuse, unknown) aborts. */
static inline void fuzz_expect(sfr_status st)
{
    switch (st) {
    case SFR_OK:
    case SFR_ERR_INVALID_ARG:
    case SFR_ERR_SHAPE:
    case SFR_ERR_NONFINITE:
    case SFR_ERR_NOMEM:
    case SFR_ERR_STATE:
    case SFR_ERR_BACKEND:
    case SFR_ERR_UNSUPPORTED:
        return;
    default:
        abort();
    }
}

#endif /* SFR_FUZZ_INPUT_H */
