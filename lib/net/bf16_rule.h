/*
 * Which pass of a bf16 convolution runs on bf16, on oneDNN 2.6. Its bf16
 * forward and backward-data kernels beat f32 on every convolution of the
 * reference nets, but its bf16 weight-gradient kernels (AVX512_BF16, no
 * AMX) lose to f32 on small strided layers. bench_bf16_chain sweeps
 * stride-2 convolutions (batch 32-128, 16-256 channels in, widths 7-32)
 * and prints this rule's choice beside both times:
 *
 *   - stride 1: bf16 was faster (0.6-0.9x f32) on every layer measured;
 *   - a strided 1x1: bf16 was faster except on odd widths (7: 1.5-2.6x);
 *   - a strided 3x3: bf16 was 1.3-3.4x slower while in_c * in_w < 1024 and
 *     0.7-0.95x from 1792 on (in between, level).
 *
 * AMX kernels (avx512_core_amx) are several times faster in bf16 whatever
 * the shape. Header-only so that the bench checks the very rule.
 */
#ifndef SFRI_BF16_RULE_H
#define SFRI_BF16_RULE_H

/* Whether a bf16 convolution with in_c channels in, input width in_w, a
 * kh x kw kernel and strides (sh, sw) computes its weight gradient in bf16
 * (else from the f32 source and output gradient); amx: the CPU has AMX. */
static inline int sfri_bf16_weight_grad(int amx, int in_c, int in_w, int kh, int kw, int sh,
                                        int sw)
{
    if (amx || (sh == 1 && sw == 1))
        return 1;
    if (kh == 1 && kw == 1)
        return in_w % 2 == 0;
    return (long)in_c * in_w >= 1536;
}

#endif
