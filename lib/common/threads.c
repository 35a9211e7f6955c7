/*
 * Thread count. libsfr and oneDNN share libgomp's pool, so the OpenMP
 * per-thread setting governs both.
 */
#include <omp.h>
#include <stdlib.h>

#include "common.h"

/* OMP_NUM_THREADS's first value when it is a positive integer, else 0. */
static int env_thread_count(void)
{
    const char *s = getenv("OMP_NUM_THREADS");
    if (s == NULL || *s == '\0')
        return 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || (*end != '\0' && *end != ',') || v < 1 || v > 1 << 20)
        return 0;
    return (int)v;
}

SFR_API sfr_status sfr_set_num_threads(int n)
{
    if (n < 0)
        return sfri_fail(SFR_ERR_INVALID_ARG, __func__, "thread count %d is negative", n);
    if (n == 0) {
        n = env_thread_count();
        if (n == 0)
            n = omp_get_num_procs();
    }
    omp_set_num_threads(n);
    return SFR_OK;
}
