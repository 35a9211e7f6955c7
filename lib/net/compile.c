/*
 * sfr_net_compile: every buffer, memory object and oneDNN primitive the
 * steps use, created once for one batch size, so that forward and backward
 * allocate nothing.
 *
 * Layouts: activations are plain NCHW (what taps show), weights plain OIHW
 * inside the flat parameter buffer. Each memory object is created from the
 * primitive descriptor's own view of its argument (dnnl_query_exec_arg_md)
 * and its size is checked against our buffer, so a layout that is not the
 * plain one we own is caught here instead of corrupting memory. Moving the
 * hot activations to blocked layouts means creating the conv/BN/pool
 * descriptors with dnnl_format_tag_any and adding reorder steps at the
 * input, the tapped outputs and the logits.
 */
#include <string.h>

#include "../tap/tap.h"
#include "net_impl.h"

#define ALIGN 64
/* Largest activation tensor, in elements, a compile accepts. */
#define MAX_TENSOR ((int64_t)1 << 40)

static void destroy_step(struct sfri_step *s)
{
    if (s->prim != NULL)
        dnnl_primitive_destroy(s->prim);
    memset(s, 0, sizeof *s);
}

void sfri_net_release_compiled(sfr_net *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        struct sfri_layer *l = net->layers[i];
        destroy_step(&l->fwd);
        destroy_step(&l->fwd_eval);
        destroy_step(&l->bwd);
        destroy_step(&l->bwd_w);
        sfri_free(l->out);
        sfri_free(l->diff);
        sfri_free(l->mean);
        sfri_free(l->var);
        sfri_free(l->workspace);
        l->out = l->diff = l->mean = l->var = NULL;
        l->workspace = NULL;
        l->consumers = 0;
        l->grad_mode[0] = l->grad_mode[1] = SFRI_GRAD_NONE;
        if (l->tap != NULL) {
            sfri_free(l->tap->grad);
            l->tap->grad = NULL;
            l->tap->data = NULL;
            memset(l->tap->dims, 0, sizeof l->tap->dims);
        }
    }
    for (int i = 0; i < net->n_mems; i++)
        dnnl_memory_destroy(net->mems[i]);
    sfri_free(net->mems);
    net->mems = NULL;
    net->n_mems = net->cap_mems = 0;
    sfri_free(net->accum);
    sfri_free(net->scratch);
    net->accum = NULL;
    net->scratch = NULL;
    net->scratch_size = 0;
    net->batch = 0;
    net->phase = SFRI_PHASE_BUILDING;
}

/* A zeroed float buffer of n elements, aligned for the vector units. */
static float *new_floats(int64_t n)
{
    size_t bytes = sfri_mul_size((size_t)n, sizeof(float));
    float *p = sfri_aligned_alloc(ALIGN, bytes);
    if (p != NULL)
        memset(p, 0, bytes);
    return p;
}

sfr_status sfri_net_bind_tap(sfr_net *net, sfr_tap *tap, const char *func)
{
    const struct sfri_layer *l = net->layers[tap->layer];
    float *grad = new_floats(sfri_layer_numel(net, l));
    if (grad == NULL)
        return sfri_fail(SFR_ERR_NOMEM, func, "out of memory for the tap of layer %d", tap->layer);
    tap->dims[0] = net->batch;
    tap->dims[1] = l->c;
    tap->dims[2] = l->h;
    tap->dims[3] = l->w;
    tap->data = l->out;
    tap->grad = grad;
    return SFR_OK;
}

static sfr_status keep_mem(sfr_net *net, dnnl_memory_t m, const char *fn)
{
    if (net->n_mems == net->cap_mems) {
        int cap = net->cap_mems ? 2 * net->cap_mems : 64;
        dnnl_memory_t *mems = sfri_malloc(sfri_mul_size((size_t)cap, sizeof *mems));
        if (mems == NULL) {
            dnnl_memory_destroy(m);
            return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
        }
        if (net->n_mems > 0)
            memcpy(mems, net->mems, (size_t)net->n_mems * sizeof *mems);
        sfri_free(net->mems);
        net->mems = mems;
        net->cap_mems = cap;
    }
    net->mems[net->n_mems++] = m;
    return SFR_OK;
}

