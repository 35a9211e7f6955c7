/*
 * The regularizer's section of a training-state checkpoint (tag "REG ",
 * version 1; docs/checkpoint-format.md):
 *
 *   u32 P, then P times: u32 key (an sfr_param), f64 value
 *   f64 progress
 *   u32 pairs, u32 heads       the counts the host declared (checked, not set)
 *   u64 rows, u64 k            the `past` bank: rows = ls_bank_size, 0 when none
 *   rows * k floats            softmax predictions, when k > 0 (zeros in rows not seen)
 *   rows bytes                 1 where a prediction is stored, else 0
 *
 * Keys are written by their public numbers, so that adding a key keeps older
 * checkpoints loadable: a key a checkpoint lacks keeps its current value.
 */
#include <math.h>

#include "../checkpoint/section.h"
#include "common/common.h"
#include "reg_internal.h"

struct pending {
    double param[SFRI_P_COUNT];
    double progress;
    float *bank;
    uint8_t *seen;
    int64_t bank_k;
};

static int64_t bank_rows(const sfr_reg *reg)
{
    return reg->bank_k > 0 ? (int64_t)reg->param[SFRI_P_LS_BANK_SIZE] : 0;
}

static sfr_status check(const void *obj, const char *fn)
{
    const sfr_reg *reg = obj;
    const int64_t k = reg->bank_k;
    for (int64_t row = 0; row < bank_rows(reg); row++)
        for (int64_t j = 0; reg->bank_seen[row] && j < k; j++)
            if (!isfinite(reg->bank[row * k + j]))
                return sfri_fail(SFR_ERR_NONFINITE, fn, "the past bank's row %lld holds %g: "
                                 "nothing written", (long long)row, (double)reg->bank[row * k + j]);
    return SFR_OK;
}

static void write_section(const void *obj, struct sfri_writer *w)
{
    const sfr_reg *reg = obj;
    sfri_put_u32(w, SFRI_P_COUNT);
    for (int i = 0; i < SFRI_P_COUNT; i++) {
        sfri_put_u32(w, (uint32_t)sfri_params_key(i));
        sfri_put_f64(w, reg->param[i]);
    }
    sfri_put_f64(w, reg->progress);
    sfri_put_u32(w, (uint32_t)reg->npairs);
    sfri_put_u32(w, (uint32_t)reg->nheads);
    int64_t rows = bank_rows(reg);
    sfri_put_u64(w, (uint64_t)rows);
    sfri_put_u64(w, (uint64_t)reg->bank_k);
    /* Rows not yet seen were never written: they are saved as zeros. */
    for (int64_t row = 0; row < rows; row++)
        for (int64_t j = 0; j < reg->bank_k; j++)
            sfri_put_u32(w, reg->bank_seen[row] ? sfri_f32_bits(reg->bank[row * reg->bank_k + j])
                                                : 0);
    sfri_put_bytes(w, reg->bank_seen, (size_t)rows);
}

/* The parameters: each key known, once, and its value in range. */
static sfr_status read_params(struct sfri_reader *r, double *param, const char *fn)
{
    uint32_t count;
    if (!sfri_get_u32(r, &count))
        return sfri_fail(SFR_ERR_FORMAT, fn, "the regularizer section is truncated");
    int given[SFRI_P_COUNT] = {0};
    for (uint32_t i = 0; i < count; i++) {
        uint32_t key;
        double value;
        int index;
        if (!sfri_get_u32(r, &key) || !sfri_get_f64(r, &value))
            return sfri_fail(SFR_ERR_FORMAT, fn, "the regularizer's parameters are truncated");
        if (key > INT32_MAX || sfri_params_check((sfr_param)key, value, &index, fn) != SFR_OK)
            return sfri_fail(SFR_ERR_FORMAT, fn, "the regularizer's parameter %u (key %u, value "
                             "%g) is unknown or out of range", i, key, value);
        if (given[index]++)
            return sfri_fail(SFR_ERR_FORMAT, fn, "the regularizer's parameter key %u appears "
                             "twice", key);
        param[index] = value;
    }
    return SFR_OK;
}

static void discard(void *pending)
{
    struct pending *p = pending;
    sfri_free(p->bank);
    sfri_free(p->seen);
    sfri_free(p);
}

