/*
 * The SGD optimizer's section of a training-state checkpoint (tag "SGD ",
 * version 1; docs/checkpoint-format.md):
 *
 *   u32 lr, u32 momentum, u32 weight_decay   float bit patterns
 *   u32 nesterov                             0 or 1
 *   u64 count                                parameter count of the first step,
 *                                            all ones (-1) before it
 *   u32 has_buffer                           1 when a momentum buffer follows
 *   count floats                             the momentum buffer, if has_buffer
 *
 * A momentum buffer exists exactly when momentum != 0 and a step was taken.
 */
#include <inttypes.h>

#include "../checkpoint/section.h"
#include "../common/common.h"
#include "sgd.h"

struct pending {
    float lr, momentum, weight_decay;
    int nesterov;
    int64_t count;
    float *buf;
};

static sfr_status check(const void *obj, const char *fn)
{
    const sfr_sgd *opt = obj;
    int64_t bad = opt->buf != NULL ? sfri_first_nonfinite(opt->buf, opt->count) : -1;
    if (bad >= 0)
        return sfri_fail(SFR_ERR_NONFINITE, fn,
                         "SGD momentum buffer value %lld is %g: nothing written",
                         (long long)bad, (double)opt->buf[bad]);
    return SFR_OK;
}

static void write_section(const void *obj, struct sfri_writer *w)
{
    const sfr_sgd *opt = obj;
    sfri_put_u32(w, sfri_f32_bits(opt->lr));
    sfri_put_u32(w, sfri_f32_bits(opt->momentum));
    sfri_put_u32(w, sfri_f32_bits(opt->weight_decay));
    sfri_put_u32(w, (uint32_t)opt->nesterov);
    sfri_put_u64(w, (uint64_t)opt->count);
    sfri_put_u32(w, opt->buf != NULL);
    if (opt->buf != NULL)
        sfri_put_f32s(w, opt->buf, opt->count);
}

static sfr_status prepare(const void *obj, const struct sfri_section *s, int64_t net_params,
                          void **out, const char *fn)
{
    (void)obj;
    struct sfri_reader r = {s->payload, s->size};
    uint32_t lr, momentum, decay, nesterov, has_buf;
    uint64_t count_bits;
    if (!sfri_get_u32(&r, &lr) || !sfri_get_u32(&r, &momentum) || !sfri_get_u32(&r, &decay) ||
        !sfri_get_u32(&r, &nesterov) || !sfri_get_u64(&r, &count_bits) ||
        !sfri_get_u32(&r, &has_buf))
        return sfri_fail(SFR_ERR_FORMAT, fn, "the SGD section is truncated");
    struct pending p = {sfri_bits_f32(lr), sfri_bits_f32(momentum), sfri_bits_f32(decay),
                        (int)nesterov, (int64_t)count_bits, NULL};
    if (nesterov > 1 || sfri_sgd_check_hypers(p.lr, p.momentum, p.weight_decay, p.nesterov,
                                              fn) != SFR_OK)
        return sfri_fail(SFR_ERR_FORMAT, fn, "the SGD section holds invalid hyper-parameters "
                         "(lr %g, momentum %g, weight_decay %g, nesterov %" PRIu32 ")",
                         (double)p.lr, (double)p.momentum, (double)p.weight_decay, nesterov);
    if (p.count < -1 || (net_params >= 0 && p.count >= 0 && p.count != net_params))
        return sfri_fail(SFR_ERR_FORMAT, fn,
                         "the SGD state is for %lld parameters, the net has %lld",
                         (long long)p.count, (long long)net_params);
    if (has_buf != (p.momentum != 0.0f && p.count >= 0))
        return sfri_fail(SFR_ERR_FORMAT, fn, "the SGD section %s a momentum buffer where it %s",
                         has_buf ? "holds" : "lacks", has_buf ? "cannot exist" : "must");
    const unsigned char *values = NULL;
    if (has_buf && !sfri_get_f32_bytes(&r, p.count, &values))
        return sfri_fail(SFR_ERR_FORMAT, fn, "the SGD momentum buffer is truncated");
    if (r.left != 0)
        return sfri_fail(SFR_ERR_FORMAT, fn, "the SGD section has %zu bytes too many", r.left);
    int64_t bad = has_buf ? sfri_le_first_nonfinite(values, p.count) : -1;
    if (bad >= 0)
        return sfri_fail(SFR_ERR_FORMAT, fn, "SGD momentum buffer value %lld is not finite",
                         (long long)bad);
    struct pending *q = sfri_malloc(sizeof *q);
    if (has_buf && q != NULL) {
        p.buf = sfri_aligned_alloc(64, sfri_mul_size((size_t)p.count + 1, sizeof(float)));
        if (p.buf != NULL)
            sfri_le_get_f32s(p.buf, values, p.count);
    }
    if (q == NULL || (has_buf && p.buf == NULL)) {
        sfri_free(q);
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory for an SGD state of %lld floats",
                         (long long)p.count);
    }
    *q = p;
    *out = q;
    return SFR_OK;
}

static void discard(void *pending)
{
    struct pending *p = pending;
    sfri_free(p->buf);
    sfri_free(p);
}

static void apply(void *obj, void *pending)
{
    sfr_sgd *opt = obj;
    struct pending *p = pending;
    sfri_free(opt->buf);
    opt->lr = p->lr;
    opt->momentum = p->momentum;
    opt->weight_decay = p->weight_decay;
    opt->nesterov = p->nesterov;
    opt->count = p->count;
    opt->buf = p->buf;
    p->buf = NULL;
    discard(p);
}

const struct sfri_section_ops sfri_sgd_section = {
    .tag = {'S', 'G', 'D', ' '},
    .version = 1,
    .what = "SGD optimizer",
    .magic = SFRI_MAGIC_SGD,
    .check = check,
    .write = write_section,
    .prepare = prepare,
    .apply = apply,
    .discard = discard,
};
