/*
 * What the benchmark programs need: a clock in milliseconds, a comparison
 * for sorting timings (medians), allocation that stops the program on
 * failure, and a CHECK that stops it with libsfr's message. Each program
 * defines BENCH_NAME before including this header.
 */
#ifndef SFR_BENCH_UTIL_H
#define SFR_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sfr/sfr.h"

#ifndef BENCH_NAME
#error "define BENCH_NAME before including bench_util.h"
#endif

/* Milliseconds on clock (CLOCK_MONOTONIC for wall time, a CPU-time clock for CPU). */
static inline double clock_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* qsort comparison of doubles, ascending. */
static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* n zeroed bytes, or the program stops. */
static inline void *xalloc(size_t n)
{
    void *p = calloc(n, 1);
    if (p == NULL) {
        fprintf(stderr, BENCH_NAME ": out of memory\n");
        exit(1);
    }
    return p;
}

#define CHECK(call)                                                                       \
    do {                                                                                  \
        sfr_status st_ = (call);                                                          \
        if (st_ != SFR_OK) {                                                              \
            fprintf(stderr, BENCH_NAME ": %s: %s\n", #call, sfr_last_error());            \
            exit(1);                                                                      \
        }                                                                                 \
    } while (0)

#endif /* SFR_BENCH_UTIL_H */
