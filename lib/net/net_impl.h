/*
 * The inside of an sfr_net, shared by the files of lib/net/.
 *
 * Legend: N batch, C channels, H height, W width, K kernel size, O output
 * channels or features. Every activation the net keeps is float32 plain
 * NCHW, contiguous: a layer's output buffer is what its tap shows, so the
 * host reads features without a reorder. The parameter buffer is the
 * oneDNN user memory of every weight (conv OIHW, linear O x C x H x W, which
 * is torch.flatten's order), so values the host writes between steps are
 * seen by the next forward without any copy.
 *
 * Lifetime: the layer list, the parameter buffers and the batch-norm state
 * grow with the builder calls and live until destroy; everything under
 * "compiled" is created by sfr_net_compile for one batch size and released
 * by the next compile or by destroy.
 */
#ifndef SFR_LIB_NET_IMPL_H
#define SFR_LIB_NET_IMPL_H

#include <dnnl.h>
#include <stdint.h>

#include "common/common.h"
#include "sfr/net.h"

enum sfri_layer_kind {
    SFRI_LAYER_INPUT = 1,
    SFRI_LAYER_CONV,
    SFRI_LAYER_BN,
    SFRI_LAYER_RELU,
    SFRI_LAYER_MAXPOOL,
    SFRI_LAYER_AVGPOOL,
    SFRI_LAYER_GAP,
    SFRI_LAYER_LINEAR,
    SFRI_LAYER_ADD
};

/* Batch-norm constants (PyTorch's defaults). */
#define SFRI_BN_EPS 1e-5f
#define SFRI_BN_MOMENTUM 0.1f

/* Most arguments one primitive execution takes (batch-norm backward:
 * src, mean, variance, diff_dst, scale, shift, diff_src, diff_scale,
 * diff_shift, scratchpad; oneDNN 2.6 refuses to run it without shift). */
#define SFRI_MAX_ARGS 10

/* What backward does with the gradient w.r.t. one input of a layer. */
enum sfri_grad_mode {
    SFRI_GRAD_NONE = 0, /* the input is the net's input: nobody needs it */
    SFRI_GRAD_WRITE,    /* the first contribution: written straight into the input's diff */
    SFRI_GRAD_ADD       /* a later one: computed into net->accum, then added */
};

/* One primitive with the memories it runs on, bound at compile. */
struct sfri_step {
    dnnl_primitive_t prim; /* NULL when the layer has no such step */
    int nargs;
    dnnl_exec_arg_t args[SFRI_MAX_ARGS];
};

struct sfri_layer {
    int kind;          /* enum sfri_layer_kind */
    int in[2];         /* input layer ids; -1 when unused */
    int c, h, w;       /* output shape per sample */
    int kernel, stride, pad, bias; /* conv and pooling arguments; bias: conv only */

    /* Parameters: the weight (conv OIHW, BN gamma, linear O x C x H x W)
     * at param_off, the bias (conv bias, BN beta, linear bias) right after.
     * Sizes 0 when the layer has none. */
    int64_t param_off, weight_size, bias_size;
    char weight_name[32], bias_name[32];
    int64_t state_off; /* BN: running mean (C) then running var (C) */

    sfr_tap *tap; /* the net's tap on this output, NULL until asked for */

    /* compiled */
    float *out;            /* (N, C, H, W) this layer's output */
    float *diff;           /* (N, C, H, W) gradient of the loss w.r.t. out; NULL for input */
    float *mean, *var;     /* BN: (C) batch mean and biased variance of the last training forward */
    void *workspace;       /* max pooling: argmax positions for backward */
    int consumers;         /* layers that take this one as an input */
    int grad_mode[2];      /* enum sfri_grad_mode for input slot 0 and 1 */
    struct sfri_step fwd;      /* training forward (and eval forward unless fwd_eval) */
    struct sfri_step fwd_eval; /* BN: forward with running statistics */
    struct sfri_step bwd;      /* gradient w.r.t. the input (BN: and gamma, beta) */
    struct sfri_step bwd_w;    /* conv, linear: gradient w.r.t. weight and bias */
};

enum sfri_net_phase {
    SFRI_PHASE_BUILDING = 0, /* not compiled */
    SFRI_PHASE_COMPILED,     /* compiled, no forward since */
    SFRI_PHASE_TRAINED,      /* last forward was a training forward */
    SFRI_PHASE_EVALUATED     /* last forward was an eval forward */
};

struct sfr_net {
    uint32_t magic; /* SFRI_MAGIC_NET while live */
    dnnl_engine_t engine;
    dnnl_stream_t stream;

    struct sfri_layer **layers; /* each allocated on its own: names keep their address */
    int n_layers, cap_layers;

    float *params, *grads; /* (n_params) each */
    int64_t n_params;
    float *state; /* (n_state) running mean and var of every BN layer */
    int64_t n_state;

    /* compiled */
    int phase;
    int64_t batch;
    float *accum;             /* a gradient w.r.t. an input that is summed, not written */
    void *scratch;            /* the user-managed oneDNN scratchpad shared by every step */
    size_t scratch_size;      /* bytes: the largest scratchpad any step asks for */
    dnnl_memory_t *mems;      /* every memory object of this compile, to destroy */
    int n_mems, cap_mems;
};

/* The layer with id, or NULL. */
static inline struct sfri_layer *sfri_net_layer(const sfr_net *net, int id)
{
    return id >= 0 && id < net->n_layers ? net->layers[id] : NULL;
}

/* Records "func: oneDNN <what> failed: <dnnl status>" and returns SFR_ERR_BACKEND
 * (SFR_ERR_NOMEM when oneDNN ran out of memory). */
sfr_status sfri_dnnl_fail(dnnl_status_t st, const char *func, const char *what);

/* Executes one step on the net's stream. */
sfr_status sfri_net_run(sfr_net *net, const struct sfri_step *s, const char *func);

/* Releases everything compile made and returns the net to the building phase. */
void sfri_net_release_compiled(sfr_net *net);

/* Gives tap (owned by the compiled net) its dims, data and a zeroed gradient buffer. */
sfr_status sfri_net_bind_tap(sfr_net *net, sfr_tap *tap, const char *func);

/* dst[i] += src[i] for n floats. */
void sfri_add_into(float *dst, const float *src, int64_t n);

/* N*C*H*W of a layer's output at the compiled batch size. */
static inline int64_t sfri_layer_numel(const sfr_net *net, const struct sfri_layer *l)
{
    return net->batch * l->c * l->h * l->w;
}

#endif /* SFR_LIB_NET_IMPL_H */