/* Adds argument arg of step s over ptr, whose size must be bytes. */
static sfr_status bind(sfr_net *net, struct sfri_step *s, const_dnnl_primitive_desc_t pd, int arg,
                       void *ptr, size_t bytes, const char *fn)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    if (md == NULL || dnnl_memory_desc_get_size(md) != bytes)
        return sfri_fail(SFR_ERR_BACKEND, fn,
                         "oneDNN chose an unexpected layout for argument %d (%zu bytes, expected %zu)",
                         arg, md == NULL ? (size_t)0 : dnnl_memory_desc_get_size(md), bytes);
    dnnl_memory_t m;
    dnnl_status_t st = dnnl_memory_create(&m, md, net->engine, ptr);
    if (st != dnnl_success)
        return sfri_dnnl_fail(st, fn, "memory creation");
    sfr_status ss = keep_mem(net, m, fn);
    if (ss != SFR_OK)
        return ss;
    s->args[s->nargs].arg = arg;
    s->args[s->nargs].memory = m;
    s->nargs++;
    return SFR_OK;
}

/* A primitive descriptor for op with a user-managed scratchpad. */
static sfr_status make_pd(sfr_net *net, const void *op, const_dnnl_primitive_desc_t hint,
                          dnnl_primitive_desc_t *pd, const char *what, const char *fn)
{
    dnnl_primitive_attr_t attr;
    dnnl_status_t st = dnnl_primitive_attr_create(&attr);
    if (st != dnnl_success)
        return sfri_dnnl_fail(st, fn, "attribute creation");
    st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (st == dnnl_success)
        st = dnnl_primitive_desc_create(pd, op, attr, net->engine, hint);
    dnnl_primitive_attr_destroy(attr);
    return st == dnnl_success ? SFR_OK : sfri_dnnl_fail(st, fn, what);
}

/* Creates step s's primitive from pd; its scratchpad memory gets a buffer
 * once every step is made and the largest scratchpad is known. */
static sfr_status make_step(sfr_net *net, struct sfri_step *s, const_dnnl_primitive_desc_t pd,
                            const char *fn)
{
    dnnl_status_t st = dnnl_primitive_create(&s->prim, pd);
    if (st != dnnl_success) {
        s->prim = NULL;
        return sfri_dnnl_fail(st, fn, "primitive creation");
    }
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t size = md == NULL ? 0 : dnnl_memory_desc_get_size(md);
    if (size == 0)
        return SFR_OK;
    if (size > net->scratch_size)
        net->scratch_size = size;
    dnnl_memory_t m;
    st = dnnl_memory_create(&m, md, net->engine, DNNL_MEMORY_NONE);
    if (st != dnnl_success)
        return sfri_dnnl_fail(st, fn, "scratchpad memory creation");
    sfr_status ss = keep_mem(net, m, fn);
    if (ss != SFR_OK)
        return ss;
    s->args[s->nargs].arg = DNNL_ARG_SCRATCHPAD;
    s->args[s->nargs].memory = m;
    s->nargs++;
    return SFR_OK;
}

static sfr_status md_init(dnnl_memory_desc_t *md, int ndims, const dnnl_dims_t dims,
                          dnnl_format_tag_t tag, const char *fn)
{
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(md, ndims, dims, dnnl_f32, tag);
    return st == dnnl_success ? SFR_OK : sfri_dnnl_fail(st, fn, "memory descriptor");
}

/* (N, C, H, W) of a layer's output, plain. */
static sfr_status act_md(const sfr_net *net, const struct sfri_layer *l, dnnl_memory_desc_t *md,
                         const char *fn)
{
    const dnnl_dims_t dims = {net->batch, l->c, l->h, l->w};
    return md_init(md, 4, dims, dnnl_nchw, fn);
}

