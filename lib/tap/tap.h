/*
 * The inside of an sfr_tap, shared by the regularizer (which reads data and
 * adds into grad) and the net (which owns the taps on its layer outputs).
 *
 * lib/tap knows nothing of nets: what only the owner can tell (whether the
 * tap holds an output now, how to make its plain copy) it asks through the
 * owner's functions, which the net sets (net/taps.c).
 */
#ifndef SFR_LIB_TAP_H
#define SFR_LIB_TAP_H

#include <stdint.h>

#include "sfr/tap.h"

struct sfr_net;

/* What a tap's owner answers for the accessors; a wrapped tap has none. */
struct sfri_tap_owner_ops {
    /* Whether the tap holds the output of the owner's last forward (data,
     * or the blocked view): 0 before any forward since the last compile. */
    int (*has_output)(const sfr_tap *tap);
    /* Called by sfr_tap_data when has_output: makes data current for the
     * host to read (the plain copy of a blocked tap). */
    sfr_status (*prepare_read)(sfr_tap *tap, const char *func);
};

struct sfr_tap {
    uint32_t magic;         /* SFRI_MAGIC_TAP while live */
    int64_t dims[4];        /* N, C, H, W; N is 0 for a net tap before compile */
    const float *data;      /* (N, C, H, W); NULL for a net tap before compile */
    float *grad;            /* (N, C, H, W) or NULL: gradients are added here */
    struct sfr_net *owner;  /* the net it belongs to, or NULL for a wrapped tap */
    int layer;              /* the owner's layer id, -1 for a wrapped tap */
    const struct sfri_tap_owner_ops *ops; /* the owner's, or NULL (then data is always current) */

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

/* Allocates a tap owned by net for layer, with no buffers yet and no owner
 * functions (the net sets ops). */
sfr_tap *sfri_tap_new_owned(struct sfr_net *net, int layer);

/* Frees a tap owned by a net (sfr_tap_destroy ignores owned taps). */
void sfri_tap_free_owned(sfr_tap *tap);

/*
 * Whether the tap's data (or blocked view) holds an output to read: always
 * for a wrapped tap; for a net's tap, once compiled and after a forward.
 */
int sfri_tap_has_output(const sfr_tap *tap);

/* N*C*H*W of a tap. */
static inline int64_t sfri_tap_numel(const sfr_tap *tap)
{
    return tap->dims[0] * tap->dims[1] * tap->dims[2] * tap->dims[3];
}

#endif /* SFR_LIB_TAP_H */
