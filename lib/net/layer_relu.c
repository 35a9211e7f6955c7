/* The ReLU layer's primitives. */
#include "compile_impl.h"

/* ReLU, in place on its input when it may be; nothing at all when the
 * batch norm before it computes it, only the backward when the residual
 * add before it does. Backward uses the output: relu'(x) = [y > 0]. */
sfr_status sfri_compile_relu(struct sfri_op_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const char *fn = c->fn;
    const dnnl_memory_desc_t *md = &c->src->md;
    sfr_status st = sfri_set_layout(net, l, md, fn);
    if (st != SFR_OK || (c->src->fuse_relu && c->src->kind == SFRI_LAYER_BN))
        return st;
    int fused = c->src->fuse_relu; /* the add computed it */
    dnnl_eltwise_desc_t fd, bd;
    dnnl_primitive_desc_t fpd = NULL;
    dnnl_status_t ds = dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training,
                                                      dnnl_eltwise_relu_use_dst_for_bwd, md, 0.f, 0.f);
    if (ds == dnnl_success && c->back)
        ds = dnnl_eltwise_backward_desc_init(&bd, dnnl_eltwise_relu_use_dst_for_bwd, md, md, 0.f, 0.f);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "eltwise descriptor");
    st = sfri_make_pd(net, &fd, NULL, &fpd, "relu forward", fn);
    const struct sfri_arg fwd[] = {{DNNL_ARG_SRC, c->src->out, c->src->bytes},
                                   {DNNL_ARG_DST, l->out, l->bytes}};
    if (st == SFR_OK && !fused)
        st = sfri_make_bound_step(net, &l->fwd, fpd, c->id, SFRI_PASS_FWD, fwd, SFRI_NARGS(fwd),
                                  fn);
    if (st == SFR_OK && c->back) {
        const struct sfri_arg bwd[] = {{DNNL_ARG_DST, l->out, l->bytes},
                                       {DNNL_ARG_DIFF_DST, l->diff, l->bytes},
                                       {DNNL_ARG_DIFF_SRC, c->diff_src, c->src->bytes}};
        st = sfri_make_backward_step(net, &l->bwd, &bd, fpd, c->id, bwd, SFRI_NARGS(bwd),
                                     "relu backward", fn);
    }
    dnnl_primitive_desc_destroy(fpd);
    return st;
}