/* Everything one primitive-backed layer needs while its steps are created. */
struct layer_ctx {
    sfr_net *net;
    struct sfri_layer *l;
    struct sfri_layer *src;  /* its input */
    size_t out_bytes, src_bytes;
    float *diff_src;         /* where backward writes the gradient w.r.t. src, or NULL */
    float *w, *b, *dw, *db;  /* parameter and gradient slices */
    const char *fn;
};

static sfr_status compile_conv(struct layer_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const char *fn = c->fn;
    dnnl_memory_desc_t src_md, dst_md, w_md, b_md;
    const dnnl_dims_t w_dims = {l->c, c->src->c, l->kernel, l->kernel};
    const dnnl_dims_t b_dims = {l->c};
    const dnnl_dims_t strides = {l->stride, l->stride};
    const dnnl_dims_t pads = {l->pad, l->pad};
    size_t w_bytes = (size_t)l->weight_size * sizeof(float);
    size_t b_bytes = (size_t)l->bias_size * sizeof(float);
    sfr_status st = act_md(net, c->src, &src_md, fn);
    if (st == SFR_OK)
        st = act_md(net, l, &dst_md, fn);
    if (st == SFR_OK)
        st = md_init(&w_md, 4, w_dims, dnnl_oihw, fn);
    if (st == SFR_OK)
        st = md_init(&b_md, 1, b_dims, dnnl_a, fn);
    if (st != SFR_OK)
        return st;
    const dnnl_memory_desc_t *bias_md = l->bias ? &b_md : NULL;

    dnnl_convolution_desc_t fd, bd, wd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL, wpd = NULL;
    dnnl_status_t ds = dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training,
                                                          dnnl_convolution_direct, &src_md, &w_md,
                                                          bias_md, &dst_md, strides, pads, pads);
    if (ds == dnnl_success)
        ds = dnnl_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, &src_md,
                                                         &w_md, bias_md, &dst_md, strides, pads,
                                                         pads);
    if (ds == dnnl_success && c->diff_src != NULL)
        ds = dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &src_md, &w_md,
                                                      &dst_md, strides, pads, pads);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "convolution descriptor");

    st = make_pd(net, &fd, NULL, &fpd, "convolution forward", fn);
    if (st == SFR_OK)
        st = make_step(net, &l->fwd, fpd, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_SRC, c->src->out, c->src_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_WEIGHTS, c->w, w_bytes, fn);
    if (st == SFR_OK && l->bias)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_BIAS, c->b, b_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_DST, l->out, c->out_bytes, fn);

    if (st == SFR_OK)
        st = make_pd(net, &wd, fpd, &wpd, "convolution backward weights", fn);
    if (st == SFR_OK)
        st = make_step(net, &l->bwd_w, wpd, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd_w, wpd, DNNL_ARG_SRC, c->src->out, c->src_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd_w, wpd, DNNL_ARG_DIFF_DST, l->diff, c->out_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd_w, wpd, DNNL_ARG_DIFF_WEIGHTS, c->dw, w_bytes, fn);
    if (st == SFR_OK && l->bias)
        st = bind(net, &l->bwd_w, wpd, DNNL_ARG_DIFF_BIAS, c->db, b_bytes, fn);

    if (st == SFR_OK && c->diff_src != NULL) {
        st = make_pd(net, &bd, fpd, &bpd, "convolution backward data", fn);
        if (st == SFR_OK)
            st = make_step(net, &l->bwd, bpd, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_DST, l->diff, c->out_bytes, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_WEIGHTS, c->w, w_bytes, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_SRC, c->diff_src, c->src_bytes, fn);
    }
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(wpd);
    dnnl_primitive_desc_destroy(bpd);
    return st;
}

