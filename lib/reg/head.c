/*
 * Self-distillation heads (docs/sfr.md, "Heads"): auxiliary classifiers on
 * shallow stages learn from the labels and, through a temperature-T KL,
 * from the deepest classifier's logits, which are held constant.
 *
 * For head h with logits zh (N, K), the compute's logits z (N, K), labels y:
 *   L_h = w(t)/N * sum_n [ a_h * -log softmax(zh_n)[y_n]
 *                          + b_h * T^2 * KL(softmax(z_n/T) || softmax(zh_n/T)) ]
 *   dL_h/dzh_n = w(t)/N * [ a_h * (softmax(zh_n) - onehot(y_n))
 *                           + b_h * T * (softmax(zh_n/T) - softmax(z_n/T)) ]
 * and with the mutual weight c, the deepest classifier learning from the head
 * (zh held constant; its gradient goes to dlogits):
 *   M_h = c * w(t)/N * T^2 * sum_n KL(softmax(zh_n/T) || softmax(z_n/T))
 *   dM_h/dz_n = c * w(t)/N * T * (softmax(z_n/T) - softmax(zh_n/T))
 */
#include <math.h>

#include "common/common.h"
#include "reg_internal.h"

/* Largest head weight, as beta's (bounds.c): the gradient stays far inside float's range. */
#define HEAD_WEIGHT_MAX 1e6

/* sfr_reg_add_head with the busy flag held. */
static sfr_status add_head(sfr_reg *reg, sfr_tap *head, double ce_weight, double kl_weight,
                           int *index)
{
    static const char *const fn = "sfr_reg_add_head";
    sfr_status st = sfri_check_handle(head, SFRI_MAGIC_TAP, fn, "head");
    if (st != SFR_OK)
        return st;
    if (!(ce_weight >= 0 && ce_weight <= HEAD_WEIGHT_MAX) ||
        !(kl_weight >= 0 && kl_weight <= HEAD_WEIGHT_MAX))
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "ce_weight = %g and kl_weight = %g must be "
                         "in [0, %g]", ce_weight, kl_weight, HEAD_WEIGHT_MAX);
    if (head->owner == NULL && head->grad == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "the head tap has no gradient buffer");
    if (head->data != NULL && (head->dims[2] != 1 || head->dims[3] != 1))
        return sfri_fail(SFR_ERR_SHAPE, fn, "the head tap is %lld x %lld x %lld x %lld: a head "
                         "is N x K x 1 x 1", (long long)head->dims[0], (long long)head->dims[1],
                         (long long)head->dims[2], (long long)head->dims[3]);
    if (sfri_grow_list((void **)&reg->heads, &reg->heads_cap, reg->nheads,
                       sizeof *reg->heads) != 0)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for %d heads", reg->nheads + 1);
    reg->heads[reg->nheads] = (struct sfri_head){head, ce_weight, kl_weight, 0, 0, 0};
    if (index != NULL)
        *index = reg->nheads;
    reg->nheads++;
    return SFR_OK;
}

SFR_API sfr_status sfr_reg_add_head(sfr_reg *reg, sfr_tap *head, double ce_weight,
                                    double kl_weight, int *index)
{
    sfr_status st = sfri_reg_enter(reg, "sfr_reg_add_head");
    return st != SFR_OK ? st
                        : sfri_reg_leave(reg, add_head(reg, head, ce_weight, kl_weight, index));
}

SFR_API sfr_status sfr_reg_head_loss(const sfr_reg *reg, int index, double *ce, double *kl)
{
    static const char *const fn = "sfr_reg_head_loss";
    sfr_status st = sfri_check_handle(reg, SFRI_MAGIC_REG, fn, "reg");
    if (st != SFR_OK)
        return st;
    if (index < 0 || index >= reg->nheads)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "head index %d is outside [0, %d)", index,
                         reg->nheads);
    if (ce != NULL)
        *ce = reg->heads[index].ce_loss;
    if (kl != NULL)
        *kl = reg->heads[index].kl_loss + reg->heads[index].mutual_loss;
    return SFR_OK;
}

/* The head's logits as the compute reads them: a blocked view of a 1 x 1 map
 * has the plain order, and is the current one while the plain copy may not be. */
static const float *head_logits(const sfr_tap *tap)
{
    return tap->blocked != NULL ? tap->blocked : tap->data;
}

