/*
 * The element-wise product layer: out = a * b, with b either of a's shape or
 * C x 1 x 1 broadcast over a's map (squeeze-and-excitation's x * s, which
 * PyTorch writes as a * b with broadcasting). Its builder check and its
 * primitives, all oneDNN binary and reduction, in a's layout:
 *
 *   forward                 out = a * b
 *   backward, input a       da = dout * b
 *   backward, input b       db = dout * a, summed over H x W when b is broadcast
 *                           (a product into a buffer of the layer's, then a
 *                           sum reduction)
 */
#include "compile_impl.h"

SFR_API sfr_status sfr_net_mul(sfr_net *net, int a, int b, int *id)
{
    static const char *const fn = "sfr_net_mul";
    const struct sfri_layer *la = NULL, *lb = NULL;
    sfr_status st = sfri_build_begin(net, id, fn);
    if (st == SFR_OK)
        st = sfri_build_input(net, a, fn, &la);
    if (st == SFR_OK)
        st = sfri_build_input(net, b, fn, &lb);
    if (st != SFR_OK)
        return st;
    int same = lb->h == la->h && lb->w == la->w;
    if (lb->c != la->c || !(same || (lb->h == 1 && lb->w == 1)))
        return sfri_fail(SFR_ERR_SHAPE, fn,
                         "b is %d x %d x %d: it must be a's %d x %d x %d or %d x 1 x 1", lb->c,
                         lb->h, lb->w, la->c, la->h, la->w, la->c);
    struct sfri_layer p = sfri_layer_proto(SFRI_LAYER_MUL, a, b, la->c, la->h, la->w);
    return sfri_build_append(net, &p, id, fn);
}

/* A step of a binary product src0 * src1 -> dst, each over its buffer. */
static sfr_status product_step(struct sfri_op_ctx *c, struct sfri_step *s, int pass,
                               const dnnl_memory_desc_t *md0, void *src0, size_t bytes0,
                               const dnnl_memory_desc_t *md1, void *src1, size_t bytes1,
                               const dnnl_memory_desc_t *dst_md, void *dst, size_t dst_bytes)
{
    dnnl_binary_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t ds = dnnl_binary_desc_init(&d, dnnl_binary_mul, md0, md1, dst_md);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, c->fn, "binary descriptor");
    sfr_status st = sfri_make_pd(c->net, &d, NULL, &pd, "product", c->fn);
    if (st == SFR_OK)
        st = sfri_make_step(c->net, s, pd, c->id, pass, c->fn);
    if (st == SFR_OK)
        st = sfri_bind(c->net, s, pd, DNNL_ARG_SRC_0, src0, bytes0, c->fn);
    if (st == SFR_OK)
        st = sfri_bind(c->net, s, pd, DNNL_ARG_SRC_1, src1, bytes1, c->fn);
    if (st == SFR_OK)
        st = sfri_bind(c->net, s, pd, DNNL_ARG_DST, dst, dst_bytes, c->fn);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

/* db for a broadcast b: dout * a into a buffer, then its sum over H x W. */
static sfr_status broadcast_gradient(struct sfri_op_ctx *c, struct sfri_layer *b, float *db)
{
    struct sfri_layer *l = c->l, *a = c->src;
    float *product = sfri_net_buffer(c->net, l->bytes, c->fn);
    if (product == NULL)
        return SFR_ERR_NOMEM;
    sfr_status st = product_step(c, &l->bwd_pre, SFRI_PASS_BWD_DATA, &l->md, l->diff, l->bytes,
                                 &a->md, a->out, a->bytes, &l->md, product, l->bytes);
    if (st != SFR_OK)
        return st;
    dnnl_reduction_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t ds = dnnl_reduction_desc_init(&d, dnnl_reduction_sum, &l->md, &b->md, 0.f, 0.f);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, c->fn, "reduction descriptor");
    st = sfri_make_pd(c->net, &d, NULL, &pd, "product sum", c->fn);
    if (st == SFR_OK)
        st = sfri_make_step(c->net, &l->bwd1, pd, c->id, SFRI_PASS_BWD_DATA, c->fn);
    if (st == SFR_OK)
        st = sfri_bind(c->net, &l->bwd1, pd, DNNL_ARG_SRC, product, l->bytes, c->fn);
    if (st == SFR_OK)
        st = sfri_bind(c->net, &l->bwd1, pd, DNNL_ARG_DST, db, b->bytes, c->fn);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

sfr_status sfri_compile_mul(struct sfri_op_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l, *a = c->src, *b = net->layers[l->in[1]];
    sfr_status st = sfri_set_layout(net, l, &a->md, c->fn);
    if (st == SFR_OK)
        st = product_step(c, &l->fwd, SFRI_PASS_FWD, &a->md, a->out, a->bytes, &b->md, b->out,
                          b->bytes, &l->md, l->out, l->bytes);
    if (st == SFR_OK && c->back)
        st = product_step(c, &l->bwd, SFRI_PASS_BWD_DATA, &l->md, l->diff, l->bytes, &b->md,
                          b->out, b->bytes, &a->md, c->diff_src, a->bytes);
    if (st != SFR_OK || l->grad_mode[1] == SFRI_GRAD_NONE)
        return st;
    float *db = l->grad_mode[1] == SFRI_GRAD_WRITE ? b->diff : NULL;
    if (b->h == l->h && b->w == l->w)
        return product_step(c, &l->bwd1, SFRI_PASS_BWD_DATA, &l->md, l->diff, l->bytes, &a->md,
                            a->out, a->bytes, &b->md, db, b->bytes);
    return broadcast_gradient(c, b, db);
}
