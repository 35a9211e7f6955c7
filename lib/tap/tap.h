/*
 * The inside of an sfr_tap, shared by the regularizer (which reads data and
 * adds into grad) and the net (which owns the taps on its layer outputs).
 */
#ifndef SFR_LIB_TAP_H
#define SFR_LIB_TAP_H

#include <stdint.h>

#include "sfr/tap.h"

struct sfr_net;

struct sfr_tap {
    uint32_t magic;         /* SFRI_MAGIC_TAP while live */
    int64_t dims[4];        /* N, C, H, W; N is 0 for a net tap before compile */
    const float *data;      /* (N, C, H, W); NULL for a net tap before compile */
    float *grad;            /* (N, C, H, W) or NULL: gradients are added here */
    struct sfr_net *owner;  /* the net it belongs to, or NULL for a wrapped tap */
    int layer;              /* the owner's layer id, -1 for a wrapped tap */

    /*
     * A net tap on a layer kept in oneDNN's nChw16c or nChw8c layout (the
     * AVX-512 and AVX2 kernels' choices) with C a multiple of the block has
     * a blocked view: the regularizer pools the layer's output directly and
     * writes its gradient into blocked_grad, which backward adds to the
     * layer's gradient, so no copy between layouts is made for it. The plain
     * data copy is made after every forward only once the host has asked for
     * the data pointer (host_data); before that, sfr_tap_data makes it when
     * asked. The plain gradient is zeroed by every training forward and added
     * by backward only once the host has asked for its pointer (host_grad).
     */
    const float *blocked;   /* (N, C/block, H, W, block): the layer's output, or NULL */
    int block;              /* 16 or 8 with a blocked view */
    float *blocked_grad;    /* same layout, or NULL */
    int blocked_grad_live;  /* blocked_grad holds values added since the last training forward */
    int plain_fresh;        /* data holds the output of the last forward */
    int host_data, host_grad;
};

/* Allocates a tap owned by net for layer, with no buffers yet. */
sfr_tap *sfri_tap_new_owned(struct sfr_net *net, int layer);

/* Frees a tap owned by a net (sfr_tap_destroy ignores owned taps). */
void sfri_tap_free_owned(sfr_tap *tap);

/*
 * Makes the plain copy of a net tap's data current (a blocked tap skips it
 * while the host has not asked for it); net/taps.c.
 */
sfr_status sfri_net_tap_make_plain(sfr_tap *tap, const char *func);

/*
 * 1 when a net tap's net has run a forward since it was compiled, so that
 * its data holds a layer output; net/taps.c.
 */
int sfri_net_tap_has_output(const sfr_tap *tap);

/* N*C*H*W of a tap. */
static inline int64_t sfri_tap_numel(const sfr_tap *tap)
{
    return tap->dims[0] * tap->dims[1] * tap->dims[2] * tap->dims[3];
}

#endif /* SFR_LIB_TAP_H */
