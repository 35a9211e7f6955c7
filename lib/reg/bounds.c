/*
 * The ranges of the real-valued options that float32 math can carry: inside
 * them every finite input gives a finite loss and finite gradients (tap
 * gradients with `rms` normalization; with `none` they scale with the
 * features themselves). The parameter table (params.c) holds what the
 * contract allows; this table narrows the keys whose extreme values
 * overflowed to infinity or NaN while the compute reported SFR_OK.
 * include/sfr/reg.h and docs/sfr.md ("Parameters") list the same bounds.
 */
#include <math.h>

#include "common/common.h"
#include "reg_internal.h"

/* Not a key: the row of a pair's beta (sfr_reg_add_pair). */
#define BETA_ROW (-1)

struct bound {
    int key;            /* an sfr_param, or BETA_ROW */
    const char *name;
    double lo, hi;      /* inclusive */
};

static const struct bound bounds[] = {
    /*
     * Sinkhorn divides costs by eps (rms costs lie in [0, 4]). Below 1e-6
     * eps resolves cost differences smaller than the float rounding of the
     * features, so the plan follows rounding noise, and at 1e-310 the
     * divisions overflowed to NaN. Above 1e6 the plan is uniform to six
     * digits for such costs, and eps * log(A*B) must stay finite.
     */
    {SFR_PARAM_SINKHORN_EPS, "sinkhorn_eps", 1e-6, 1e6},
    /*
     * The gradient of a local feature whose channels are all zero (common
     * after a ReLU) is divided by sqrt(delta): 1e-12 keeps that factor at
     * 1e6, far from float's range, where 1e-320 gave infinities.
     */
    {SFR_PARAM_DELTA, "delta", 1e-12, INFINITY},
    /*
     * z / T for finite float logits: below 1e-3 softmax(z / T) is already
     * one-hot for every logit gap above 0.75 (exp(-750) underflows), so a
     * smaller T changes nothing a host could want, and at 1e-310 z / T
     * overflowed.
     */
    {SFR_PARAM_LS_TEMPERATURE, "ls_temperature", 1e-3, INFINITY},
    /*
     * The weights scale the float gradients they write: dlogits by
     * gamma / N (at most gamma), the tap gradients by beta / N. 1e6 leaves
     * both far inside float's range (about 3.4e38) even through the rms
     * normalization's 1 / sqrt(delta) and a million channels; 1e300 and
     * 1e308 overflowed.
     */
    {SFR_PARAM_GAMMA, "gamma", 0, 1e6},
    {BETA_ROW, "beta", 0, 1e6},
};

static sfr_status check_row(int key, double value, const char *func)
{
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        const struct bound *b = &bounds[i];
        if (b->key == key && !(value >= b->lo && value <= b->hi))
            return sfri_fail(SFR_ERR_INVALID_ARG, func, "%s = %.17g is outside [%g, %g], the "
                             "range float math carries", b->name, value, b->lo, b->hi);
    }
    return SFR_OK;
}

sfr_status sfri_bounds_check(sfr_param key, double value, const char *func)
{
    return check_row((int)key, value, func);
}

sfr_status sfri_beta_check(double beta, const char *func)
{
    return check_row(BETA_ROW, beta, func);
}