/* The bank: rows must be the loaded ls_bank_size, its values probabilities. */
static sfr_status read_bank(struct sfri_reader *r, struct pending *p, const char *fn)
{
    uint64_t rows, k;
    if (!sfri_get_u64(r, &rows) || !sfri_get_u64(r, &k))
        return sfri_fail(SFR_ERR_FORMAT, fn, "the regularizer section is truncated");
    if ((rows == 0) != (k == 0) || (rows > 0 && rows != (uint64_t)p->param[SFRI_P_LS_BANK_SIZE]))
        return sfri_fail(SFR_ERR_FORMAT, fn, "the past bank has %llu rows of %llu classes, "
                         "ls_bank_size is %g", (unsigned long long)rows, (unsigned long long)k,
                         p->param[SFRI_P_LS_BANK_SIZE]);
    if (rows == 0)
        return SFR_OK;
    const unsigned char *values, *seen;
    if (k > INT32_MAX || rows > (uint64_t)INT64_MAX / k ||
        !sfri_get_f32_bytes(r, (int64_t)(rows * k), &values) ||
        !sfri_get_bytes(r, &seen, (size_t)rows))
        return sfri_fail(SFR_ERR_FORMAT, fn, "the past bank is truncated");
    int64_t n = (int64_t)(rows * k);
    p->bank = sfri_malloc(sfri_mul_size((size_t)n, sizeof(float)));
    p->seen = sfri_malloc((size_t)rows);
    if (p->bank == NULL || p->seen == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory for a past bank of %lld floats",
                         (long long)n);
    p->bank_k = (int64_t)k;
    sfri_le_get_f32s(p->bank, values, n);
    for (int64_t i = 0; i < n; i++)
        if (!(p->bank[i] >= 0.0f && p->bank[i] <= 1.0f))
            return sfri_fail(SFR_ERR_FORMAT, fn, "the past bank's value %lld (%g) is not a "
                             "probability", (long long)i, (double)p->bank[i]);
    for (uint64_t i = 0; i < rows; i++) {
        if (seen[i] > 1)
            return sfri_fail(SFR_ERR_FORMAT, fn, "the past bank's row %llu has seen flag %u",
                             (unsigned long long)i, seen[i]);
        p->seen[i] = seen[i];
    }
    return SFR_OK;
}

static sfr_status prepare(const void *obj, const struct sfri_section *s, int64_t net_params,
                          void **out, const char *fn)
{
    (void)net_params;
    const sfr_reg *reg = obj;
    struct pending *p = sfri_calloc(1, sizeof *p);
    if (p == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory for a regularizer state");
    memcpy(p->param, reg->param, sizeof p->param);
    struct sfri_reader r = {s->payload, s->size};
    uint32_t pairs = 0, heads = 0;
    sfr_status st = read_params(&r, p->param, fn);
    if (st == SFR_OK && (!sfri_get_f64(&r, &p->progress) || !sfri_get_u32(&r, &pairs) ||
                         !sfri_get_u32(&r, &heads)))
        st = sfri_fail(SFR_ERR_FORMAT, fn, "the regularizer section is truncated");
    if (st == SFR_OK && !(p->progress >= 0.0 && p->progress <= 1.0))
        st = sfri_fail(SFR_ERR_FORMAT, fn, "the regularizer's progress %g is outside [0, 1]",
                       p->progress);
    if (st == SFR_OK && (pairs != (uint32_t)reg->npairs || heads != (uint32_t)reg->nheads))
        st = sfri_fail(SFR_ERR_FORMAT, fn, "the checkpoint's regularizer has %u pairs and %u "
                       "heads, this one %d and %d", pairs, heads, reg->npairs, reg->nheads);
    if (st == SFR_OK)
        st = read_bank(&r, p, fn);
    if (st == SFR_OK && r.left != 0)
        st = sfri_fail(SFR_ERR_FORMAT, fn, "the regularizer section has %zu bytes too many",
                       r.left);
    if (st != SFR_OK) {
        discard(p);
        return st;
    }
    *out = p;
    return SFR_OK;
}

static void apply(void *obj, void *pending)
{
    sfr_reg *reg = obj;
    struct pending *p = pending;
    sfri_free(reg->bank);
    sfri_free(reg->bank_seen);
    memcpy(reg->param, p->param, sizeof reg->param);
    reg->progress = p->progress;
    reg->bank = p->bank;
    reg->bank_seen = p->seen;
    reg->bank_k = p->bank_k;
    /* The stored batch is not in a checkpoint: the next batch starts without a teacher. */
    sfri_last_batch_forget(reg);
    p->bank = NULL;
    p->seen = NULL;
    discard(p);
}

const struct sfri_section_ops sfri_reg_section = {
    .tag = {'R', 'E', 'G', ' '},
    .version = 1,
    .what = "regularizer",
    .magic = SFRI_MAGIC_REG,
    .check = check,
    .write = write_section,
    .prepare = prepare,
    .apply = apply,
    .discard = discard,
};
