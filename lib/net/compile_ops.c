/*
 * The weighted layers' primitives (convolution and inner product, which
 * share their weight handling), and the dispatch of every layer kind to
 * its compile: the others live in layer_*.c. A layer's input layouts are
 * fixed by the time it is compiled; convolution, inner product and pooling
 * leave their destination and weights to oneDNN (dnnl_format_tag_any),
 * batch norm, ReLU and the residual add keep their input's layout.
 */
#include <string.h>

#include "bf16_rule.h"
#include "compile_impl.h"

static sfr_status md_any_of(dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims,
                            dnnl_data_type_t type, const char *fn)
{
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(md, ndims, dims, type, dnnl_format_tag_any);
    return st == dnnl_success ? SFR_OK : sfri_dnnl_fail(st, fn, "memory descriptor");
}

sfr_status sfri_md_any(dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims, const char *fn)
{
    return md_any_of(md, ndims, dims, dnnl_f32, fn);
}

static sfr_status md_tag(dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims,
                         dnnl_format_tag_t tag, const char *fn)
{
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(md, ndims, dims, dnnl_f32, tag);
    return st == dnnl_success ? SFR_OK : sfri_dnnl_fail(st, fn, "memory descriptor");
}

const dnnl_memory_desc_t *sfri_arg_md(const_dnnl_primitive_desc_t pd, int arg)
{
    return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
}

/* Weights in the layout a primitive wants: the buffer and its layout. */
struct weights_copy {
    dnnl_memory_desc_t md;
    float *buf; /* NULL until made */
};

/*
 * Binds weight argument arg of step s. A primitive that wants the plain
 * layout reads (or, to_flat, writes) the flat buffer itself; otherwise it
 * gets a buffer in its layout, and reorder copies between the two (flat ->
 * buffer before the step, or buffer -> flat after it). A forward copy in
 * the same layout is shared.
 */
static sfr_status bind_weights(struct sfri_op_ctx *c, struct sfri_step *s, const_dnnl_primitive_desc_t pd,
                               int arg, const dnnl_memory_desc_t *plain, float *flat, int to_flat,
                               struct sfri_step *reorder, struct weights_copy *shared)
{
    const dnnl_memory_desc_t *md = sfri_arg_md(pd, arg);
    if (md == NULL)
        return sfri_fail(SFR_ERR_BACKEND, c->fn, "oneDNN has no weights layout");
    size_t bytes = dnnl_memory_desc_get_size(md);
    if (dnnl_memory_desc_equal(md, plain))
        return sfri_bind(c->net, s, pd, arg, flat, bytes, c->fn);
    if (shared != NULL && shared->buf != NULL && dnnl_memory_desc_equal(md, &shared->md))
        return sfri_bind(c->net, s, pd, arg, shared->buf, bytes, c->fn);
    float *buf = sfri_net_buffer(c->net, bytes, c->fn);
    if (buf == NULL)
        return SFR_ERR_NOMEM;
    sfr_status st = to_flat ? sfri_make_reorder(c->net, reorder, c->id, md, buf, plain, flat, 0, NULL, c->fn)
                            : sfri_make_reorder(c->net, reorder, c->id, plain, flat, md, buf, 0, NULL, c->fn);
    if (st == SFR_OK)
        st = sfri_bind(c->net, s, pd, arg, buf, bytes, c->fn);
    if (st == SFR_OK && shared != NULL && shared->buf == NULL) {
        shared->md = *md;
        shared->buf = buf;
    }
    return st;
}

/*
 * Convolution and inner product: forward, backward weights, and backward
 * data when the input wants a gradient. op_desc fills the three operation
 * descriptors from the layouts given.
 */
struct weighted_op {
    int ndims_w;
    dnnl_dims_t w_dims;
    dnnl_format_tag_t w_tag; /* the flat buffer's layout: PyTorch's */
    const char *name;
    dnnl_status_t (*fwd_desc)(void *d, const struct sfri_op_ctx *c, const dnnl_memory_desc_t *src,
                              const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *b,
                              const dnnl_memory_desc_t *dst);
    dnnl_status_t (*bwd_w_desc)(void *d, const struct sfri_op_ctx *c, const dnnl_memory_desc_t *src,
                                const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *b,
                                const dnnl_memory_desc_t *dst);
    dnnl_status_t (*bwd_d_desc)(void *d, const struct sfri_op_ctx *c, const dnnl_memory_desc_t *src,
                                const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *dst);
};

