/*
 * The pieces of sfr_net_save and sfr_net_load (checkpoint.c) that a
 * training-state checkpoint (net_section.c) reuses: a net's version-1
 * checkpoint bytes, and a load split into a check that builds the new
 * state and a commit that cannot fail.
 */
#ifndef SFR_LIB_NET_CHECKPOINT_H
#define SFR_LIB_NET_CHECKPOINT_H

#include <stddef.h>

#include "sfr/status.h"

struct sfr_net;

/* SFR_ERR_NONFINITE, reported for fn, when a parameter or running
 * statistic is a NaN or an infinity: such a net is not saved. */
sfr_status sfri_net_check_values(const struct sfr_net *net, const char *fn);

/* The bytes of the net's checkpoint, and the checkpoint itself into out. */
size_t sfri_net_checkpoint_size(const struct sfr_net *net);
void sfri_net_checkpoint_encode(const struct sfr_net *net, void *out);

/* Every check of the size bytes at data against net; on success
 * *new_state holds the running statistics commit will install. */
sfr_status sfri_net_checkpoint_prepare(const struct sfr_net *net, const unsigned char *data,
                                       size_t size, float **new_state, const char *fn);

/* Installs a prepared checkpoint's parameters and new_state (released). */
void sfri_net_checkpoint_commit(struct sfr_net *net, const unsigned char *data, float *new_state);

#endif /* SFR_LIB_NET_CHECKPOINT_H */
