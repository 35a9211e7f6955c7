/*
 * The AdamW update kernel: one flat loop over independent elements, which
 * the compiler vectorizes and OpenMP splits for large parameter counts.
 *
 * Each line is one of PyTorch's tensor operations, rounded to float where
 * PyTorch rounds. Both moment updates end in a fused multiply-add, as
 * PyTorch 1.13's vectorized CPU kernels do on FMA machines (add_(grad, alpha)
 * calls fmadd; addcmul's value * t1 * t2 + self is fused by its compiler):
 * with them the results equal PyTorch's bit for bit
 * (tests/fixtures/adamw_torch.py), without them about one value in eight
 * differed by an ulp. The other operations stay separate: the kernel is
 * compiled in ISO C mode, which keeps the compiler from fusing them.
 */
#include <math.h>

#include "../common/common.h"
#include "adamw.h"

void sfri_adamw_scalars(const sfr_adamw *opt, int64_t t, struct sfri_adamw_scalars *s)
{
    /* Python computes these in double from the float hyper-parameters the
     * optimizer was given; PyTorch rounds each to float as it enters a
     * float tensor operation. */
    s->decay = (float)(1.0 - opt->lr * opt->weight_decay);
    s->beta1 = (float)opt->beta1;
    s->one_minus_beta1 = (float)(1.0 - opt->beta1);
    s->beta2 = (float)opt->beta2;
    s->one_minus_beta2 = (float)(1.0 - opt->beta2);
    s->bias2_sqrt = (float)sqrt(1.0 - pow(opt->beta2, (double)t));
    s->eps = (float)opt->eps;
    s->neg_step_size = (float)-(opt->lr / (1.0 - pow(opt->beta1, (double)t)));
}

SFRI_CLONES
void sfri_adamw_update(float *restrict param, const float *restrict grad, float *restrict m,
                       float *restrict v, int64_t count, const struct sfri_adamw_scalars *s)
{
    const struct sfri_adamw_scalars c = *s;
#pragma omp parallel for simd schedule(static) if (count >= SFRI_ADAMW_PARALLEL_MIN)
    for (int64_t i = 0; i < count; i++) {
        float g = grad[i];
        float p = param[i] * c.decay;
        float mi = fmaf(g, c.one_minus_beta1, m[i] * c.beta1);
        float vi = fmaf(c.one_minus_beta2 * g, g, v[i] * c.beta2);
        float denom = sqrtf(vi) / c.bias2_sqrt + c.eps;
        m[i] = mi;
        v[i] = vi;
        param[i] = p + c.neg_step_size * mi / denom; /* (value * m) / denom, then + */
    }
}