static sfr_status compile_weighted(struct sfri_op_ctx *c, const struct weighted_op *op,
                                   const dnnl_memory_desc_t *dst_any, int has_bias)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const char *fn = c->fn;
    /* w_any: the weights the forward and backward-data passes read (bf16 in
     * a bf16 layer); dw_any: the weight gradient, always f32. */
    dnnl_memory_desc_t w_plain, w_any, dw_any, b_md;
    const dnnl_dims_t b_dims = {l->c};
    sfr_status st = md_tag(&w_plain, op->ndims_w, op->w_dims, op->w_tag, fn);
    if (st == SFR_OK)
        st = md_any_of(&w_any, op->ndims_w, op->w_dims, c->bf16 ? dnnl_bf16 : dnnl_f32, fn);
    if (st == SFR_OK)
        st = sfri_md_any(&dw_any, op->ndims_w, op->w_dims, fn);
    if (st == SFR_OK)
        st = md_tag(&b_md, 1, b_dims, dnnl_a, fn);
    /* A bf16 layer reads a bf16 copy of its source, made before the first
     * forward that reads it; its weight gradient may read the f32 source. */
    dnnl_memory_desc_t src_md = c->src->md;
    void *src_buf = c->src->out;
    if (st == SFR_OK && c->bf16)
        st = sfri_bf16_source(net, &l->fwd_pre, c->id, c->src, &src_md, &src_buf, fn);
    if (st != SFR_OK)
        return st;
    const size_t src_bytes = dnnl_memory_desc_get_size(&src_md);
    const dnnl_memory_desc_t *dw_src_md = c->bf16_weight_grad ? &src_md : &c->src->md;
    void *dw_src_buf = c->bf16_weight_grad ? src_buf : c->src->out;
    const dnnl_memory_desc_t *bias = has_bias ? &b_md : NULL;
    const size_t b_bytes = has_bias ? (size_t)l->bias_size * sizeof(float) : 0; /* 0: unbound */

    /* Large enough for either descriptor kind. */
    union {
        dnnl_convolution_desc_t conv;
        dnnl_inner_product_desc_t ip;
    } fd, wd, bd;
    dnnl_primitive_desc_t fpd = NULL, wpd = NULL, bpd = NULL;
    dnnl_status_t ds = op->fwd_desc(&fd, c, &src_md, &w_any, bias, dst_any);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, op->name);
    st = sfri_make_pd(net, &fd, NULL, &fpd, op->name, fn);
    const dnnl_memory_desc_t *dst = st == SFR_OK ? sfri_arg_md(fpd, DNNL_ARG_DST) : NULL;
    /* The inner product's (N, O) is the layer's plain (N, O, 1, 1): same bytes. */
    dnnl_memory_desc_t layout;
    if (st == SFR_OK && dst->ndims == 2)
        st = sfri_plain_md(net, l, &layout, fn);
    else if (st == SFR_OK)
        layout = *dst;
    if (st == SFR_OK)
        st = sfri_set_layout(net, l, &layout, fn);
    struct weights_copy fwd_w = {.buf = NULL};
    const struct sfri_arg fwd[] = {{DNNL_ARG_SRC, src_buf, src_bytes},
                                   {DNNL_ARG_BIAS, c->b, b_bytes},
                                   {DNNL_ARG_DST, l->out, l->bytes}};
    if (st == SFR_OK)
        st = sfri_make_bound_step(net, &l->fwd, fpd, c->id, SFRI_PASS_FWD, fwd, SFRI_NARGS(fwd),
                                  fn);
    if (st == SFR_OK)
        st = bind_weights(c, &l->fwd, fpd, DNNL_ARG_WEIGHTS, &w_plain, c->w, 0, &l->w_in, &fwd_w);

    /* ... and a bf16 copy of its output's gradient, made before its backward
     * when backward data or the weight gradient reads it. */
    dnnl_memory_desc_t diff_md;
    void *diff_buf = l->diff;
    if (st == SFR_OK)
        diff_md = *dst;
    if (st == SFR_OK && c->bf16 && (c->back || c->bf16_weight_grad))
        st = sfri_bf16_copy(net, &l->bwd_pre, c->id, dst, l->diff, &diff_md, &diff_buf, fn);
    const size_t diff_bytes = st == SFR_OK ? dnnl_memory_desc_get_size(&diff_md) : 0;
    const dnnl_memory_desc_t *dw_diff_md = c->bf16_weight_grad ? &diff_md : dst;
    void *dw_diff_buf = c->bf16_weight_grad ? diff_buf : l->diff;
    const size_t dw_src_bytes = dnnl_memory_desc_get_size(dw_src_md);
    const size_t dw_diff_bytes = st == SFR_OK ? dnnl_memory_desc_get_size(dw_diff_md) : 0;
    if (st == SFR_OK) {
        ds = op->bwd_w_desc(&wd, c, dw_src_md, &dw_any, bias, dw_diff_md);
        st = ds == dnnl_success ? sfri_make_pd(net, &wd, fpd, &wpd, op->name, fn)
                                : sfri_dnnl_fail(ds, fn, op->name);
    }
    const struct sfri_arg bwd_w[] = {{DNNL_ARG_SRC, dw_src_buf, dw_src_bytes},
                                     {DNNL_ARG_DIFF_DST, dw_diff_buf, dw_diff_bytes},
                                     {DNNL_ARG_DIFF_BIAS, c->db, b_bytes}};
    if (st == SFR_OK)
        st = sfri_make_bound_step(net, &l->bwd_w, wpd, c->id, SFRI_PASS_BWD_WEIGHTS, bwd_w,
                                  SFRI_NARGS(bwd_w), fn);
    if (st == SFR_OK)
        st = bind_weights(c, &l->bwd_w, wpd, DNNL_ARG_DIFF_WEIGHTS, &w_plain, c->dw, 1, &l->dw_out,
                          NULL);

    if (st == SFR_OK && c->back) {
        ds = op->bwd_d_desc(&bd, c, &c->src->md, &w_any, &diff_md);
        st = ds == dnnl_success ? sfri_make_pd(net, &bd, fpd, &bpd, op->name, fn)
                                : sfri_dnnl_fail(ds, fn, op->name);
        const struct sfri_arg bwd[] = {{DNNL_ARG_DIFF_DST, diff_buf, diff_bytes},
                                       {DNNL_ARG_DIFF_SRC, c->diff_src, c->src->bytes}};
        if (st == SFR_OK)
            st = sfri_make_bound_step(net, &l->bwd, bpd, c->id, SFRI_PASS_BWD_DATA, bwd,
                                      SFRI_NARGS(bwd), fn);
        if (st == SFR_OK)
            st = bind_weights(c, &l->bwd, bpd, DNNL_ARG_WEIGHTS, &w_plain, c->w, 0, &l->w_in_bwd,
                              &fwd_w);
    }
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(wpd);
    dnnl_primitive_desc_destroy(bpd);
    return st;
}

