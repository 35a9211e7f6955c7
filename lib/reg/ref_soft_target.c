/*
 * Reference of the softened-prediction KL the class-wise and last-batch
 * terms share (soft_target.c), in double precision from the probabilities
 * themselves.
 */
#include <math.h>

#include "common/common.h"
#include "ref.h"

int sfri_ref_soft_target(const double *z, const double *zt, const int64_t *row, int64_t n,
                         int64_t k, double temp, double weight, double *dz, double *loss)
{
    double *p = sfri_malloc(sfri_mul_size((size_t)(2 * k), sizeof(double)));
    if (p == NULL)
        return -1;
    double *pt = p + k;   // (K) each
    double kl = 0;
    for (int64_t s = 0; s < n; s++) {
        for (int64_t j = 0; dz != NULL && j < k; j++)
            dz[s * k + j] = 0;
        if (row[s] < 0)
            continue;
        sfri_ref_softmax(z + s * k, k, temp, p);
        sfri_ref_softmax(zt + row[s] * k, k, temp, pt);
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