static sfr_status compile_linear(struct layer_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const char *fn = c->fn;
    dnnl_memory_desc_t src_md, dst_md, w_md, b_md;
    /* 4-D weights over a 4-D source: torch.flatten's order, no reshape. */
    const dnnl_dims_t w_dims = {l->c, c->src->c, c->src->h, c->src->w};
    const dnnl_dims_t b_dims = {l->c};
    const dnnl_dims_t dst_dims = {net->batch, l->c};
    size_t w_bytes = (size_t)l->weight_size * sizeof(float);
    size_t b_bytes = (size_t)l->bias_size * sizeof(float);
    sfr_status st = act_md(net, c->src, &src_md, fn);
    if (st == SFR_OK)
        st = md_init(&dst_md, 2, dst_dims, dnnl_nc, fn);
    if (st == SFR_OK)
        st = md_init(&w_md, 4, w_dims, dnnl_oihw, fn);
    if (st == SFR_OK)
        st = md_init(&b_md, 1, b_dims, dnnl_a, fn);
    if (st != SFR_OK)
        return st;

    dnnl_inner_product_desc_t fd, bd, wd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL, wpd = NULL;
    dnnl_status_t ds = dnnl_inner_product_forward_desc_init(&fd, dnnl_forward_training, &src_md,
                                                            &w_md, &b_md, &dst_md);
    if (ds == dnnl_success)
        ds = dnnl_inner_product_backward_weights_desc_init(&wd, &src_md, &w_md, &b_md, &dst_md);
    if (ds == dnnl_success && c->diff_src != NULL)
        ds = dnnl_inner_product_backward_data_desc_init(&bd, &src_md, &w_md, &dst_md);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "inner product descriptor");

    st = make_pd(net, &fd, NULL, &fpd, "inner product forward", fn);
    if (st == SFR_OK)
        st = make_step(net, &l->fwd, fpd, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_SRC, c->src->out, c->src_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_WEIGHTS, c->w, w_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_BIAS, c->b, b_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_DST, l->out, c->out_bytes, fn);

    if (st == SFR_OK)
        st = make_pd(net, &wd, fpd, &wpd, "inner product backward weights", fn);
    if (st == SFR_OK)
        st = make_step(net, &l->bwd_w, wpd, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd_w, wpd, DNNL_ARG_SRC, c->src->out, c->src_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd_w, wpd, DNNL_ARG_DIFF_DST, l->diff, c->out_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd_w, wpd, DNNL_ARG_DIFF_WEIGHTS, c->dw, w_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd_w, wpd, DNNL_ARG_DIFF_BIAS, c->db, b_bytes, fn);

    if (st == SFR_OK && c->diff_src != NULL) {
        st = make_pd(net, &bd, fpd, &bpd, "inner product backward data", fn);
        if (st == SFR_OK)
            st = make_step(net, &l->bwd, bpd, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_DST, l->diff, c->out_bytes, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_WEIGHTS, c->w, w_bytes, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_SRC, c->diff_src, c->src_bytes, fn);
    }
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(wpd);
    dnnl_primitive_desc_destroy(bpd);
    return st;
}

/* Batch norm: training forward (batch statistics out), eval forward
 * (running statistics in) and backward, which always runs because it
 * also gives the gamma and beta gradients. */
