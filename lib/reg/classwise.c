/*
 * Class-wise self-distillation (docs/sfr.md, "Class-wise term"; CS-KD): each
 * sample's prediction learns from another sample of its class in the same
 * batch, so that the net predicts one class consistently, including the
 * classes it confuses it with.
 *
 * Sample n's partner m(n) is the first sample after n, wrapping around the
 * batch, with the same label (none when n is alone in its class). With
 * T = classwise_temperature, lambda = classwise and w(t) the weight factor:
 *   C = lambda * w(t) * T^2 / N * sum_{n with a partner}
 *           KL(softmax(z_m(n) / T) || softmax(z_n / T))
 *   dC/dz_n = lambda * w(t) / N * T * (softmax(z_n / T) - softmax(z_m(n) / T))
 * with z_m(n) held constant (the partner is the teacher of n only).
 */
#include "common/common.h"
#include "reg_internal.h"

SFR_API sfr_status sfr_reg_classwise_loss(const sfr_reg *reg, double *value)
{
    return sfri_reg_stored_loss(reg, offsetof(sfr_reg, classwise_loss), value,
                                "sfr_reg_classwise_loss");
}

sfr_status sfri_classwise_partners(sfr_reg *reg, const int32_t *labels, int64_t n, int64_t k,
                                   const char *fn)
{
    /* Grow-only, as the workspace: a batch of unchanged shape allocates nothing. */
    if (sfri_grow_buffer((void **)&reg->partner, &reg->partner_cap, (size_t)n + (size_t)k, 0,
                         sizeof(int64_t)) != 0)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for the class-wise partners of "
                         "%lld samples and %lld classes", (long long)n, (long long)k);
    int64_t *partner = reg->partner, *next = reg->partner + n;   // (N), (K)
    for (int64_t c = 0; c < k; c++)
        next[c] = -1;
    /* Backwards: next[c] is the nearest later sample of class c, then the first of it. */
    for (int64_t s = n - 1; s >= 0; s--) {
        partner[s] = next[labels[s]];
        next[labels[s]] = s;
    }
    for (int64_t s = 0; s < n; s++)
        if (partner[s] < 0)
            partner[s] = next[labels[s]] != s ? next[labels[s]] : -1;   /* wrap, or alone */
    return SFR_OK;
}

double sfri_classwise_term(const sfr_reg *reg, const float *logits, int64_t n, int64_t k,
                           double weight, float *dlogits)
{
    return sfri_soft_target_kl(logits, logits, reg->partner, n, k,
                               reg->param[SFRI_P_CLASSWISE_TEMPERATURE],
                               weight * reg->param[SFRI_P_CLASSWISE] / (double)n, dlogits);
}
