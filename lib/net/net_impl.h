/*
 * The inside of an sfr_net, shared by the files of lib/net/.
 *
 * Legend: N batch, C channels, H height, W width, K kernel size, O output
 * channels or features.
 *
 * Layouts: every activation and its gradient live in the layout oneDNN's
 * fastest primitive for the producing layer chose (usually nChw16c; the
 * input is plain NCHW), described by the layer's md. What the host sees is
 * plain: a tapped layer and the output layer also keep a plain NCHW copy,
 * made by a reorder right after the layer runs, and a tap's gradient (plain)
 * is reordered into the layer's gradient during backward. The parameter
 * buffer is flat and plain (conv OIHW, linear O x C x H x W, which is
 * torch.flatten's order); each forward reorders a weight into the layout its
 * primitives want (the host may change the values between steps) and each
 * backward reorders weight gradients back into the flat gradient buffer.
 * When a primitive wants the plain layout, the flat buffer is bound directly.
 *
 * Fusions chosen at compile, only where nobody can see the difference:
 * a batch norm whose only consumer is a ReLU and which is not tapped runs
 * the ReLU itself (dnnl_fuse_norm_relu), and so does such a residual add
 * (a ReLU post-op; the ReLU layer keeps its backward); a ReLU or a
 * residual add whose input 0 has no other consumer and no tap runs in
 * place on that input's buffers. Asking for a tap on such a hidden output after compile
 * recompiles the net so that the output exists.
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
    SFRI_LAYER_ADD,
    SFRI_LAYER_ACT, /* an element-wise activation other than ReLU (layer_activation.c) */
    SFRI_LAYER_MUL, /* an element-wise product, broadcast or not (layer_mul.c) */
    SFRI_LAYER_CONCAT, /* two inputs' channels, one after the other (layer_concat.c) */
    SFRI_LAYER_DROPOUT /* zeroes inputs at random in training (layer_dropout.c) */
};

/* Longest layer name (sfr_net_set_layer_name). */
#define SFRI_NAME_MAX 63

/* Batch-norm constants (PyTorch's defaults). */
#define SFRI_BN_EPS 1e-5f
#define SFRI_BN_MOMENTUM 0.1f

/* Most arguments one primitive execution takes (batch-norm backward:
 * src, mean, variance, diff_dst, scale, shift, diff_src, diff_scale,
 * diff_shift, workspace, scratchpad; oneDNN 2.6 refuses to run it without
 * shift). */
#define SFRI_MAX_ARGS 11

/* What backward does with the gradient w.r.t. one input of a layer. */
enum sfri_grad_mode {
    SFRI_GRAD_NONE = 0, /* the input is the net's input: nobody needs it */
    SFRI_GRAD_WRITE,    /* the first contribution: written straight into the input's diff */
    SFRI_GRAD_ADD       /* a later one: computed into net->accum, then added */
};

/* The passes the profile (SFR_PROFILE) tells apart. */
enum sfri_pass {
    SFRI_PASS_FWD = 0,     /* forward */
    SFRI_PASS_BWD_DATA,    /* gradient w.r.t. the input (batch norm: and gamma, beta) */
    SFRI_PASS_BWD_WEIGHTS, /* gradient w.r.t. weights and bias */
    SFRI_PASS_LAYOUT,      /* reorders and copies between layouts and buffers */
    SFRI_N_PASSES
};

/* One primitive with the memories it runs on, bound at compile. */
struct sfri_step {
    dnnl_primitive_t prim; /* NULL when the layer has no such step */
    /* Or libsfr's own code for the step (a layer oneDNN has no primitive
     * for), run after the stream has finished the steps before it. */
    sfr_status (*run)(sfr_net *net, int layer, const char *func);
    int layer, pass;       /* whose time it is, for the profile */
    int nargs;
    dnnl_exec_arg_t args[SFRI_MAX_ARGS];
};

