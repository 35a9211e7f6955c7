/*
 * Reference of the class-wise term (docs/sfr.md, "Class-wise term"), in
 * double precision: partners found by a plain forward scan per sample, the
 * KL from the probabilities themselves.
 */
#include <math.h>

#include "common/common.h"
#include "ref.h"

int64_t sfri_ref_classwise_partner(const int32_t *labels, int64_t n, int64_t s)
{
    for (int64_t step = 1; step < n; step++) {
        int64_t m = (s + step) % n;
        if (labels[m] == labels[s])
            return m;
    }
    return -1;
}

int sfri_ref_classwise(const double *z, const double *zt, const int32_t *labels, int64_t n,
                       int64_t k, double temp, double weight, double *dz, double *loss)
{
    double *p = sfri_malloc(sfri_mul_size((size_t)(2 * k), sizeof(double)));
    if (p == NULL)
        return -1;
    double *pt = p + k;   // (K) each
    double kl = 0;
    for (int64_t s = 0; s < n; s++) {
        const int64_t m = sfri_ref_classwise_partner(labels, n, s);
        for (int64_t j = 0; dz != NULL && j < k; j++)
            dz[s * k + j] = 0;
        if (m < 0)
            continue;
        sfri_ref_softmax(z + s * k, k, temp, p);
        sfri_ref_softmax(zt + m * k, k, temp, pt);
        for (int64_t j = 0; j < k; j++) {
            kl += pt[j] * log(pt[j] / p[j]);
            if (dz != NULL)
                dz[s * k + j] = weight / (double)n * temp * (p[j] - pt[j]);
        }
    }
    *loss = weight * temp * temp * kl / (double)n;
    sfri_free(p);
    return 0;
}