/* A convolution's strides, dilations (oneDNN counts from 0, PyTorch from
 * 1) and paddings before and after, per axis. */
struct conv_geometry {
    dnnl_dims_t strides, dilates, pad_l, pad_r;
};

static struct conv_geometry conv_geometry(const struct sfri_layer *l)
{
    struct conv_geometry g = {{l->sh, l->sw}, {l->dil_h - 1, l->dil_w - 1},
                              {l->pad_t, l->pad_l}, {l->pad_b, l->pad_r}};
    return g;
}

static dnnl_status_t conv_fwd(void *d, const struct sfri_op_ctx *c, const dnnl_memory_desc_t *src,
                              const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *b,
                              const dnnl_memory_desc_t *dst)
{
    const struct conv_geometry g = conv_geometry(c->l);
    return dnnl_dilated_convolution_forward_desc_init(d, dnnl_forward_training, c->conv_alg, src,
                                                      w, b, dst, g.strides, g.dilates, g.pad_l,
                                                      g.pad_r);
}

static dnnl_status_t conv_bwd_w(void *d, const struct sfri_op_ctx *c, const dnnl_memory_desc_t *src,
                                const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *b,
                                const dnnl_memory_desc_t *dst)
{
    const struct conv_geometry g = conv_geometry(c->l);
    return dnnl_dilated_convolution_backward_weights_desc_init(d, c->conv_alg, src, w, b, dst,
                                                               g.strides, g.dilates, g.pad_l,
                                                               g.pad_r);
}

static dnnl_status_t conv_bwd_d(void *d, const struct sfri_op_ctx *c, const dnnl_memory_desc_t *src,
                                const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *dst)
{
    const struct conv_geometry g = conv_geometry(c->l);
    return dnnl_dilated_convolution_backward_data_desc_init(d, c->conv_alg, src, w, dst,
                                                            g.strides, g.dilates, g.pad_l,
                                                            g.pad_r);
}

