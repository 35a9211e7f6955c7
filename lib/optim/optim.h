/*
 * What the optimizer helpers (SGD, AdamW) share: finding a net's flat
 * buffers for a step, and the rule that an optimizer serves one net.
 */
#ifndef SFR_LIB_OPTIM_H
#define SFR_LIB_OPTIM_H

#include <stdint.h>

#include "sfr/net.h"

/* Checks opt (a handle of kind magic) and net, then gives the net's
 * parameter and gradient buffers and their count. Errors are for func. */
sfr_status sfri_optim_buffers(const void *opt, uint32_t magic, sfr_net *net, const char *func,
                              float **values, float **grads, int64_t *count);

/* The checks of a step on explicit buffers: count floats in each (both may
 * be NULL when count is 0), and the same count as the first step (first:
 * -1 before it). Errors are for func. */
sfr_status sfri_optim_check(int64_t first, const float *values, const float *grads,
                            int64_t count, const char *func);

#endif /* SFR_LIB_OPTIM_H */
