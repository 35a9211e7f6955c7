/* Checks of the optimizers' hyper-parameters, which their kernels use as floats. */
#include <math.h>

#include "common.h"

sfr_status sfri_check_hyper(double v, const char *name, int positive, const char *func)
{
    if (!isfinite(v))
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "%s is %g: it must be finite", name, v);
    if (positive ? !(v > 0.0) : !(v >= 0.0))
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "%s is %g: it must be %s", name, v,
                         positive ? "> 0" : ">= 0");
    if (!isfinite((float)v))
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "%s is %g: it overflows a float", name, v);
    if (positive && (float)v == 0.0f)
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "%s is %g: it underflows a float to 0",
                         name, v);
    return SFR_OK;
}