static dnnl_status_t ip_fwd(void *d, const struct sfri_op_ctx *c, const dnnl_memory_desc_t *src,
                            const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *b,
                            const dnnl_memory_desc_t *dst)
{
    (void)c;
    return dnnl_inner_product_forward_desc_init(d, dnnl_forward_training, src, w, b, dst);
}

static dnnl_status_t ip_bwd_w(void *d, const struct sfri_op_ctx *c, const dnnl_memory_desc_t *src,
                              const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *b,
                              const dnnl_memory_desc_t *dst)
{
    (void)c;
    return dnnl_inner_product_backward_weights_desc_init(d, src, w, b, dst);
}

static dnnl_status_t ip_bwd_d(void *d, const struct sfri_op_ctx *c, const dnnl_memory_desc_t *src,
                              const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *dst)
{
    (void)c;
    return dnnl_inner_product_backward_data_desc_init(d, src, w, dst);
}

/* Channels in and out from which a 3x3 stride-1 convolution uses Winograd. */
#define WINOGRAD_MIN_CHANNELS 64

/*
 * Whether oneDNN has its Winograd convolution (F(4x4, 3x3); AVX-512 only in
 * 2.6) for all three passes of this layer: asked with the layer's own
 * descriptors, the primitive descriptors made and dropped.
 */
static int winograd_available(struct sfri_op_ctx *c, const struct weighted_op *op,
                              const dnnl_memory_desc_t *dst_any)
{
    const struct sfri_layer *l = c->l;
    dnnl_memory_desc_t w_any, b_md;
    const dnnl_dims_t b_dims = {l->c};
    if (sfri_md_any(&w_any, op->ndims_w, op->w_dims, c->fn) != SFR_OK ||
        md_tag(&b_md, 1, b_dims, dnnl_a, c->fn) != SFR_OK)
        return 0;
    const dnnl_memory_desc_t *bias = l->bias ? &b_md : NULL;
    c->conv_alg = dnnl_convolution_winograd;
    dnnl_convolution_desc_t fd, wd, bd;
    dnnl_primitive_desc_t fpd = NULL, wpd = NULL, bpd = NULL;
    int ok = conv_fwd(&fd, c, &c->src->md, &w_any, bias, dst_any) == dnnl_success &&
             dnnl_primitive_desc_create(&fpd, &fd, NULL, c->net->engine, NULL) == dnnl_success;
    const dnnl_memory_desc_t *dst = ok ? sfri_arg_md(fpd, DNNL_ARG_DST) : NULL;
    ok = ok && conv_bwd_w(&wd, c, &c->src->md, &w_any, bias, dst) == dnnl_success &&
         dnnl_primitive_desc_create(&wpd, &wd, NULL, c->net->engine, fpd) == dnnl_success;
    ok = ok && (!c->back ||
                (conv_bwd_d(&bd, c, &c->src->md, &w_any, dst) == dnnl_success &&
                 dnnl_primitive_desc_create(&bpd, &bd, NULL, c->net->engine, fpd) == dnnl_success));
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(wpd);
    dnnl_primitive_desc_destroy(bpd);
    c->conv_alg = dnnl_convolution_direct;
    return ok;
}

/*
 * Direct convolution, or Winograd for 3x3 stride-1 layers with at least
 * WINOGRAD_MIN_CHANNELS channels in and out: there it took 0.5 to 0.75 of
 * the direct time per pass on both reference networks (cifar-resnet18's
 * step went from about 330 to 225 ms), while on 16 and 32 channels it was as
 * slow or slower. Its results differ from direct ones by rounding only
 * (relative 1e-6 to 1e-5).
 */
#define BF16_MIN_CHANNELS 16