struct sfri_layer {
    int kind;          /* enum sfri_layer_kind */
    int in[2];         /* input layer ids; -1 when unused */
    int c, h, w;       /* output shape per sample */
    int kernel, stride, pad, bias; /* conv and pooling arguments; bias: conv only */
    /* CONV, per axis (sfr_net_conv2d fills them from kernel, stride, pad):
     * kernel, stride, padding top, left, bottom, right, dilation (PyTorch's:
     * 1 is none), groups; general: made by sfr_net_conv. */
    int kh, kw, sh, sw, pad_t, pad_l, pad_b, pad_r, dil_h, dil_w, groups, general;
    int act;           /* ACT: the sfr_activation */
    double drop;       /* DROPOUT: the probability of zeroing an input */

    /* Parameters: the weight (conv OIHW, BN gamma, linear O x C x H x W)
     * at param_off, the bias (conv bias, BN beta, linear bias) right after.
     * Sizes 0 when the layer has none. */
    int64_t param_off, weight_size, bias_size;
    /* The layer's name (default "layer<id>") and its tensors' names:
     * "<name>.weight", ".bias", and BN's ".running_mean", ".running_var". */
    char name[SFRI_NAME_MAX + 1];
    char weight_name[SFRI_NAME_MAX + 16], bias_name[SFRI_NAME_MAX + 16];
    char mean_name[SFRI_NAME_MAX + 16], var_name[SFRI_NAME_MAX + 16];
    int64_t state_off; /* BN: running mean (C) then running var (C) */

    sfr_tap *tap; /* the net's tap on this output, NULL until asked for */

    /* compiled: everything from md to the end belongs to one compile for
     * one batch size (a plan); plan.c swaps it with a parked one */
    dnnl_memory_desc_t md; /* (N, C, H, W) layout of out and diff */
    size_t bytes;          /* size of out, and of diff, in that layout */
    int plain_md;          /* md is plain NCHW: out is what the host may read */
    float *out;            /* (N, C, H, W) in md: this layer's output */
    float *diff;           /* (N, C, H, W) in md: gradient w.r.t. out; NULL for input */
    float *plain;          /* (N, C, H, W) plain output for a tap or the logits, or NULL;
                            * out itself when plain_md */
    float *mean, *var;     /* BN: (C) batch mean and biased variance of the last training forward */
    void *workspace;       /* max pooling: argmax positions; BN with fused ReLU: its mask */
    int consumers;         /* layers that take this one as an input */
    int last_consumer;     /* the highest-numbered of them, -1 when none */
    int grad_mode[2];      /* enum sfri_grad_mode for input slot 0 and 1 */
    int fuse_relu;         /* BN, ADD: its only consumer, a ReLU, is computed by its primitive */
    int in_place;          /* out and diff are input 0's buffers */
    int diff_from;         /* -1, or the layer whose diff buffer this one's diff is (a residual
                            * add's inputs sharing its gradient: see plan_diff_sharing) */
    int winograd;          /* conv: its three primitives use oneDNN's Winograd algorithm */
    void *bf16_out;        /* a bf16 copy of out that bf16 convolutions read, or NULL: made by
                            * the first of them before its forward (precision.c) */
    int hidden;            /* out is overwritten by a consumer: a tap needs a recompile */
    struct sfri_step fwd_pre;  /* forward, before fwd or fwd_eval: a first stage, if any */
    struct sfri_step fwd;      /* training forward (and eval forward unless fwd_eval) */
    struct sfri_step fwd_eval; /* BN: forward with running statistics */
    struct sfri_step bwd_pre;  /* backward, before bwd: a first stage of it, if any */
    struct sfri_step bwd;      /* gradient w.r.t. the input (BN: and gamma, beta) */
    struct sfri_step bwd_w;    /* conv, linear: gradient w.r.t. weight and bias */
    struct sfri_step bwd1_pre; /* a first stage of bwd1, if any */
    struct sfri_step bwd1;     /* gradient w.r.t. input 1, where a kind computes it (MUL) */
    struct sfri_step w_in;     /* forward: flat weights -> the forward primitive's layout */
    struct sfri_step w_in_bwd; /* forward: flat weights -> backward data's layout, if another */
    struct sfri_step dw_out;   /* backward: weight gradient -> the flat gradient buffer */
    struct sfri_step to_plain; /* forward: out -> plain */
    struct sfri_step tap_in;   /* backward: diff += the tap's gradient (plain) */
    struct sfri_step pass_on[2]; /* ADD: diff -> an input's diff of another layout;
                                  * CONCAT: an input's channels of diff -> its diff */
};

