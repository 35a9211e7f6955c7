/*
 * Self-distillation from the last mini-batch (docs/sfr.md, "Last-batch
 * term"; DLB): the host makes consecutive batches share samples, and each
 * sample of this batch that was also in the previous compute's batch learns
 * from the prediction the net made for it there, a teacher one step old
 * that saw another augmentation of the image.
 *
 * With the stored logits z'_n of sample n's id (row r(n) of the stored
 * batch, none when its id was not there), T = last_batch_temperature,
 * lambda = last_batch and w(t) the weight factor:
 *   D = lambda * w(t) * T^2 / N * sum_{n with r(n)}
 *           KL(softmax(z'_n / T) || softmax(z_n / T))
 *   dD/dz_n = lambda * w(t) / N * T * (softmax(z_n / T) - softmax(z'_n / T))
 * An id stored twice takes the lower row. The stored batch is that of the
 * last successful compute with logits and lambda > 0; one with lambda = 0
 * forgets it, as does loading a checkpoint (it is not saved there).
 */
#include <string.h>

#include "common/common.h"
#include "reg_internal.h"

SFR_API sfr_status sfr_reg_last_batch_loss(const sfr_reg *reg, double *value)
{
    return sfri_reg_stored_loss(reg, offsetof(sfr_reg, last_batch_loss), value,
                                "sfr_reg_last_batch_loss");
}

/* Sizes a slot for n x k, keeping what it stores. */
static int grow_slot(struct sfri_last_slot *slot, int64_t n, int64_t k)
{
    const size_t kept = (size_t)slot->n;
    return sfri_grow_buffer((void **)&slot->logits, &slot->logits_cap,
                            sfri_mul_size((size_t)n, (size_t)k), kept * (size_t)slot->k,
                            sizeof(float)) != 0 ||
           sfri_grow_buffer((void **)&slot->order, &slot->order_cap, (size_t)n, kept,
                            sizeof(struct sfri_id_row)) != 0;
}

/* The lowest row of id in a stored batch, or -1. */
static int64_t find_row(const struct sfri_last_slot *slot, int64_t id)
{
    int64_t lo = 0, hi = slot->n;   /* first entry with its id >= id */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (slot->order[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < slot->n && slot->order[lo].id == id ? slot->order[lo].row : -1;
}

sfr_status sfri_last_batch_prepare(sfr_reg *reg, int64_t n, int64_t k, const char *fn)
{
    /* Both slots, so that the compute after this one allocates nothing either. */
    if (sfri_grow_buffer((void **)&reg->last_match, &reg->last_match_cap, (size_t)n, 0,
                         sizeof(int64_t)) != 0 ||
        grow_slot(&reg->last[0], n, k) != 0 || grow_slot(&reg->last[1], n, k) != 0)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for the last-batch term's %lld "
                         "samples of %lld classes", (long long)n, (long long)k);
    const struct sfri_last_slot *cur = &reg->last[reg->last_cur];
    for (int64_t s = 0; s < n; s++)
        reg->last_match[s] = cur->k == k ? find_row(cur, reg->ids[s]) : -1;
    return SFR_OK;
}

double sfri_last_batch_term(const sfr_reg *reg, const float *logits, int64_t n, int64_t k,
                            double weight, float *dlogits)
{
    return sfri_soft_target_kl(logits, reg->last[reg->last_cur].logits, reg->last_match, n, k,
                               reg->param[SFRI_P_LAST_BATCH_TEMPERATURE],
                               weight * reg->param[SFRI_P_LAST_BATCH] / (double)n, dlogits);
}

static int before(struct sfri_id_row a, struct sfri_id_row b)
{
    return a.id < b.id || (a.id == b.id && a.row < b.row);
}

/* Moves v[i] down the max-heap v[0, n) to where its children are not after it. */
static void sift_down(struct sfri_id_row *v, int64_t i, int64_t n)
{
    for (;;) {
        int64_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < n && before(v[big], v[l]))
            big = l;
        if (r < n && before(v[big], v[r]))
            big = r;
        if (big == i)
            return;
        struct sfri_id_row t = v[i];
        v[i] = v[big];
        v[big] = t;
        i = big;
    }
}

/* Heapsort by (id, row): in place and O(n log n), where glibc's qsort may
 * allocate a merge buffer on every step. */
static void sort_by_id(struct sfri_id_row *v, int64_t n)
{
    for (int64_t i = n / 2 - 1; i >= 0; i--)
        sift_down(v, i, n);
    for (int64_t end = n - 1; end > 0; end--) {
        struct sfri_id_row t = v[0];
        v[0] = v[end];
        v[end] = t;
        sift_down(v, 0, end);
    }
}

void sfri_last_batch_store(sfr_reg *reg, const float *logits, int64_t n, int64_t k)
{
    struct sfri_last_slot *next = &reg->last[1 - reg->last_cur];
    memcpy(next->logits, logits, (size_t)n * (size_t)k * sizeof(float));
    for (int64_t s = 0; s < n; s++)
        next->order[s] = (struct sfri_id_row){reg->ids[s], s};
    sort_by_id(next->order, n);
    next->n = n;
    next->k = k;
    reg->last_cur = 1 - reg->last_cur;
}

void sfri_last_batch_forget(sfr_reg *reg)
{
    reg->last[0].n = reg->last[1].n = 0;
    reg->last[0].k = reg->last[1].k = 0;
}

void sfri_last_batch_free(sfr_reg *reg)
{
    for (int i = 0; i < 2; i++) {
        sfri_free(reg->last[i].logits);
        sfri_free(reg->last[i].order);
    }
    sfri_free(reg->last_match);
}