sfr_status sfri_heads_validate(const sfr_reg *reg, const float *logits, int64_t n, int64_t k,
                               const char *fn)
{
    if (reg->nheads > 0 && logits == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "the regularizer has %d head(s), which learn "
                         "from the logits: logits is NULL", reg->nheads);
    for (int h = 0; h < reg->nheads; h++) {
        const sfr_tap *tap = reg->heads[h].tap;
        sfr_status st = sfri_check_handle(tap, SFRI_MAGIC_TAP, fn, "head");
        if (st != SFR_OK)
            return st;
        if (tap->data == NULL)
            return sfri_fail(SFR_ERR_STATE, fn, "head %d: the tap (layer %d) has no buffers: "
                             "compile its net first", h, tap->layer);
        if (tap->grad == NULL)
            return sfri_fail(SFR_ERR_INVALID_ARG, fn, "head %d: the tap has no gradient buffer",
                             h);
        const int64_t *d = tap->dims;
        if (d[0] != n || d[1] != k || d[2] != 1 || d[3] != 1)
            return sfri_fail(SFR_ERR_SHAPE, fn, "head %d: the tap is %lld x %lld x %lld x %lld, "
                             "the logits %lld x %lld: a head is N x K x 1 x 1", h,
                             (long long)d[0], (long long)d[1], (long long)d[2], (long long)d[3],
                             (long long)n, (long long)k);
        const float *zh = head_logits(tap);
        for (int64_t i = 0; i < n * k; i++)
            if (!isfinite(zh[i]))
                return sfri_fail(SFR_ERR_NONFINITE, fn, "head %d: logit %lld = %g is not finite",
                                 h, (long long)i, (double)zh[i]);
    }
    return SFR_OK;
}

/* What a head's term reads besides the head: the deepest logits and their gradient. */
struct head_inputs {
    const float *logits;       /* (N, K) */
    const int32_t *labels;     /* (N) */
    float *dlogits;            /* (N, K): the mutual term's gradient is added */
    int64_t n, k;
    double temp, w, mutual;    /* T, the weight factor w(t), c */
};

/*
 * One head's loss parts for the batch (hd's ce_loss, kl_loss, mutual_loss),
 * its gradient written to dzh (N, K) (a blocked gradient not yet live,
 * overwritten) or added to it, and the mutual gradient added to dlogits.
 */
static void head_term(struct sfri_head *hd, const struct head_inputs *in, float *dzh,
                      int overwrite)
{
    const float *zh_all = head_logits(hd->tap);
    const int64_t n = in->n, k = in->k;
    const double temp = in->temp;
    const double a = in->w * hd->ce_weight / (double)n, b = in->w * hd->kl_weight / (double)n;
    const double c = in->w * in->mutual / (double)n;
    double ce = 0, kl = 0, rev = 0;
    /* Sequential, as the label term: K is small, and the sums keep one order. */
    for (int64_t s = 0; s < n; s++) {
        const float *z = in->logits + s * k, *zh = zh_all + s * k;   // (K), (K)
        float *dz = dzh + s * k, *dl = in->dlogits + s * k;          // (K), (K)
        const double lz = sfri_log_sum_exp(zh, k, 1.0);
        const double lzt = sfri_log_sum_exp(zh, k, temp), ltt = sfri_log_sum_exp(z, k, temp);
        ce -= (double)zh[in->labels[s]] - lz;
        for (int64_t j = 0; j < k; j++) {
            const double log_pt = (double)z[j] / temp - ltt;     /* teacher, at T */
            const double log_qt = (double)zh[j] / temp - lzt;    /* head, at T */
            const double pt = exp(log_pt), qt = exp(log_qt);
            kl += pt * (log_pt - log_qt);
            double g = a * (exp((double)zh[j] - lz) - (j == in->labels[s] ? 1.0 : 0.0)) +
                       b * temp * (qt - pt);
            dz[j] = overwrite ? (float)g : dz[j] + (float)g;
            if (c > 0) {
                rev += qt * (log_qt - log_pt);
                dl[j] += (float)(c * temp * (pt - qt));
            }
        }
    }
    hd->ce_loss = a * ce;
    hd->kl_loss = b * temp * temp * kl;
    hd->mutual_loss = c * temp * temp * rev;
}

double sfri_heads_compute(sfr_reg *reg, const float *logits, const int32_t *labels, int64_t n,
                          int64_t k, double w, float *dlogits)
{
    const struct head_inputs in = {logits, labels, dlogits, n, k,
                                   reg->param[SFRI_P_HEAD_TEMPERATURE], w,
                                   reg->param[SFRI_P_HEAD_MUTUAL]};
    double total = 0;
    for (int h = 0; h < reg->nheads; h++) {
        struct sfri_head *hd = &reg->heads[h];
        sfr_tap *tap = hd->tap;
        /* A blocked gradient not written since the training forward holds old values. */
        int overwrite = tap->blocked != NULL && !tap->blocked_grad_live;
        float *grad = tap->blocked != NULL ? tap->blocked_grad : tap->grad;
        head_term(hd, &in, grad, overwrite);
        if (tap->blocked != NULL)
            tap->blocked_grad_live = 1;
        total += hd->ce_loss + hd->kl_loss + hd->mutual_loss;
    }
    return total;
}

double sfri_weight_factor(double warmup, double cooldown, double t)
{
    double f = 1.0;
    if (warmup > 0 && t < warmup)
        f = t / warmup;
    if (cooldown > 0 && 1.0 - t < cooldown * f)
        f = (1.0 - t) / cooldown;
    return f;
}
