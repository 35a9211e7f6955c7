/*
 * Batch normalization's primitives, and the workspace buffer that batch
 * norm and pooling keep for their backward.
 */
#include "compile_impl.h"

sfr_status sfri_layer_workspace(struct sfri_op_ctx *c, const_dnnl_primitive_desc_t pd,
                                size_t *bytes)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_workspace_md, 0);
    *bytes = md == NULL ? 0 : dnnl_memory_desc_get_size(md);
    if (*bytes == 0 || c->l->workspace != NULL)
        return SFR_OK;
    c->l->workspace = sfri_net_buffer(c->net, *bytes, c->fn);
    return c->l->workspace == NULL ? SFR_ERR_NOMEM : SFR_OK;
}

/* Batch norm: training forward (batch statistics out), eval forward
 * (running statistics in) and backward, which always runs because it
 * also gives the gamma and beta gradients (the gradient w.r.t. the input
 * then goes to the accumulation buffer when nobody wants it). With a fused
 * ReLU, the forward writes relu(bn(x)) and keeps the ReLU's mask in the
 * workspace for backward. */
sfr_status sfri_compile_bn(struct sfri_op_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const char *fn = c->fn;
    unsigned flags = dnnl_use_scale | dnnl_use_shift | (l->fuse_relu ? dnnl_fuse_norm_relu : 0u);
    size_t ch = (size_t)l->c * sizeof(float);
    float *run_mean = net->state + l->state_off, *run_var = run_mean + l->c;
    const dnnl_memory_desc_t *md = &c->src->md;
    sfr_status st = sfri_set_layout(net, l, md, fn);
    if (st != SFR_OK)
        return st;
    l->mean = sfri_net_buffer(net, 2 * ch, fn);
    if (l->mean == NULL)
        return SFR_ERR_NOMEM;
    l->var = l->mean + l->c;
    dnnl_batch_normalization_desc_t fd, ed, bd;
    dnnl_primitive_desc_t fpd = NULL, epd = NULL;
    dnnl_status_t ds =
        dnnl_batch_normalization_forward_desc_init(&fd, dnnl_forward_training, md, SFRI_BN_EPS, flags);
    if (ds == dnnl_success)
        ds = dnnl_batch_normalization_forward_desc_init(&ed, dnnl_forward_inference, md, SFRI_BN_EPS,
                                                        flags | dnnl_use_global_stats);
    if (ds == dnnl_success)
        ds = dnnl_batch_normalization_backward_desc_init(&bd, dnnl_backward, md, md, SFRI_BN_EPS, flags);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "batch normalization descriptor");

    size_t ws = 0;
    st = sfri_make_pd(net, &fd, NULL, &fpd, "batch normalization forward", fn);
    if (st == SFR_OK)
        st = sfri_layer_workspace(c, fpd, &ws);
    const struct sfri_arg fwd[] = {
        {DNNL_ARG_SRC, c->src->out, c->src->bytes}, {DNNL_ARG_DST, l->out, l->bytes},
        {DNNL_ARG_MEAN, l->mean, ch}, {DNNL_ARG_VARIANCE, l->var, ch},
        {DNNL_ARG_SCALE, c->w, ch}, {DNNL_ARG_SHIFT, c->b, ch},
        {DNNL_ARG_WORKSPACE, l->workspace, ws}};
    if (st == SFR_OK)
        st = sfri_make_bound_step(net, &l->fwd, fpd, c->id, SFRI_PASS_FWD, fwd, SFRI_NARGS(fwd),
                                  fn);

    const struct sfri_arg eval[] = {
        {DNNL_ARG_SRC, c->src->out, c->src->bytes}, {DNNL_ARG_DST, l->out, l->bytes},
        {DNNL_ARG_MEAN, run_mean, ch}, {DNNL_ARG_VARIANCE, run_var, ch},
        {DNNL_ARG_SCALE, c->w, ch}, {DNNL_ARG_SHIFT, c->b, ch}};
    if (st == SFR_OK)
        st = sfri_make_pd(net, &ed, NULL, &epd, "batch normalization inference", fn);
    if (st == SFR_OK)
        st = sfri_make_bound_step(net, &l->fwd_eval, epd, c->id, SFRI_PASS_FWD, eval,
                                  SFRI_NARGS(eval), fn);

    const struct sfri_arg bwd[] = {
        {DNNL_ARG_SRC, c->src->out, c->src->bytes}, {DNNL_ARG_MEAN, l->mean, ch},
        {DNNL_ARG_VARIANCE, l->var, ch}, {DNNL_ARG_DIFF_DST, l->diff, l->bytes},
        {DNNL_ARG_SCALE, c->w, ch}, {DNNL_ARG_SHIFT, c->b, ch},
        {DNNL_ARG_DIFF_SRC, c->back ? c->diff_src : NULL, c->src->bytes},
        {DNNL_ARG_DIFF_SCALE, c->dw, ch}, {DNNL_ARG_DIFF_SHIFT, c->db, ch},
        {DNNL_ARG_WORKSPACE, l->workspace, ws}};
    if (st == SFR_OK)
        st = sfri_make_backward_step(net, &l->bwd, &bd, fpd, c->id, bwd, SFRI_NARGS(bwd),
                                     "batch normalization backward", fn);
    dnnl_primitive_desc_destroy(fpd);
    dnnl_primitive_desc_destroy(epd);
    return st;
}
