/*
 * What the checkpoint code (lib/net/checkpoint.c) needs from a net, so that
 * the file format does not depend on the net's internals.
 *
 * Parameter and batch-norm state buffers exist from the moment the layer
 * that owns them is added (they grow with the builder calls) and survive
 * every compile, so a net can be saved or loaded before it is compiled.
 */
#ifndef SFR_LIB_NET_STATE_H
#define SFR_LIB_NET_STATE_H

#include <stdint.h>

#include "sfr/status.h"

struct sfr_net;

/*
 * The trainable parameters: the same contiguous buffer sfr_net_params
 * exposes, *count floats (0 for a net without parameters, then *values
 * may be NULL). The caller checks the handle first.
 */
void sfri_net_param_buffer(const struct sfr_net *net, float **values, int64_t *count);

/*
 * The non-trainable state saved in checkpoints: for every batchnorm layer in
 * creation order, its running mean (C floats) then its running variance
 * (C floats), in one contiguous buffer of *count floats.
 */
void sfri_net_state_buffer(const struct sfr_net *net, float **state, int64_t *count);

/*
 * Checks candidate state values for net (in the layout above, as many as
 * sfri_net_state_buffer gives): the index of the first running variance
 * below zero, or -1 when there is none. A batch norm divides by
 * sqrt(variance + eps): a negative one makes its outputs NaN.
 */
int64_t sfri_net_bad_variance(const struct sfr_net *net, const float *state);

/*
 * A 64-bit signature of the architecture: layer kinds, their arguments, their
 * inputs and the input shape, not the batch size. Two nets built by the same
 * builder calls have the same signature; nets that differ in any of those
 * almost surely do not.
 */
uint64_t sfri_net_arch_signature(const struct sfr_net *net);

#endif /* SFR_LIB_NET_STATE_H */
