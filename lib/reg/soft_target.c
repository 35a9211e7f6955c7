/*
 * The softened-prediction KL that the class-wise and last-batch terms share
 * (docs/sfr.md): sample n's prediction at temperature T learns from a
 * teacher row held constant,
 *   scale * T^2 * KL(softmax(t_r(n) / T) || softmax(z_n / T)),
 *   d/dz_n = scale * T * (softmax(z_n / T) - softmax(t_r(n) / T)),
 * and the stable log-sum-exp the heads take their log-softmax from.
 */
#include <math.h>

#include "common/common.h"
#include "reg_internal.h"

double sfri_log_sum_exp(const float *z, int64_t k, double temp)
{
    double mx = -INFINITY, s = 0;
    for (int64_t j = 0; j < k; j++)
        mx = fmax(mx, (double)z[j] / temp);
    for (int64_t j = 0; j < k; j++)
        s += exp((double)z[j] / temp - mx);
    return mx + log(s);
}

double sfri_soft_target_kl(const float *logits, const float *teacher, const int64_t *row,
                           int64_t n, int64_t k, double temp, double scale, float *dlogits)
{
    double kl = 0;
    /* Sequential, as the label term: the sum keeps one order whatever the threads. */
    for (int64_t s = 0; s < n; s++) {
        if (row[s] < 0)
            continue;
        const float *z = logits + s * k, *zt = teacher + row[s] * k;   // (K), (K)
        const double ls = sfri_log_sum_exp(z, k, temp), lt = sfri_log_sum_exp(zt, k, temp);
        for (int64_t j = 0; j < k; j++) {
            const double log_ps = (double)z[j] / temp - ls, log_pt = (double)zt[j] / temp - lt;
            const double pt = exp(log_pt);
            kl += pt * (log_pt - log_ps);
            if (dlogits != NULL)
                dlogits[s * k + j] += (float)(scale * temp * (exp(log_ps) - pt));
        }
    }
    return scale * temp * temp * kl;
}
