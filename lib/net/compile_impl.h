/*
 * What the files of sfr_net_compile share: primitives.c makes the plan's
 * buffers, memory objects, primitives and steps; compile.c orders the work;
 * compile_ops.c and layer_*.c create each layer kind's steps with the
 * helpers of primitives.c (declared first below).
 */
#ifndef SFR_LIB_NET_COMPILE_IMPL_H
#define SFR_LIB_NET_COMPILE_IMPL_H

#include "net_impl.h"

/* Destroys a step's primitive and zeroes it (its memories are the plan's). */
void sfri_destroy_step(struct sfri_step *s);

/* A zeroed, aligned buffer of bytes that lives until the compile is released. */
void *sfri_net_buffer(sfr_net *net, size_t bytes, const char *fn);

/* A primitive descriptor for op with a user-managed scratchpad. */
sfr_status sfri_make_pd(sfr_net *net, const void *op, const_dnnl_primitive_desc_t hint,
                        dnnl_primitive_desc_t *pd, const char *what, const char *fn);

/* The same with a ReLU post-op on the destination (the residual add that
 * computes the ReLU after it). */
sfr_status sfri_make_pd_relu(sfr_net *net, const void *op, dnnl_primitive_desc_t *pd,
                             const char *what, const char *fn);

/* The same with another element-wise function (alg, alpha, beta) as the
 * post-op. */
sfr_status sfri_make_pd_eltwise(sfr_net *net, const void *op, dnnl_alg_kind_t alg, float alpha,
                                float beta, dnnl_primitive_desc_t *pd, const char *what,
                                const char *fn);

/* Creates step s of layer for pass from pd, with its scratchpad argument. */
sfr_status sfri_make_step(sfr_net *net, struct sfri_step *s, const_dnnl_primitive_desc_t pd,
                          int layer, int pass, const char *fn);

/*
 * Adds argument arg of step s over ptr, whose size must be bytes in the
 * layout pd gives the argument. ptr NULL binds the shared accumulation
 * buffer (a gradient to be summed into an input's diff), which compile
 * allocates once every layer is known.
 */
sfr_status sfri_bind(sfr_net *net, struct sfri_step *s, const_dnnl_primitive_desc_t pd, int arg,
                     void *ptr, size_t bytes, const char *fn);

/* One argument of a step for sfri_make_bound_step: as sfri_bind's; 0 bytes
 * leaves the argument out (a workspace the primitive turned out not to need). */
struct sfri_arg {
    int arg;
    void *ptr;
    size_t bytes;
};

/* sfri_make_step, then sfri_bind of each of the n args in order, stopping
 * at the first failure. */
sfr_status sfri_make_bound_step(sfr_net *net, struct sfri_step *s, const_dnnl_primitive_desc_t pd,
                                int layer, int pass, const struct sfri_arg *args, int n,
                                const char *fn);

/*
 * A backward-data step s of layer made from op (a descriptor for
 * sfri_make_pd) with the forward's hint, bound to its n args: the
 * primitive descriptor is made and released here.
 */
sfr_status sfri_make_backward_step(sfr_net *net, struct sfri_step *s, const void *op,
                                   const_dnnl_primitive_desc_t hint, int layer,
                                   const struct sfri_arg *args, int n, const char *what,
                                   const char *fn);

/* The number of entries of an array argument list. */
#define SFRI_NARGS(args) ((int)(sizeof(args) / sizeof((args)[0])))

/*
 * Step s copies src (in src_md) into dst (in dst_md), converting the
 * layout; with accumulate, it adds into dst instead. src NULL leaves the
 * source memory without a buffer (the caller points it somewhere before
 * each run). *src_mem, if not NULL, receives the source memory object.
 */
sfr_status sfri_make_reorder(sfr_net *net, struct sfri_step *s, int layer,
                             const dnnl_memory_desc_t *src_md, void *src,
                             const dnnl_memory_desc_t *dst_md, void *dst, int accumulate,
                             dnnl_memory_t *src_mem, const char *fn);

