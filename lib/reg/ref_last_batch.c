/*
 * Reference of the last-batch term (docs/sfr.md, "Last-batch term"), in
 * double precision: each id looked up by a plain scan of the stored batch.
 */
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
    int64_t *row = sfri_malloc(sfri_mul_size((size_t)n, sizeof *row));
    if (row == NULL)
        return -1;
    for (int64_t s = 0; s < n; s++)
        row[s] = sfri_ref_last_batch_row(prev_ids, n_prev, ids[s]);
    int rc = sfri_ref_soft_target(z, zp, row, n, k, temp, weight, dz, loss);
    sfri_free(row);
    return rc;
}