static sfr_status compile_bn(struct layer_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const char *fn = c->fn;
    const unsigned affine = dnnl_use_scale | dnnl_use_shift;
    size_t ch_bytes = (size_t)l->c * sizeof(float);
    float *run_mean = net->state + l->state_off, *run_var = run_mean + l->c;
    float *diff_src = c->diff_src != NULL ? c->diff_src : net->accum;
    dnnl_memory_desc_t md;
    sfr_status st = act_md(net, l, &md, fn);
    if (st != SFR_OK)
        return st;
    dnnl_batch_normalization_desc_t fd, ed, bd;
    dnnl_primitive_desc_t fpd = NULL, epd = NULL, bpd = NULL;
    dnnl_status_t ds =
        dnnl_batch_normalization_forward_desc_init(&fd, dnnl_forward_training, &md, SFRI_BN_EPS, affine);
    if (ds == dnnl_success)
        ds = dnnl_batch_normalization_forward_desc_init(&ed, dnnl_forward_inference, &md, SFRI_BN_EPS,
                                                        affine | dnnl_use_global_stats);
    if (ds == dnnl_success)
        ds = dnnl_batch_normalization_backward_desc_init(&bd, dnnl_backward, &md, &md, SFRI_BN_EPS,
                                                         affine);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "batch normalization descriptor");

    st = make_pd(net, &fd, NULL, &fpd, "batch normalization forward", fn);
    if (st == SFR_OK)
        st = make_step(net, &l->fwd, fpd, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_SRC, c->src->out, c->src_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_DST, l->out, c->out_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_MEAN, l->mean, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_VARIANCE, l->var, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_SCALE, c->w, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_SHIFT, c->b, ch_bytes, fn);

    if (st == SFR_OK)
        st = make_pd(net, &ed, NULL, &epd, "batch normalization inference", fn);
    if (st == SFR_OK)
        st = make_step(net, &l->fwd_eval, epd, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd_eval, epd, DNNL_ARG_SRC, c->src->out, c->src_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd_eval, epd, DNNL_ARG_DST, l->out, c->out_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd_eval, epd, DNNL_ARG_MEAN, run_mean, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd_eval, epd, DNNL_ARG_VARIANCE, run_var, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd_eval, epd, DNNL_ARG_SCALE, c->w, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd_eval, epd, DNNL_ARG_SHIFT, c->b, ch_bytes, fn);

    if (st == SFR_OK)
        st = make_pd(net, &bd, fpd, &bpd, "batch normalization backward", fn);
    if (st == SFR_OK)
        st = make_step(net, &l->bwd, bpd, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd, bpd, DNNL_ARG_SRC, c->src->out, c->src_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd, bpd, DNNL_ARG_MEAN, l->mean, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd, bpd, DNNL_ARG_VARIANCE, l->var, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_DST, l->diff, c->out_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd, bpd, DNNL_ARG_SCALE, c->w, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd, bpd, DNNL_ARG_SHIFT, c->b, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_SRC, diff_src, c->src_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_SCALE, c->dw, ch_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_SHIFT, c->db, ch_bytes, fn);
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(epd);
    dnnl_primitive_desc_destroy(bpd);
    return st;
}

static sfr_status compile_relu(struct layer_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const char *fn = c->fn;
    dnnl_memory_desc_t md;
    sfr_status st = act_md(net, l, &md, fn);
    if (st != SFR_OK)
        return st;
    dnnl_eltwise_desc_t fd, bd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    /* Backward from the output: relu'(x) = [y > 0]. */
    dnnl_status_t ds = dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training,
                                                      dnnl_eltwise_relu_use_dst_for_bwd, &md, 0.f, 0.f);
    if (ds == dnnl_success && c->diff_src != NULL)
        ds = dnnl_eltwise_backward_desc_init(&bd, dnnl_eltwise_relu_use_dst_for_bwd, &md, &md, 0.f, 0.f);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "eltwise descriptor");
    st = make_pd(net, &fd, NULL, &fpd, "relu forward", fn);
    if (st == SFR_OK)
        st = make_step(net, &l->fwd, fpd, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_SRC, c->src->out, c->src_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_DST, l->out, c->out_bytes, fn);
    if (st == SFR_OK && c->diff_src != NULL) {
        st = make_pd(net, &bd, fpd, &bpd, "relu backward", fn);
        if (st == SFR_OK)
            st = make_step(net, &l->bwd, bpd, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_DST, l->out, c->out_bytes, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_DST, l->diff, c->out_bytes, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_SRC, c->diff_src, c->src_bytes, fn);
    }
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bpd);
    return st;
}

