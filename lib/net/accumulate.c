/* The element-wise kernels the net runs itself: gradients summed over the
 * layers that share an input, the test that lets a zero tap gradient be
 * skipped, and the finiteness test of inputs and tap gradients. */
#include <math.h>

#include "net_impl.h"

void sfri_add_into(float *dst, const float *src, int64_t n)
{
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++)
        dst[i] += src[i];
}

/* Chunks keep the inner loop branch-free (it vectorises) while a nonzero
 * value still ends the scan early. */
#define ZERO_SCAN_CHUNK 1024

int sfri_all_zero(const float *x, int64_t n)
{
    for (int64_t start = 0; start < n; start += ZERO_SCAN_CHUNK) {
        int64_t end = n - start < ZERO_SCAN_CHUNK ? n : start + ZERO_SCAN_CHUNK;
        int nonzero = 0;
        for (int64_t i = start; i < end; i++)
            nonzero |= x[i] != 0.0f;
        if (nonzero)
            return 0;
    }
    return 1;
}

int sfri_all_finite(const float *x, int64_t n)
{
    int ok = 1;
#pragma omp parallel for simd reduction(&& : ok) schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++)
        ok = ok && isfinite(x[i]);
    return ok;
}
