/* The pooling layers' primitives. */
#include "compile_impl.h"

/* Max, average (padding counted) and global average pooling. */
sfr_status sfri_compile_pool(struct sfri_op_ctx *c)
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
    const dnnl_dims_t dst_dims = {net->batch, l->c, l->h, l->w};
    dnnl_memory_desc_t dst_any;
    sfr_status st = sfri_md_any(&dst_any, 4, dst_dims, fn);
    if (st != SFR_OK)
        return st;
    dnnl_pooling_v2_desc_t fd, bd;
    dnnl_primitive_desc_t fpd = NULL;
    dnnl_status_t ds = dnnl_pooling_v2_forward_desc_init(&fd, dnnl_forward_training, alg, &c->src->md,
                                                         &dst_any, strides, kernel, dilation, pads, pads);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "pooling descriptor");
    size_t ws = 0;
    st = sfri_make_pd(net, &fd, NULL, &fpd, "pooling forward", fn);
    if (st == SFR_OK)
        st = sfri_set_layout(net, l, sfri_arg_md(fpd, DNNL_ARG_DST), fn);
    if (st == SFR_OK)
        st = sfri_layer_workspace(c, fpd, &ws);
    const struct sfri_arg fwd[] = {{DNNL_ARG_SRC, c->src->out, c->src->bytes},
                                   {DNNL_ARG_DST, l->out, l->bytes},
                                   {DNNL_ARG_WORKSPACE, l->workspace, ws}};
    if (st == SFR_OK)
        st = sfri_make_bound_step(net, &l->fwd, fpd, c->id, SFRI_PASS_FWD, fwd, SFRI_NARGS(fwd),
                                  fn);
    if (st == SFR_OK && c->back) {
        const struct sfri_arg bwd[] = {{DNNL_ARG_DIFF_DST, l->diff, l->bytes},
                                       {DNNL_ARG_DIFF_SRC, c->diff_src, c->src->bytes},
                                       {DNNL_ARG_WORKSPACE, l->workspace, ws}};
        ds = dnnl_pooling_v2_backward_desc_init(&bd, alg, &c->src->md, &l->md, strides, kernel,
                                                dilation, pads, pads);
        st = ds == dnnl_success ? sfri_make_backward_step(net, &l->bwd, &bd, fpd, c->id, bwd,
                                                          SFRI_NARGS(bwd), "pooling backward", fn)
                                : sfri_dnnl_fail(ds, fn, "pooling descriptor");
    }
    dnnl_primitive_desc_destroy(fpd);
    return st;
}