/* Max, average (padding counted) and global average pooling. */
static sfr_status compile_pool(struct layer_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const char *fn = c->fn;
    int global = l->kind == SFRI_LAYER_GAP;
    dnnl_alg_kind_t alg =
        l->kind == SFRI_LAYER_MAXPOOL ? dnnl_pooling_max : dnnl_pooling_avg_include_padding;
    const dnnl_dims_t kernel = {global ? c->src->h : l->kernel, global ? c->src->w : l->kernel};
    const dnnl_dims_t strides = {global ? 1 : l->stride, global ? 1 : l->stride};
    const dnnl_dims_t pads = {l->pad, l->pad};
    const dnnl_dims_t dilation = {0, 0};
    dnnl_memory_desc_t src_md, dst_md;
    sfr_status st = act_md(net, c->src, &src_md, fn);
    if (st == SFR_OK)
        st = act_md(net, l, &dst_md, fn);
    if (st != SFR_OK)
        return st;
    dnnl_pooling_v2_desc_t fd, bd;
    dnnl_primitive_desc_t fpd = NULL, bpd = NULL;
    dnnl_status_t ds = dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, alg, &src_md,
                                                         &dst_md, strides, kernel, dilation, pads, pads);
    if (ds == dnnl_success && c->diff_src != NULL)
        ds = dnnl_pooling_v2_backward_desc_init(&bd, alg, &src_md, &dst_md, strides, kernel, dilation,
                                                pads, pads);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "pooling descriptor");
    st = make_pd(net, &fd, NULL, &fpd, "pooling forward", fn);
    /* Max pooling keeps where each maximum was, for backward. */
    size_t ws_bytes = 0;
    if (st == SFR_OK && l->kind == SFRI_LAYER_MAXPOOL) {
        const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(fpd, dnnl_query_workspace_md, 0);
        ws_bytes = ws == NULL ? 0 : dnnl_memory_desc_get_size(ws);
        if (ws_bytes > 0) {
            l->workspace = sfri_aligned_alloc(ALIGN, ws_bytes);
            if (l->workspace == NULL)
                st = sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
        }
    }
    if (st == SFR_OK)
        st = make_step(net, &l->fwd, fpd, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_SRC, c->src->out, c->src_bytes, fn);
    if (st == SFR_OK)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_DST, l->out, c->out_bytes, fn);
    if (st == SFR_OK && ws_bytes > 0)
        st = bind(net, &l->fwd, fpd, DNNL_ARG_WORKSPACE, l->workspace, ws_bytes, fn);
    if (st == SFR_OK && c->diff_src != NULL) {
        st = make_pd(net, &bd, fpd, &bpd, "pooling backward", fn);
        if (st == SFR_OK)
            st = make_step(net, &l->bwd, bpd, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_DST, l->diff, c->out_bytes, fn);
        if (st == SFR_OK)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_DIFF_SRC, c->diff_src, c->src_bytes, fn);
        if (st == SFR_OK && ws_bytes > 0)
            st = bind(net, &l->bwd, bpd, DNNL_ARG_WORKSPACE, l->workspace, ws_bytes, fn);
    }
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(bpd);
    return st;
}

static sfr_status compile_layer(sfr_net *net, struct sfri_layer *l, const char *fn)
{
    if (l->kind == SFRI_LAYER_INPUT || l->kind == SFRI_LAYER_ADD)
        return SFR_OK; /* no primitive: a copy and our own sum */
    struct layer_ctx c;
    c.net = net;
    c.l = l;
    c.src = net->layers[l->in[0]];
    c.out_bytes = (size_t)sfri_layer_numel(net, l) * sizeof(float);
    c.src_bytes = (size_t)sfri_layer_numel(net, c.src) * sizeof(float);
    c.diff_src = l->grad_mode[0] == SFRI_GRAD_WRITE ? c.src->diff
               : l->grad_mode[0] == SFRI_GRAD_ADD   ? net->accum
                                                    : NULL;
    /* Layers without parameters get NULL: net->params is NULL while no layer
     * has any, and NULL + 0 is undefined behaviour. */
    c.w = c.b = c.dw = c.db = NULL;
    if (l->weight_size > 0) {
        c.w = net->params + l->param_off;
        c.b = c.w + l->weight_size;
        c.dw = net->grads + l->param_off;
        c.db = c.dw + l->weight_size;
    }
    c.fn = fn;
    switch (l->kind) {
    case SFRI_LAYER_CONV: return compile_conv(&c);
    case SFRI_LAYER_LINEAR: return compile_linear(&c);
    case SFRI_LAYER_BN: return compile_bn(&c);
    case SFRI_LAYER_RELU: return compile_relu(&c);
    default: return compile_pool(&c);
    }
}

/*
 * Decides, for every input of every layer, whether backward writes or adds
 * its gradient: backward visits layers from the last to the first, so the
 * highest-numbered consumer of a layer is the first to reach it and writes.
 */