/* SFR_PROFILE: milliseconds per layer and pass, summed since compile. */
struct sfri_profile {
    int every;            /* print every this many backwards; 0: only at destroy */
    int n_layers;
    int64_t forwards, backwards;
    double *ms;           /* (n_layers, SFRI_N_PASSES) */
};

enum sfri_net_phase {
    SFRI_PHASE_BUILDING = 0, /* not compiled */
    SFRI_PHASE_COMPILED,     /* compiled, no forward since */
    SFRI_PHASE_TRAINED,      /* last forward was a training forward */
    SFRI_PHASE_EVALUATED     /* last forward was an eval forward */
};

struct sfri_plan_store;

/* Compiles kept beside the live one: the full batch's and two partial ones
 * (a host's short training batch and short evaluation batch) while a third
 * partial one is live. */
#define SFRI_PARKED_PLANS 3

struct sfr_net {
    uint32_t magic; /* SFRI_MAGIC_NET while live */
    dnnl_engine_t engine;
    dnnl_stream_t stream;

    struct sfri_layer **layers; /* each allocated on its own: names keep their address */
    int n_layers, cap_layers;

    float *params, *grads; /* (n_params) each */
    int64_t n_params;
    float *grad_sum;       /* (grad_sum_count) the gradients an accumulating backward adds to */
    int64_t grad_sum_count; /* 0 until the first accumulating backward */
    float *state; /* (n_state) running mean and var of every BN layer */
    int64_t n_state;

    struct sfri_profile *profile; /* NULL unless SFR_PROFILE was set at compile */

    /* Dropout's masks: a hash of (seed, layer, training forward count,
     * position), so that they do not depend on the thread count. */
    uint64_t dropout_seed;     /* the seed of the last sfr_net_init_params, 0 before */
    uint64_t dropout_forwards; /* training forwards since then */

    dnnl_stream_t *streams;   /* one per thread of the weight reorders (see weights.c) */
    int n_streams;

    int64_t max_batch;        /* the batch of sfr_net_compile; 0 before it */
    int precision;            /* SFR_PRECISION_*: what the next compile uses (precision.c) */
    int compiled_precision;   /* what the live compile (and its partial plans) use */
    /* The compiles for other batch sizes than the live one's (plan.c). */
    struct sfri_plan_store *parked[SFRI_PARKED_PLANS];
    int n_parked;

    /* compiled: everything from phase to the end belongs to one compile for
     * one batch size (a plan); plan.c swaps it with a parked one */
    int phase;
    int64_t batch;
    int borrowed_taps;        /* the taps' plain gradients and data are another plan's */
    float *accum;             /* a gradient w.r.t. an input that is summed, not written */
    size_t accum_size;        /* bytes: the largest such gradient */
    void *scratch;            /* the user-managed oneDNN scratchpad shared by every step */
    size_t scratch_size;      /* bytes: the largest scratchpad any step asks for */
    int accum_layer, scratch_layer; /* the layers that ask for those largest sizes */
    dnnl_memory_t *mems;      /* every memory object of this compile, to destroy */
    int n_mems, cap_mems;
    void **bufs;              /* every buffer of this compile, to free */
    int n_bufs, cap_bufs;
    struct sfri_step logits_in; /* backward: dlogits -> the output's diff, when not plain */
    dnnl_memory_t logits_mem;   /* its source, pointed at the host's dlogits each backward */
};

/* Whether the layers' buffers hold the output of a forward (one has
 * completed since the last compile). */
