/*
 * Reference of a self-distillation head's term (docs/sfr.md, "Heads"), in
 * double precision, from the probabilities themselves: no log-sum-exp
 * shortcut and no fused gradient.
 */
#include <math.h>

#include "common/common.h"
#include "ref.h"

void sfri_ref_softmax(const double *z, int64_t k, double temp, double *p)
{
    double mx = -INFINITY, s = 0;
    for (int64_t j = 0; j < k; j++)
        mx = fmax(mx, z[j]);
    for (int64_t j = 0; j < k; j++)
        s += p[j] = exp((z[j] - mx) / temp);
    for (int64_t j = 0; j < k; j++)
        p[j] /= s;
}

int sfri_ref_head(const double *zh, const double *z, const int32_t *labels, int64_t n, int64_t k,
                  const struct sfri_ref_head_weights *wt, double *dzh, double *dz,
                  struct sfri_ref_head_loss *loss)
{
    double *p = sfri_malloc(sfri_mul_size((size_t)(3 * k), sizeof(double)));
    if (p == NULL)
        return -1;
    double *pt = p + k, *qt = pt + k;   // (K) each
    const double temp = wt->temp, scale = wt->w / (double)n;
    double ce_sum = 0, kl_sum = 0, rev_sum = 0;
    for (int64_t s = 0; s < n; s++) {
        sfri_ref_softmax(zh + s * k, k, 1.0, p);
        sfri_ref_softmax(zh + s * k, k, temp, qt);
        sfri_ref_softmax(z + s * k, k, temp, pt);
        ce_sum += -log(p[labels[s]]);
        for (int64_t j = 0; j < k; j++) {
            kl_sum += pt[j] * log(pt[j] / qt[j]);
            rev_sum += qt[j] * log(qt[j] / pt[j]);
            if (dzh != NULL)
                dzh[s * k + j] = scale * (wt->ce * (p[j] - (j == labels[s])) +
                                          wt->kl * temp * (qt[j] - pt[j]));
            if (dz != NULL)
                dz[s * k + j] = scale * wt->mutual * temp * (pt[j] - qt[j]);
        }
    }
    loss->ce = scale * wt->ce * ce_sum;
    loss->kl = scale * wt->kl * temp * temp * kl_sum;
    loss->mutual = scale * wt->mutual * temp * temp * rev_sum;
    sfri_free(p);
    return 0;
}