static void plan_gradients(sfr_net *net)
{
    for (int i = net->n_layers - 1; i >= 0; i--) {
        struct sfri_layer *l = net->layers[i];
        for (int s = 0; s < 2; s++) {
            if (l->in[s] < 0)
                continue;
            struct sfri_layer *src = net->layers[l->in[s]];
            if (src->kind == SFRI_LAYER_INPUT)
                l->grad_mode[s] = SFRI_GRAD_NONE;
            else
                l->grad_mode[s] = src->consumers == 0 ? SFRI_GRAD_WRITE : SFRI_GRAD_ADD;
            src->consumers++;
        }
    }
}

static sfr_status allocate_buffers(sfr_net *net, const char *fn)
{
    int64_t largest = 0;
    for (int i = 0; i < net->n_layers; i++) {
        struct sfri_layer *l = net->layers[i];
        int64_t n = sfri_layer_numel(net, l);
        if (n > largest)
            largest = n;
        l->out = new_floats(n);
        if (l->out == NULL)
            return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for layer %d", i);
        if (l->kind != SFRI_LAYER_INPUT && (l->diff = new_floats(n)) == NULL)
            return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for layer %d", i);
        if (l->kind == SFRI_LAYER_BN &&
            ((l->mean = new_floats(l->c)) == NULL || (l->var = new_floats(l->c)) == NULL))
            return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for layer %d", i);
    }
    net->accum = new_floats(largest);
    if (net->accum == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    return SFR_OK;
}

/* Gives every scratchpad memory the shared buffer: steps run one at a time. */
static sfr_status bind_scratchpad(sfr_net *net, const char *fn)
{
    if (net->scratch_size == 0)
        return SFR_OK;
    net->scratch = sfri_aligned_alloc(ALIGN, net->scratch_size);
    if (net->scratch == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory for a %zu-byte scratchpad",
                         net->scratch_size);
    for (int i = 0; i < net->n_layers; i++) {
        struct sfri_step *steps[] = {&net->layers[i]->fwd, &net->layers[i]->fwd_eval,
                                     &net->layers[i]->bwd, &net->layers[i]->bwd_w};
        for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
            for (int a = 0; a < steps[k]->nargs; a++) {
                if (steps[k]->args[a].arg != DNNL_ARG_SCRATCHPAD)
                    continue;
                dnnl_status_t st = dnnl_memory_set_data_handle(steps[k]->args[a].memory, net->scratch);
                if (st != dnnl_success)
                    return sfri_dnnl_fail(st, fn, "scratchpad binding");
            }
        }
    }
    return SFR_OK;
}

SFR_API sfr_status sfr_net_compile(sfr_net *net, int64_t batch)
{
    static const char *const fn = "sfr_net_compile";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (batch < 1)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "batch %lld must be >= 1", (long long)batch);
    if (net->n_layers == 0)
        return sfri_fail(SFR_ERR_STATE, fn, "the net has no layers");
    for (int i = 0; i < net->n_layers; i++) {
        const struct sfri_layer *l = net->layers[i];
        if (batch > MAX_TENSOR / ((int64_t)l->c * l->h * l->w))
            return sfri_fail(SFR_ERR_INVALID_ARG, fn, "batch %lld is too large for layer %d",
                             (long long)batch, i);
    }

    sfri_net_release_compiled(net);
    net->batch = batch;
    plan_gradients(net);
    st = allocate_buffers(net, fn);
    for (int i = 0; st == SFR_OK && i < net->n_layers; i++)
        st = compile_layer(net, net->layers[i], fn);
    if (st == SFR_OK)
        st = bind_scratchpad(net, fn);
    for (int i = 0; st == SFR_OK && i < net->n_layers; i++) {
        if (net->layers[i]->tap != NULL)
            st = sfri_net_bind_tap(net, net->layers[i]->tap, fn);
    }
    if (st != SFR_OK) {
        sfri_net_release_compiled(net);
        return st;
    }
    if (net->n_params > 0)
        memset(net->grads, 0, (size_t)net->n_params * sizeof *net->grads);
    net->phase = SFRI_PHASE_COMPILED;
    return SFR_OK;
}
