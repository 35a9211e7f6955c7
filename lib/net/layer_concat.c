/*
 * The channel concatenation layer: out = torch.cat([a, b], dim=1), for two
 * layers of the same map size (chain it for more). Its builder check and
 * its steps: oneDNN's concat into a plain NCHW output, so that each input's
 * channels are a plain sub-tensor of it; backward reorders each sub-tensor
 * of the gradient into its input's gradient, in that input's layout
 * (adding, when the input has another consumer already counted).
 */
#include <stdint.h>

#include "compile_impl.h"

SFR_API sfr_status sfr_net_concat(sfr_net *net, int a, int b, int *id)
{
    static const char *const fn = "sfr_net_concat";
    const struct sfri_layer *la = NULL, *lb = NULL;
    sfr_status st = sfri_build_on2(net, id, fn, a, &la, b, &lb);
    if (st != SFR_OK)
        return st;
    if (la->h != lb->h || la->w != lb->w)
        return sfri_fail(SFR_ERR_SHAPE, fn, "a's map is %d x %d, b's %d x %d: they must be equal",
                         la->h, la->w, lb->h, lb->w);
    int64_t c = (int64_t)la->c + lb->c;
    if (c * la->h * la->w > INT32_MAX)
        return sfri_fail(SFR_ERR_SHAPE, fn, "output %lld x %d x %d is too large", (long long)c,
                         la->h, la->w);
    struct sfri_layer p = sfri_layer_proto(SFRI_LAYER_CONCAT, a, b, (int)c, la->h, la->w);
    return sfri_build_append(net, &p, id, fn);
}

/* The concat primitive descriptor, with a user-managed scratchpad as every
 * step of a net has. */
static sfr_status concat_pd(struct sfri_op_ctx *c, const dnnl_memory_desc_t *dst,
                            const dnnl_memory_desc_t srcs[2], dnnl_primitive_desc_t *pd)
{
    dnnl_primitive_attr_t attr;
    dnnl_status_t ds = dnnl_primitive_attr_create(&attr);
    if (ds == dnnl_success)
        ds = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (ds == dnnl_success)
        ds = dnnl_concat_primitive_desc_create(pd, dst, 2, 1, srcs, attr, c->net->engine);
    dnnl_primitive_attr_destroy(attr);
    if (ds != dnnl_success) {
        *pd = NULL;
        return sfri_dnnl_fail(ds, c->fn, "concat");
    }
    return SFR_OK;
}

sfr_status sfri_compile_concat(struct sfri_op_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    struct sfri_layer *in[2] = {c->src, net->layers[l->in[1]]};
    dnnl_memory_desc_t plain;
    sfr_status st = sfri_plain_md(net, l, &plain, c->fn);
    if (st == SFR_OK)
        st = sfri_set_layout(net, l, &plain, c->fn);
    if (st != SFR_OK)
        return st;
    const dnnl_memory_desc_t srcs[2] = {in[0]->md, in[1]->md};
    dnnl_primitive_desc_t pd = NULL;
    st = concat_pd(c, &plain, srcs, &pd);
    const struct sfri_arg args[] = {{DNNL_ARG_MULTIPLE_SRC, in[0]->out, in[0]->bytes},
                                    {DNNL_ARG_MULTIPLE_SRC + 1, in[1]->out, in[1]->bytes},
                                    {DNNL_ARG_DST, l->out, l->bytes}};
    if (st == SFR_OK)
        st = sfri_make_bound_step(net, &l->fwd, pd, c->id, SFRI_PASS_FWD, args, SFRI_NARGS(args),
                                  c->fn);
    dnnl_primitive_desc_destroy(pd);
    int first = 0;
    for (int s = 0; s < 2 && st == SFR_OK; first += in[s]->c, s++) {
        if (l->grad_mode[s] == SFRI_GRAD_NONE)
            continue;
        const dnnl_dims_t dims = {net->batch, in[s]->c, l->h, l->w};
        const dnnl_dims_t offsets = {0, first, 0, 0};
        dnnl_memory_desc_t part;
        dnnl_status_t ds = dnnl_memory_desc_init_submemory(&part, &plain, dims, offsets);
        st = ds == dnnl_success ? SFR_OK : sfri_dnnl_fail(ds, c->fn, "gradient sub-tensor");
        if (st == SFR_OK)
            st = sfri_make_reorder(net, &l->pass_on[s], c->id, &part, l->diff, &in[s]->md,
                                   in[s]->diff, l->grad_mode[s] == SFRI_GRAD_ADD, NULL, c->fn);
    }
    return st;
}
