/*
 * Reference of the class-wise term (docs/sfr.md, "Class-wise term"), in
 * double precision: partners found by a plain forward scan per sample.
 */
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
    int64_t *row = sfri_malloc(sfri_mul_size((size_t)n, sizeof *row));
    if (row == NULL)
        return -1;
    for (int64_t s = 0; s < n; s++)
        row[s] = sfri_ref_classwise_partner(labels, n, s);
    int rc = sfri_ref_soft_target(z, zt, row, n, k, temp, weight, dz, loss);
    sfri_free(row);
    return rc;
}