/* (N, C, H, W) of layer l in plain NCHW. */
sfr_status sfri_plain_md(const sfr_net *net, const struct sfri_layer *l, dnnl_memory_desc_t *md,
                         const char *fn);

/*
 * Sets l's layout to md (what its primitive writes), then gives l its
 * output and gradient buffers in that layout, or borrows input 0's when l
 * runs in place.
 */
sfr_status sfri_set_layout(sfr_net *net, struct sfri_layer *l, const dnnl_memory_desc_t *md,
                           const char *fn);

/* Everything one layer needs while its steps are created. */
struct sfri_op_ctx {
    sfr_net *net;
    struct sfri_layer *l;
    int id;
    struct sfri_layer *src;  /* input 0 */
    int back;                /* backward computes the gradient w.r.t. src */
    float *diff_src;         /* where: src's diff, or NULL for the accumulation buffer */
    float *w, *b, *dw, *db;  /* parameter and gradient slices */
    dnnl_alg_kind_t conv_alg; /* conv: direct or Winograd, the same for its three passes */
    int bf16;                /* conv: runs on bf16 copies of its source, weights and gradient */
    int bf16_weight_grad;    /* conv: its weight gradient too (else from the f32 tensors) */
    const char *fn;
};

/* The steps of batch norm (layer_bn.c), ReLU (layer_relu.c), pooling
 * (layer_pool.c), the residual add (layer_add.c). */
sfr_status sfri_compile_bn(struct sfri_op_ctx *c);
sfr_status sfri_compile_relu(struct sfri_op_ctx *c);
sfr_status sfri_compile_pool(struct sfri_op_ctx *c);
sfr_status sfri_compile_add(struct sfri_op_ctx *c);

/* The bytes of pd's workspace, and a buffer of that size in c->l->workspace
 * (kept when already made), or 0 when it has none (layer_bn.c). */
sfr_status sfri_layer_workspace(struct sfri_op_ctx *c, const_dnnl_primitive_desc_t pd,
                                size_t *bytes);

/* An f32 descriptor of dims in the layout a primitive chooses, and the
 * descriptor of a primitive's argument arg (compile_ops.c). */
sfr_status sfri_md_any(dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims, const char *fn);
const dnnl_memory_desc_t *sfri_arg_md(const_dnnl_primitive_desc_t pd, int arg);

/* The steps of an activation layer (layer_activation.c), of a product layer
 * (layer_mul.c), of a concatenation (layer_concat.c), of dropout
 * (layer_dropout.c). */
sfr_status sfri_compile_activation(struct sfri_op_ctx *c);
sfr_status sfri_compile_mul(struct sfri_op_ctx *c);
sfr_status sfri_compile_concat(struct sfri_op_ctx *c);
sfr_status sfri_compile_dropout(struct sfri_op_ctx *c);

/* Whether oneDNN runs AMX kernels on this CPU (precision.c). */
int sfri_cpu_has_amx(void);

/*
 * For the convolutions of a bf16 net (precision.c). sfri_bf16_copy: a bf16
 * copy of the f32 tensor (md, buf) in the same layout, made by step;
 * *bf16_md and *bf16_buf receive it (the buffer is the plan's).
 * sfri_bf16_source: the bf16 copy of layer src's output, made by step of
 * the first convolution that reads it and shared by the others (all read it
 * after their forward has run in layer order, and nothing overwrites a
 * layer's output that several layers read).
 */
sfr_status sfri_bf16_copy(sfr_net *net, struct sfri_step *step, int layer,
                          const dnnl_memory_desc_t *md, void *buf, dnnl_memory_desc_t *bf16_md,
                          void **bf16_buf, const char *fn);
sfr_status sfri_bf16_source(sfr_net *net, struct sfri_step *step, int layer,
                            struct sfri_layer *src, dnnl_memory_desc_t *bf16_md, void **bf16_buf,
                            const char *fn);

/* Creates layer id's primitives (compile_ops.c); its inputs are compiled. */
sfr_status sfri_compile_layer(sfr_net *net, int id, const char *fn);

#endif /* SFR_LIB_NET_COMPILE_IMPL_H */
