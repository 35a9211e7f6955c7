/* The residual add's primitives. */
#include "compile_impl.h"

/* Residual add (oneDNN binary, in place on input 0 when it may be, with
 * the next ReLU as a post-op when it is fused), in input 0's layout.
 * Backward hands the gradient to both inputs: backward.c copies or adds it
 * where the layouts match, a reorder does it where not. */
sfr_status sfri_compile_add(struct sfri_op_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const char *fn = c->fn;
    struct sfri_layer *b = net->layers[l->in[1]];
    sfr_status st = sfri_set_layout(net, l, &c->src->md, fn);
    if (st != SFR_OK)
        return st;
    dnnl_binary_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t ds = dnnl_binary_desc_init(&d, dnnl_binary_add, &c->src->md, &b->md, &l->md);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "binary descriptor");
    st = l->fuse_relu ? sfri_make_pd_relu(net, &d, &pd, "residual add", fn)
                      : sfri_make_pd(net, &d, NULL, &pd, "residual add", fn);
    const struct sfri_arg fwd[] = {{DNNL_ARG_SRC_0, c->src->out, c->src->bytes},
                                   {DNNL_ARG_SRC_1, b->out, b->bytes},
                                   {DNNL_ARG_DST, l->out, l->bytes}};
    if (st == SFR_OK)
        st = sfri_make_bound_step(net, &l->fwd, pd, c->id, SFRI_PASS_FWD, fwd, SFRI_NARGS(fwd),
                                  fn);
    dnnl_primitive_desc_destroy(pd);
    for (int s = 0; st == SFR_OK && s < 2; s++) {
        struct sfri_layer *in = net->layers[l->in[s]];
        if (l->grad_mode[s] != SFRI_GRAD_NONE && !dnnl_memory_desc_equal(&in->md, &l->md))
            st = sfri_make_reorder(net, &l->pass_on[s], c->id, &l->md, l->diff, &in->md, in->diff,
                                   l->grad_mode[s] == SFRI_GRAD_ADD, NULL, fn);
    }
    return st;
}
