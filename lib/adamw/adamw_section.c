/*
 * The AdamW optimizer's section of a training-state checkpoint (tag "ADAM",
 * version 1; docs/checkpoint-format.md):
 *
 *   f64 lr, beta1, beta2, eps, weight_decay   double bit patterns
 *   u64 steps                                 steps taken
 *   u64 count                                 parameter count of the first step,
 *                                             all ones (-1) before it
 *   count floats m, then count floats v       when count >= 0
 */
#include <math.h>

#include "../checkpoint/section.h"
#include "../common/common.h"
#include "adamw.h"

struct pending {
    double lr, beta1, beta2, eps, weight_decay;
    int64_t steps, count;
    float *m, *v;
};

/* The first second moment that is negative or not a number, or -1. */
static int64_t first_bad_variance(const float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!(v[i] >= 0.0f && isfinite(v[i])))
            return i;
    return -1;
}

static sfr_status check(const void *obj, const char *fn)
{
    const sfr_adamw *opt = obj;
    int64_t n = opt->m != NULL ? opt->count : 0;
    int64_t bad = sfri_first_nonfinite(opt->m, n);
    if (bad >= 0)
        return sfri_fail(SFR_ERR_NONFINITE, fn,
                         "AdamW first moment %lld is %g: nothing written", (long long)bad,
                         (double)opt->m[bad]);
    bad = sfri_first_nonfinite(opt->v, n);
    if (bad >= 0)
        return sfri_fail(SFR_ERR_NONFINITE, fn,
                         "AdamW second moment %lld is %g: nothing written", (long long)bad,
                         (double)opt->v[bad]);
    return SFR_OK;
}

static void write_section(const void *obj, struct sfri_writer *w)
{
    const sfr_adamw *opt = obj;
    sfri_put_f64(w, opt->lr);
    sfri_put_f64(w, opt->beta1);
    sfri_put_f64(w, opt->beta2);
    sfri_put_f64(w, opt->eps);
    sfri_put_f64(w, opt->weight_decay);
    sfri_put_u64(w, (uint64_t)opt->steps);
    sfri_put_u64(w, (uint64_t)opt->count);
    if (opt->count >= 0) {
        sfri_put_f32s(w, opt->m, opt->count);
        sfri_put_f32s(w, opt->v, opt->count);
    }
}

static void discard(void *pending)
{
    struct pending *p = pending;
    sfri_free(p->m);
    sfri_free(p->v);
    sfri_free(p);
}

/* The moments as apply will own them; NULL when memory runs out. */
static struct pending *build(const struct pending *p, const unsigned char *m,
                             const unsigned char *v)
{
    struct pending *q = sfri_calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    *q = *p;
    q->m = q->v = NULL;
    if (p->count < 0)
        return q;
    size_t bytes = sfri_mul_size((size_t)p->count + 1, sizeof(float)); /* never 0 */
    q->m = sfri_aligned_alloc(64, bytes);
    q->v = sfri_aligned_alloc(64, bytes);
    if (q->m == NULL || q->v == NULL) {
        discard(q);
        return NULL;
    }
    sfri_le_get_f32s(q->m, m, p->count);
    sfri_le_get_f32s(q->v, v, p->count);
    return q;
}

static sfr_status prepare(const void *obj, const struct sfri_section *s, int64_t net_params,
                          void **out, const char *fn)
{
    (void)obj;
    struct sfri_reader r = {s->payload, s->size};
    struct pending p = {0};
    uint64_t steps, count;
    if (!sfri_get_f64(&r, &p.lr) || !sfri_get_f64(&r, &p.beta1) || !sfri_get_f64(&r, &p.beta2) ||
        !sfri_get_f64(&r, &p.eps) || !sfri_get_f64(&r, &p.weight_decay) ||
        !sfri_get_u64(&r, &steps) || !sfri_get_u64(&r, &count))
        return sfri_fail(SFR_ERR_FORMAT, fn, "the AdamW section is truncated");
    p.steps = (int64_t)steps;
    p.count = (int64_t)count;
    if (sfri_adamw_check_hypers(p.lr, p.beta1, p.beta2, p.eps, p.weight_decay, fn) != SFR_OK)
        return sfri_fail(SFR_ERR_FORMAT, fn, "the AdamW section holds invalid hyper-parameters "
                         "(lr %g, beta1 %g, beta2 %g, eps %g, weight_decay %g)",
                         p.lr, p.beta1, p.beta2, p.eps, p.weight_decay);
    if (p.steps < 0 || p.count < -1 || (p.count < 0) != (p.steps == 0))
        return sfri_fail(SFR_ERR_FORMAT, fn, "the AdamW section's step count %lld does not fit "
                         "its parameter count %lld", (long long)p.steps, (long long)p.count);
    if (net_params >= 0 && p.count >= 0 && p.count != net_params)
        return sfri_fail(SFR_ERR_FORMAT, fn,
                         "the AdamW state is for %lld parameters, the net has %lld",
                         (long long)p.count, (long long)net_params);
    const unsigned char *m = NULL, *v = NULL;
    if (p.count >= 0 && (!sfri_get_f32_bytes(&r, p.count, &m) ||
                         !sfri_get_f32_bytes(&r, p.count, &v)))
        return sfri_fail(SFR_ERR_FORMAT, fn, "the AdamW moments are truncated");
    if (r.left != 0)
        return sfri_fail(SFR_ERR_FORMAT, fn, "the AdamW section has %zu bytes too many", r.left);
    struct pending *q = build(&p, m, v);
    if (q == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory for AdamW moments of %lld floats",
                         (long long)p.count);
    int64_t n = q->count > 0 ? q->count : 0, bad_m = sfri_first_nonfinite(q->m, n);
    int64_t bad_v = first_bad_variance(q->v, n);
    if (bad_m >= 0 || bad_v >= 0) {
        discard(q);
        return sfri_fail(SFR_ERR_FORMAT, fn, "AdamW %s moment %lld is %s",
                         bad_m >= 0 ? "first" : "second", (long long)(bad_m >= 0 ? bad_m : bad_v),
                         bad_m >= 0 ? "not finite" : "negative or not finite");
    }
    *out = q;
    return SFR_OK;
}

static void apply(void *obj, void *pending)
{
    sfr_adamw *opt = obj;
    struct pending *p = pending;
    sfri_free(opt->m);
    sfri_free(opt->v);
    opt->lr = p->lr;
    opt->beta1 = p->beta1;
    opt->beta2 = p->beta2;
    opt->eps = p->eps;
    opt->weight_decay = p->weight_decay;
    opt->steps = p->steps;
    opt->count = p->count;
    opt->m = p->m;
    opt->v = p->v;
    p->m = p->v = NULL;
    discard(p);
}

const struct sfri_section_ops sfri_adamw_section = {
    .tag = {'A', 'D', 'A', 'M'},
    .version = 1,
    .what = "AdamW optimizer",
    .magic = SFRI_MAGIC_ADAMW,
    .check = check,
    .write = write_section,
    .prepare = prepare,
    .apply = apply,
    .discard = discard,
};
