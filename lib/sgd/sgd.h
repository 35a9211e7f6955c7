/*
 * The inside of the SGD helper: the update kernel on raw float arrays and
 * the step on explicit buffers that sfr_sgd_step wraps around a net, so that
 * both can be tested without a net.
 */
#ifndef SFR_LIB_SGD_H
#define SFR_LIB_SGD_H

#include <stdint.h>

#include "sfr/sgd.h"

/* Counts from which the update is split across OpenMP threads; below it
 * the thread start-up costs more than the loop. */
#define SFRI_SGD_PARALLEL_MIN 65536

struct sfr_sgd {
    uint32_t magic;       /* SFRI_MAGIC_SGD while live */
    float lr;             /* > 0, finite */
    float momentum;       /* >= 0, finite; 0 means no buffer */
    float weight_decay;   /* >= 0, finite */
    int nesterov;         /* 0 or 1; 1 only with momentum > 0 */
    int64_t count;        /* parameter count seen at the first step, -1 before */
    float *buf;           /* (count) momentum buffer, NULL without momentum */
};

/*
 * One step of PyTorch's SGD (dampening 0) on count floats, in place:
 *     g = grad + weight_decay * param
 *     buf = first ? g : momentum * buf + g      (only when momentum != 0)
 *     g = nesterov ? g + momentum * buf : buf   (only when momentum != 0)
 *     param -= lr * g
 * buf (count floats) is read only when momentum != 0 and first == 0, and
 * written only when momentum != 0; it may be NULL when momentum == 0.
 * Allocates nothing.
 */
void sfri_sgd_update(float *restrict param, const float *restrict grad, float *restrict buf,
                     int64_t count, float lr, float momentum, float weight_decay, int nesterov,
                     int first);

/*
 * sfr_sgd_step on explicit buffers (values and grads hold count floats; both
 * may be NULL when count is 0). The first call fixes the count (and
 * allocates the momentum buffer); a later call with another count is
 * SFR_ERR_SHAPE. Errors are reported for func. The caller checks opt.
 */
sfr_status sfri_sgd_apply(sfr_sgd *opt, float *values, const float *grads, int64_t count,
                          const char *func);

/* The checks of sfr_sgd_create's hyper-parameters, reported for func
 * (SFR_ERR_INVALID_ARG); a loaded checkpoint's values pass them too. */
sfr_status sfri_sgd_check_hypers(double lr, double momentum, double weight_decay, int nesterov,
                                 const char *func);

#endif /* SFR_LIB_SGD_H */
