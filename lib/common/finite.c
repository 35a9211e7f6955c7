/* Finding values that are not numbers, for the checks before a save and after a load. */
#include <math.h>

#include "common.h"

int64_t sfri_first_nonfinite(const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return i;
    return -1;
}
