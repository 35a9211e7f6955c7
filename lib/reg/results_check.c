/*
 * The safety net of sfr_reg_compute: inside the ranges of bounds.c every
 * finite input gives finite results, and this check, made after the
 * transport (which writes only the workspace) and before anything the host
 * sees is written, turns any case those ranges miss into SFR_ERR_NONFINITE
 * instead of a NaN or an infinity reported with SFR_OK.
 */
#include <float.h>
#include <math.h>

#include "reg_internal.h"

/* Every value of x (n) is a number float can hold. */
static int fits_float(const double *x, int64_t n)
{
    int ok = 1;
    for (int64_t i = 0; i < n; i++)
        ok &= fabs(x[i]) <= FLT_MAX;   /* false for NaN too */
    return ok;
}

int sfri_results_finite(const sfr_reg *reg, int64_t n, int teacher_grad, double label_loss,
                        double dlogit_bound)
{
    double total = label_loss;
    int ok = dlogit_bound <= FLT_MAX;
    for (int p = 0; p < reg->npairs && ok; p++) {
        const struct sfri_pair *pair = &reg->pairs[p];
        const struct sfri_pair_shape *sh = &pair->shape;
        double sum = 0;
        for (int64_t s = 0; s < n; s++)
            sum += reg->ws[sh->loss + s];
        total += pair->beta * sum / (double)n;
        ok = fits_float(reg->ws + sh->dxs, n * sh->a * sh->cs) &&
             (!teacher_grad || fits_float(reg->ws + sh->dys, n * sh->b * sh->ct));
    }
    return ok && isfinite(total);
}
