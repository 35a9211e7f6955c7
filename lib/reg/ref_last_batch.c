/*
 * Reference of the last-batch term (docs/sfr.md, "Last-batch term"), in
 * double precision: each id looked up by a plain scan of the stored batch,
 * the KL from the probabilities themselves.
 */
#include <math.h>

#include "common/common.h"
#include "ref.h"

int64_t sfri_ref_last_batch_row(const int64_t *prev_ids, int64_t n_prev, int64_t id)
{
    for (int64_t r = 0; r < n_prev; r++)
        if (prev_ids[r] == id)
            return r;
    return -1;
}

int sfri_ref_last_batch(const double *z, const int64_t *ids, int64_t n, const double *zp,
                        const int64_t *prev_ids, int64_t n_prev, int64_t k, double temp,
                        double weight, double *dz, double *loss)
{
    double *p = sfri_malloc(sfri_mul_size((size_t)(2 * k), sizeof(double)));
    if (p == NULL)
        return -1;
    double *pt = p + k;   // (K) each
    double kl = 0;
    for (int64_t s = 0; s < n; s++) {
        const int64_t r = sfri_ref_last_batch_row(prev_ids, n_prev, ids[s]);
        for (int64_t j = 0; dz != NULL && j < k; j++)
            dz[s * k + j] = 0;
        if (r < 0)
            continue;
        sfri_ref_softmax(z + s * k, k, temp, p);
        sfri_ref_softmax(zp + r * k, k, temp, pt);
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