static inline int sfri_net_has_output(const sfr_net *net)
{
    return net->phase == SFRI_PHASE_TRAINED || net->phase == SFRI_PHASE_EVALUATED;
}

/* The checks every count getter of a net makes: a live net, and a count to
 * write (layer_info.c). */
sfr_status sfri_net_count_args(const sfr_net *net, const int *count, const char *fn);

/* The layer with id, or NULL. */
static inline struct sfri_layer *sfri_net_layer(const sfr_net *net, int id)
{
    return id >= 0 && id < net->n_layers ? net->layers[id] : NULL;
}

/* The layer with id as entry point fn's argument (layer_info.c): *out, or
 * SFR_ERR_INVALID_ARG naming the unknown id, *out untouched. */
sfr_status sfri_net_layer_arg(const sfr_net *net, int id, const char *fn,
                              struct sfri_layer **out);

/* Records "func: oneDNN <what> failed: <dnnl status>" and returns SFR_ERR_BACKEND
 * (SFR_ERR_NOMEM when oneDNN ran out of memory). */
sfr_status sfri_dnnl_fail(dnnl_status_t st, const char *func, const char *what);

/* The short name of a layer kind ("conv", "maxpool", ...), as the profile
 * and error messages print it. */
const char *sfri_layer_kind_name(int kind);

/* Adds "layer <id> (<kind>): " to the failure st just recorded for func
 * and returns st (SFR_OK passes through): every failure of a compile names
 * the layer it happened in. */
sfr_status sfri_net_blame_layer(const sfr_net *net, int id, sfr_status st, const char *func);

/* Executes one step on the net's stream (nothing when it has no primitive). */
sfr_status sfri_net_run(sfr_net *net, const struct sfri_step *s, const char *func);

/*
 * Whether a forward skips the plain copy of layer's output: a tap with a
 * blocked view whose data the host has not asked for (net/taps.c).
 */
int sfri_net_plain_deferred(const sfr_net *net, int layer);

/* Whether layer's gradient buffer is shared with another input of a
 * residual add (net/compile.c): a tap on it needs a recompile. */
int sfri_net_shares_diff(const sfr_net *net, int layer);

/* Executes one step on stream (nothing when it has no primitive). */
sfr_status sfri_net_run_on(sfr_net *net, dnnl_stream_t stream, const struct sfri_step *s,
                           const char *func);

/* Every layer's weights into its primitives' layouts (forward; with_bwd:
 * also the backward-data copies), or every weight gradient back into the
 * flat gradient buffer (to_flat), spread over the threads (weights.c). */
sfr_status sfri_net_weight_reorders(sfr_net *net, int to_flat, int with_bwd, const char *func);

/* Creates (or keeps) one stream per OpenMP thread for the weight reorders. */
sfr_status sfri_net_make_streams(sfr_net *net, const char *func);

/* Destroys the streams sfri_net_make_streams made. */
void sfri_net_free_streams(sfr_net *net);

/* Profile clock: the time now when profiling, else 0. */
double sfri_prof_start(const sfr_net *net);
/* Adds the time since t0 to layer's pass when profiling. */
void sfri_prof_stop(sfr_net *net, int layer, int pass, double t0);
/* Reads SFR_PROFILE and sets up (or drops) net->profile; on failure the net
 * simply runs unprofiled. */
void sfri_prof_setup(sfr_net *net);
/* Prints the profile to stderr, if any. */
void sfri_prof_report(const sfr_net *net);
/* Counts a finished forward or backward, printing every profile->every. */
void sfri_prof_count(sfr_net *net, int backward);
/* Frees the profile. */
void sfri_prof_free(sfr_net *net);

/* Releases everything compile made (both plans) and returns the net to the
 * building phase. */
void sfri_net_release_compiled(sfr_net *net);
/* Releases the live plan only (compile.c), and the parked plans only (plan.c). */
void sfri_net_release_live(sfr_net *net);
void sfri_net_release_parked(sfr_net *net);

/* Gives tap (owned by the compiled net) its dims, data and a zeroed gradient
 * buffer, with the reorders between the layer's layout and the plain one;
 * after a forward its data is that forward's output at once. On failure
 * the tap and the layer are left as they were. */
