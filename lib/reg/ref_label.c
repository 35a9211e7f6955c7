/* Reference label smoothing loss and gradient (SFR.md section 8). */
#include <math.h>

#include "common/common.h"
#include "ref.h"
#include "sfr/reg.h"

/* log softmax(z / temp) of one row, with the max subtracted first. */
static void log_softmax(const double *z, int64_t k, double temp, double *out)
{
    double mx = z[0] / temp, s = 0;
    for (int64_t j = 1; j < k; j++)
        mx = fmax(mx, z[j] / temp);
    for (int64_t j = 0; j < k; j++)
        s += exp(z[j] / temp - mx);
    for (int64_t j = 0; j < k; j++)
        out[j] = z[j] / temp - mx - log(s);
}

double sfri_ref_label(const double *z, const int32_t *labels, int64_t n, int64_t k, double eps_t,
                      int source, double temperature, const double *u, double gamma,
                      double *dz)
{
    double *logp = sfri_malloc(sfri_mul_size(2 * (size_t)k, sizeof(double)));
    if (logp == NULL)
        return NAN;
    double *logpt = logp + k;   // (K) log softmax(z / T), for `self`
    double total = 0;
    for (int64_t s = 0; s < n; s++) {
        log_softmax(z + s * k, k, 1.0, logp);
        log_softmax(z + s * k, k, temperature, logpt);
        for (int64_t j = 0; j < k; j++) {
            double uj = source == SFR_LS_UNIFORM ? 1.0 / (double)k
                        : source == SFR_LS_SELF  ? exp(logpt[j])
                                                 : u[s * k + j];
            double q = (1 - eps_t) * (j == labels[s]) + eps_t * uj;
            total -= q * logp[j];
            if (dz != NULL)
                dz[s * k + j] = gamma * (exp(logp[j]) - q) / (double)n;
        }
    }
    sfri_free(logp);
    return gamma * total / (double)n;
}
