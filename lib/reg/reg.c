/* The regularizer's lifetime, its pairs, its inputs besides compute, and queries. */
#include <math.h>
#include <string.h>

#include "common/common.h"
#include "reg_internal.h"

SFR_API sfr_status sfr_reg_create(sfr_reg **out)
{
    if (out == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, "sfr_reg_create", "out is NULL");
    sfr_reg *reg = sfri_calloc(1, sizeof *reg);
    if (reg == NULL)
        return sfri_fail(SFR_ERR_NOMEM, "sfr_reg_create", "out of memory");
    reg->magic = SFRI_MAGIC_REG;
    atomic_init(&reg->busy, 0);
    sfri_params_defaults(reg->param);
    *out = reg;
    return SFR_OK;
}

SFR_API void sfr_reg_destroy(sfr_reg *reg)
{
    if (reg == NULL || reg->magic != SFRI_MAGIC_REG)
        return;
    sfri_free(reg->pairs);
    sfri_free(reg->heads);
    sfri_free(reg->ids);
    sfri_free(reg->bank);
    sfri_free(reg->bank_seen);
    sfri_free(reg->partner);
    sfri_last_batch_free(reg);
    sfri_free(reg->ws);
    sfri_free(reg->wi);
    reg->magic = SFRI_MAGIC_DEAD;
    sfri_free(reg);
}

int sfri_grow_list(void **items, int *cap, int count, size_t elem)
{
    if (count < *cap)
        return 0;
    if (*cap > INT32_MAX / 2)
        return -1;
    int new_cap = *cap < 4 ? 4 : *cap * 2;
    void *p = sfri_calloc((size_t)new_cap, elem);
    if (p == NULL)
        return -1;
    if (count > 0)
        memcpy(p, *items, (size_t)count * elem);
    sfri_free(*items);
    *items = p;
    *cap = new_cap;
    return 0;
}

int sfri_grow_buffer(void **buf, size_t *cap, size_t need, size_t keep, size_t elem)
{
    if (need <= *cap)
        return 0;
    void *p = sfri_malloc(sfri_mul_size(need, elem));
    if (p == NULL)
        return -1;
    if (keep > 0)
        memcpy(p, *buf, keep * elem);
    sfri_free(*buf);
    *buf = p;
    *cap = need;
    return 0;
}

/* sfr_reg_add_pair with the busy flag held. */
static sfr_status add_pair(sfr_reg *reg, sfr_tap *student, sfr_tap *teacher, double beta,
                           int *index)
{
    static const char *const fn = "sfr_reg_add_pair";
    sfr_status st = sfri_check_handle(reg, SFRI_MAGIC_REG, fn, "reg");
    if (st != SFR_OK)
        return st;
    if ((st = sfri_check_handle(student, SFRI_MAGIC_TAP, fn, "student")) != SFR_OK ||
        (st = sfri_check_handle(teacher, SFRI_MAGIC_TAP, fn, "teacher")) != SFR_OK)
        return st;
    if ((st = sfri_beta_check(beta, fn)) != SFR_OK)
        return st;
    if (student == teacher)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "student and teacher are the same tap: a pair "
                         "matches two different feature maps");
    /* A net tap gets its buffers at compile; only a wrapped one can lack a gradient for good. */
    if (student->owner == NULL && student->grad == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "the student tap has no gradient buffer");
    /* Shapes of a net tap are known only after compile; compute checks them again. */
    if (student->data != NULL && teacher->data != NULL) {
        if (student->dims[0] != teacher->dims[0])
            return sfri_fail(SFR_ERR_SHAPE, fn, "student has N = %lld, teacher N = %lld",
                             (long long)student->dims[0], (long long)teacher->dims[0]);
        int64_t cs = student->dims[1], ct = teacher->dims[1];
        if ((cs > ct ? cs % ct : ct % cs) != 0)
            return sfri_fail(SFR_ERR_SHAPE, fn,
                             "teacher has %lld channels, student %lld: one must divide the other",
                             (long long)ct, (long long)cs);
    }
    if (sfri_grow_list((void **)&reg->pairs, &reg->pairs_cap, reg->npairs,
                       sizeof *reg->pairs) != 0)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for %d pairs", reg->npairs + 1);
    struct sfri_pair *p = &reg->pairs[reg->npairs];
    memset(p, 0, sizeof *p);
    p->student = student;
    p->teacher = teacher;
    p->beta = beta;
    if (index != NULL)
        *index = reg->npairs;
    reg->npairs++;
    return SFR_OK;
}

SFR_API sfr_status sfr_reg_add_pair(sfr_reg *reg, sfr_tap *student, sfr_tap *teacher,
                                    double beta, int *index)
{
    sfr_status st = sfri_reg_enter(reg, "sfr_reg_add_pair");
    return st != SFR_OK ? st : sfri_reg_leave(reg, add_pair(reg, student, teacher, beta, index));
}