sfr_status sfri_net_bind_tap(sfr_net *net, sfr_tap *tap, const char *func);

/*
 * Partial batches (plan.c). The net keeps its compile for max_batch and,
 * parked beside the live one, a few more for smaller batches; a smaller
 * plan shares every buffer the host can see (logits, tap data and
 * gradients) with the full one, so pointers the host holds stay valid.
 */
/* Makes the plan for batch n (1 <= n <= max_batch) the live one, compiling
 * it when it is not the live or a parked one (dropping the oldest partial
 * one when all places are taken). On failure the full plan is live. */
sfr_status sfri_net_use_batch(sfr_net *net, int64_t n, const char *func);
/* Makes the full plan live and drops the others (before anything that
 * changes what a compile makes, such as a new tap). */
void sfri_net_drop_partial(sfr_net *net);
/* The compile of the live plan for batch, on a net with no live plan;
 * on failure the live plan is released again. */
sfr_status sfri_net_compile_plan(sfr_net *net, int64_t batch, const char *fn);

/* Compiles net again for batch (its batch size), keeping the parameter
 * gradients (used when a tap needs an output a fusion had hidden); on
 * failure the net is left uncompiled. */
sfr_status sfri_net_recompile(sfr_net *net, int64_t batch, const char *func);

/* The builder calls' shared steps (build.c), for the layer kinds that live
 * in files of their own: the checks every builder call makes first (a live
 * net still being built, an id pointer), a fresh prototype of kind fed by
 * in0 (and in1) with no parameters, and appending a filled-in prototype. */
sfr_status sfri_build_begin(sfr_net *net, const int *id, const char *fn);
struct sfri_layer sfri_layer_proto(int kind, int in0, int in1, int c, int h, int w);
/* sfri_build_begin, then the input layer of in (and of b) in *src (and *lb). */
sfr_status sfri_build_on(sfr_net *net, const int *id, const char *fn, int in,
                         const struct sfri_layer **src);
sfr_status sfri_build_on2(sfr_net *net, const int *id, const char *fn, int a,
                          const struct sfri_layer **la, int b, const struct sfri_layer **lb);
sfr_status sfri_build_append(sfr_net *net, const struct sfri_layer *proto, int *id,
                             const char *fn);

/* Output size along one axis of a window (kernel already dilated) with
 * stride and padding lo before, hi after, each in [0, max_pad] and at most
 * the input (build.c says why); SFR_ERR_SHAPE with a message otherwise.
 * a * b * c * d for sizes >= 1, or -1 beyond the element limit. */
sfr_status sfri_window_out(int size, int kernel, int stride, int lo, int hi, int max_pad,
                           const char *fn, int *out);
int64_t sfri_elems_within_limit(int64_t a, int64_t b, int64_t c, int64_t d);

/* Names layer l name, and its tensors after it (names.c). */
void sfri_layer_set_names(struct sfri_layer *l, const char *name);

/* sfr_net_backward after its handle check, reporting errors for func. */
sfr_status sfri_net_backward(sfr_net *net, const float *dlogits, const char *func);

void sfri_add_into(float *dst, const float *src, int64_t n);

/* 1 when every one of the n floats is zero (either sign), else 0: adding
 * them would change nothing. NaN counts as nonzero. */
int sfri_all_zero(const float *x, int64_t n);

/* 1 when none of the n floats is NaN or an infinity, else 0. */
int sfri_all_finite(const float *x, int64_t n);

/* N*C*H*W of a layer's output at the compiled batch size. */
/* Whether a step does anything (a primitive, or libsfr's own code). */
static inline int sfri_step_exists(const struct sfri_step *s)
{
    return s->prim != NULL || s->run != NULL;
}

static inline int64_t sfri_layer_numel(const sfr_net *net, const struct sfri_layer *l)
{
    return net->batch * l->c * l->h * l->w;
}

#endif /* SFR_LIB_NET_IMPL_H */
