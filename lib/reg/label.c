/* Dynamic label smoothing at the output (SFR.md section 8). */
#include <math.h>

#include "reg_internal.h"

double sfri_ls_eps(int schedule, double start, double end, double t)
{
    switch (schedule) {
    case SFR_LS_CONSTANT: return end;
    case SFR_LS_COSINE: return end + (start - end) * (1 + cos(M_PI * t)) / 2;
    default: return start + (end - start) * t;
    }
}

/* Max of z_j / temp and log sum_j exp(z_j / temp - max): a stable softmax in two passes. */
static double softmax_shift(const float *z, int64_t k, double temp, double *sum)
{
    double mx = -INFINITY;
    for (int64_t j = 0; j < k; j++)
        mx = (double)z[j] / temp > mx ? (double)z[j] / temp : mx;
    double s = 0;
    for (int64_t j = 0; j < k; j++)
        s += exp((double)z[j] / temp - mx);
    *sum = s;
    return mx;
}

double sfri_label_term(const struct sfri_label_opts *o, const float *logits,
                       const int32_t *labels, int64_t n, int64_t k, const int64_t *ids,
                       const float *bank, const uint8_t *seen, float *dlogits)
{
    const double eps = o->eps_t, scale = o->gamma / (double)n, temp = o->temperature;
    double total = 0;
    /* Sequential: K is small next to the feature maps, and the sum's order (so the loss
     * to the last bit) stays independent of the thread count. */
    for (int64_t s = 0; s < n; s++) {
        const float *z = logits + s * k;   // (K)
        float *dz = dlogits != NULL ? dlogits + s * k : NULL;   // (K)
        const float *past = NULL;
        if (o->source == SFR_LS_PAST && bank != NULL && seen[ids[s]])
            past = bank + ids[s] * k;
        double se, st = 1, mt = 0;
        const double logz = softmax_shift(z, k, 1.0, &se) + log(se);   /* log sum exp z */
        if (o->source == SFR_LS_SELF)
            mt = softmax_shift(z, k, temp, &st);
        double loss = 0;
        for (int64_t j = 0; j < k; j++) {
            double logp = (double)z[j] - logz, u;
            double onehot = j == labels[s] ? 1.0 : 0.0;
            if (o->source == SFR_LS_SELF)
                u = exp((double)z[j] / temp - mt) / st;
            else if (o->source == SFR_LS_PAST)
                u = past != NULL ? (double)past[j] : onehot;
            else
                u = 1.0 / (double)k;
            double q = (1 - eps) * onehot + eps * u;
            loss -= q * logp;
            if (dz != NULL)
                dz[j] = (float)(scale * (exp(logp) - q));
        }
        total += loss;
    }
    return o->gamma * total / (double)n;
}

void sfri_label_bank_update(const float *logits, int64_t n, int64_t k, const int64_t *ids,
                            float *bank, uint8_t *seen)
{
    /* In sample order, so that of two samples with one id the later one stays. */
    for (int64_t s = 0; s < n; s++) {
        const float *z = logits + s * k;   // (K)
        float *row = bank + ids[s] * k;    // (K)
        double se;
        double mx = softmax_shift(z, k, 1.0, &se);
        for (int64_t j = 0; j < k; j++)
            row[j] = (float)(exp((double)z[j] - mx) / se);
        seen[ids[s]] = 1;
    }
}