/* sfr_reg_set_progress with the busy flag held. */
static sfr_status set_progress(sfr_reg *reg, double t)
{
    sfr_status st = sfri_check_handle(reg, SFRI_MAGIC_REG, "sfr_reg_set_progress", "reg");
    if (st != SFR_OK)
        return st;
    if (!(t >= 0 && t <= 1))
        return sfri_fail(SFR_ERR_INVALID_ARG, "sfr_reg_set_progress",
                         "progress %g is outside [0, 1]", t);
    reg->progress = t;
    return SFR_OK;
}

SFR_API sfr_status sfr_reg_set_progress(sfr_reg *reg, double t)
{
    sfr_status st = sfri_reg_enter(reg, "sfr_reg_set_progress");
    return st != SFR_OK ? st : sfri_reg_leave(reg, set_progress(reg, t));
}

/* sfr_reg_set_sample_ids with the busy flag held. */
static sfr_status set_sample_ids(sfr_reg *reg, const int64_t *ids, int64_t n)
{
    static const char *const fn = "sfr_reg_set_sample_ids";
    sfr_status st = sfri_check_handle(reg, SFRI_MAGIC_REG, fn, "reg");
    if (st != SFR_OK)
        return st;
    if (ids == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "ids is NULL");
    if (n < 1)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "n = %lld must be >= 1", (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0)
            return sfri_fail(SFR_ERR_INVALID_ARG, fn, "ids[%lld] = %lld is negative",
                             (long long)i, (long long)ids[i]);
    if (sfri_grow_buffer((void **)&reg->ids, &reg->ids_cap, (size_t)n, 0, sizeof *ids) != 0)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for %lld ids", (long long)n);
    memcpy(reg->ids, ids, (size_t)n * sizeof *ids);
    reg->nids = n;
    reg->ids_pending = 1;
    return SFR_OK;
}

SFR_API sfr_status sfr_reg_set_sample_ids(sfr_reg *reg, const int64_t *ids, int64_t n)
{
    sfr_status st = sfri_reg_enter(reg, "sfr_reg_set_sample_ids");
    return st != SFR_OK ? st : sfri_reg_leave(reg, set_sample_ids(reg, ids, n));
}

/* Handle and index checks shared by the per-pair queries. */
static sfr_status check_pair_query(const sfr_reg *reg, int index, const char *fn)
{
    sfr_status st = sfri_check_handle(reg, SFRI_MAGIC_REG, fn, "reg");
    if (st != SFR_OK)
        return st;
    if (index < 0 || index >= reg->npairs)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "pair index %d is outside [0, %d)", index,
                         reg->npairs);
    return SFR_OK;
}

SFR_API sfr_status sfr_reg_pair_loss(const sfr_reg *reg, int index, double *value)
{
    sfr_status st = check_pair_query(reg, index, "sfr_reg_pair_loss");
    if (st != SFR_OK)
        return st;
    if (value == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, "sfr_reg_pair_loss", "value is NULL");
    *value = reg->pairs[index].loss;
    return SFR_OK;
}

sfr_status sfri_reg_stored_loss(const sfr_reg *reg, size_t offset, double *value,
                                const char *fn)
{
    sfr_status st = sfri_check_handle(reg, SFRI_MAGIC_REG, fn, "reg");
    if (st != SFR_OK)
        return st;
    if (value == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "value is NULL");
    memcpy(value, (const char *)reg + offset, sizeof *value);
    return SFR_OK;
}

SFR_API sfr_status sfr_reg_label_loss(const sfr_reg *reg, double *value)
{
    return sfri_reg_stored_loss(reg, offsetof(sfr_reg, label_loss), value, "sfr_reg_label_loss");
}

SFR_API sfr_status sfr_reg_pair_stats(const sfr_reg *reg, int index, int *iterations,
                                      double *marginal_error)
{
    sfr_status st = check_pair_query(reg, index, "sfr_reg_pair_stats");
    if (st != SFR_OK)
        return st;
    if (iterations != NULL)
        *iterations = reg->pairs[index].iterations;
    if (marginal_error != NULL)
        *marginal_error = reg->pairs[index].error;
    return SFR_OK;
}

SFR_API sfr_status sfr_reg_pair_solves(const sfr_reg *reg, int index, int64_t *solves,
                                       int64_t *capped)
{
    sfr_status st = check_pair_query(reg, index, "sfr_reg_pair_solves");
    if (st != SFR_OK)
        return st;
    if (solves != NULL)
        *solves = reg->pairs[index].solves;
    if (capped != NULL)
        *capped = reg->pairs[index].capped;
    return SFR_OK;
}
