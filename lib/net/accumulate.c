/* The one element-wise kernel the net runs itself: residual sums and
 * gradients summed over the layers that share an input. */
#include "net_impl.h"

void sfri_add_into(float *dst, const float *src, int64_t n)
{
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++)
        dst[i] += src[i];
}
