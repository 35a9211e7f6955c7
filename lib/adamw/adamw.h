/*
 * The inside of the AdamW helper: the update kernel on raw float arrays and
 * the step on explicit buffers that sfr_adamw_step wraps around a net, so
 * that both can be tested without a net.
 */
#ifndef SFR_LIB_ADAMW_H
#define SFR_LIB_ADAMW_H

#include <stdint.h>

#include "sfr/adamw.h"

/* Counts from which the update is split across OpenMP threads; below it
 * the thread start-up costs more than the loop. */
#define SFRI_ADAMW_PARALLEL_MIN 65536

struct sfr_adamw {
    uint32_t magic;       /* SFRI_MAGIC_ADAMW while live */
    double lr;            /* > 0, finite as a float; lr * weight_decay <= 1 */
    double beta1, beta2;  /* in [0, 1) */
    double eps;           /* > 0 as a float */
    double weight_decay;  /* >= 0 */
    int64_t steps;        /* steps taken */
    int64_t count;        /* parameter count seen at the first step, -1 before */
    float *m, *v;         /* (count) first and second moments, NULL before the first step */
};

/*
 * The float scalars of one step, from the double hyper-parameters and the
 * step number t >= 1, rounded as PyTorch rounds its Python floats.
 */
struct sfri_adamw_scalars {
    float decay;          /* 1 - lr * weight_decay */
    float beta1, one_minus_beta1;
    float beta2, one_minus_beta2;
    float bias2_sqrt;     /* sqrt(1 - beta2^t) */
    float eps;
    float neg_step_size;  /* -lr / (1 - beta1^t) */
};

void sfri_adamw_scalars(const sfr_adamw *opt, int64_t t, struct sfri_adamw_scalars *s);

/*
 * One AdamW step on count floats, in place (sfr/adamw.h gives the formulas;
 * the operations and their rounding follow PyTorch's single-tensor kernel).
 * m and v hold the moments of the previous step (zeros before the first).
 * Allocates nothing.
 */
void sfri_adamw_update(float *restrict param, const float *restrict grad, float *restrict m,
                       float *restrict v, int64_t count, const struct sfri_adamw_scalars *s);

/*
 * sfr_adamw_step on explicit buffers (values and grads hold count floats;
 * both may be NULL when count is 0). The first call fixes the count (and
 * allocates the moments); a later call with another count is SFR_ERR_SHAPE.
 * Errors are reported for func. The caller checks opt.
 */
sfr_status sfri_adamw_apply(sfr_adamw *opt, float *values, const float *grads, int64_t count,
                            const char *func);

/* The checks of sfr_adamw_create's hyper-parameters, reported for func
 * (SFR_ERR_INVALID_ARG); a loaded checkpoint's values pass them too. */
sfr_status sfri_adamw_check_hypers(double lr, double beta1, double beta2, double eps,
                                   double weight_decay, const char *func);

#endif /* SFR_LIB_ADAMW_H */