static sfr_status compile_conv(struct sfri_op_ctx *c)
{
    struct sfri_layer *l = c->l;
    /* Grouped weights are (groups, O / groups, C / groups, kh, kw): in
     * memory, PyTorch's (O, C / groups, kh, kw). */
    const int g = l->groups;
    struct weighted_op op = {4, {l->c, c->src->c, l->kh, l->kw}, dnnl_oihw, "convolution",
                             conv_fwd, conv_bwd_w, conv_bwd_d};
    if (g > 1) {
        const dnnl_dims_t grouped = {g, l->c / g, c->src->c / g, l->kh, l->kw};
        op.ndims_w = 5;
        memcpy(op.w_dims, grouped, sizeof grouped);
        op.w_tag = dnnl_goihw;
    }
    const dnnl_dims_t dst_dims = {c->net->batch, l->c, l->h, l->w};
    dnnl_memory_desc_t dst;
    sfr_status st = sfri_md_any(&dst, 4, dst_dims, c->fn);
    if (st != SFR_OK)
        return st;
    c->conv_alg = dnnl_convolution_direct;
    /* bf16 where oneDNN has fast kernels for it: dense convolutions of at
     * least 16 channels in (not the stem's few, not depthwise ones). */
    c->bf16 = c->net->compiled_precision == SFR_PRECISION_BF16 && g == 1 &&
              c->src->c >= BF16_MIN_CHANNELS;
    /* Its weight gradient where that is faster too (bf16_rule.h). */
    c->bf16_weight_grad = c->bf16 && sfri_bf16_weight_grad(sfri_cpu_has_amx(), c->src->c, c->src->w,
                                                           l->kh, l->kw, l->sh, l->sw);
    l->winograd = !c->bf16 && !l->general && l->kernel == 3 && l->stride == 1 &&
                  l->c >= WINOGRAD_MIN_CHANNELS && c->src->c >= WINOGRAD_MIN_CHANNELS &&
                  winograd_available(c, &op, &dst);
    if (l->winograd)
        c->conv_alg = dnnl_convolution_winograd;
    return compile_weighted(c, &op, &dst, l->bias);
}

/* 4-D weights over a 4-D source: torch.flatten's order, no reshape; the
 * logits are plain (N, O). */
static sfr_status compile_linear(struct sfri_op_ctx *c)
{
    const struct sfri_layer *l = c->l;
    struct weighted_op op = {4, {l->c, c->src->c, c->src->h, c->src->w}, dnnl_oihw, "inner product",
                             ip_fwd, ip_bwd_w, ip_bwd_d};
    const dnnl_dims_t dst_dims = {c->net->batch, l->c};
    dnnl_memory_desc_t dst;
    sfr_status st = md_tag(&dst, 2, dst_dims, dnnl_nc, c->fn);
    return st == SFR_OK ? compile_weighted(c, &op, &dst, 1) : st;
}

sfr_status sfri_compile_layer(sfr_net *net, int id, const char *fn)
{
    struct sfri_layer *l = net->layers[id];
    if (l->kind == SFRI_LAYER_INPUT) {
        dnnl_memory_desc_t plain;
        sfr_status st = sfri_plain_md(net, l, &plain, fn);
        return st == SFR_OK ? sfri_set_layout(net, l, &plain, fn) : st;
    }
    struct sfri_op_ctx c;
    c.net = net;
    c.l = l;
    c.id = id;
    c.src = net->layers[l->in[0]];
    c.back = l->grad_mode[0] != SFRI_GRAD_NONE;
    c.diff_src = l->grad_mode[0] == SFRI_GRAD_WRITE ? c.src->diff : NULL;
    /* Layers without parameters get NULL: net->params is NULL while no layer
     * has any, and NULL + 0 is undefined behaviour. */
    c.w = c.b = c.dw = c.db = NULL;
    if (l->weight_size > 0) {
        c.w = net->params + l->param_off;
        c.b = c.w + l->weight_size;
        c.dw = net->grads + l->param_off;
        c.db = c.dw + l->weight_size;
    }
    c.bf16 = c.bf16_weight_grad = 0;
    c.fn = fn;
    switch (l->kind) {
    case SFRI_LAYER_CONV: return compile_conv(&c);
    case SFRI_LAYER_LINEAR: return compile_linear(&c);
    case SFRI_LAYER_BN: return sfri_compile_bn(&c);
    case SFRI_LAYER_RELU: return sfri_compile_relu(&c);
    case SFRI_LAYER_ADD: return sfri_compile_add(&c);
    case SFRI_LAYER_ACT: return sfri_compile_activation(&c);
    case SFRI_LAYER_MUL: return sfri_compile_mul(&c);
    case SFRI_LAYER_CONCAT: return sfri_compile_concat(&c);
    case SFRI_LAYER_DROPOUT: return sfri_compile_dropout(&c);
    default: return sfri_compile_pool(&c);
    }
}
