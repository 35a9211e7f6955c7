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
 *                           sum reduction); a broadcast b is used in the
 *                           map's layout (see factor_layout)
 */
#include "compile_impl.h"

SFR_API sfr_status sfr_net_mul(sfr_net *net, int a, int b, int *id)
{
    static const char *const fn = "sfr_net_mul";
    const struct sfri_layer *la = NULL, *lb = NULL;
    sfr_status st = sfri_build_on2(net, id, fn, a, &la, b, &lb);
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
    const struct sfri_arg args[] = {{DNNL_ARG_SRC_0, src0, bytes0},
                                    {DNNL_ARG_SRC_1, src1, bytes1},
                                    {DNNL_ARG_DST, dst, dst_bytes}};
    sfr_status st = sfri_make_pd(c->net, &d, NULL, &pd, "product", c->fn);
    if (st == SFR_OK)
        st = sfri_make_bound_step(c->net, s, pd, c->id, pass, args, SFRI_NARGS(args), c->fn);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

/*
 * The C x 1 x 1 factor in the map's own layout (oneDNN 2.6 takes its
 * reference binary, 30-60 ms a step here, when a broadcast operand's layout
 * differs from the map's): the layout of a with b's dims, found among the
 * layouts the net's primitives produce; *same when it is b's own.
 */
static sfr_status factor_layout(const struct sfri_op_ctx *c, const struct sfri_layer *a,
                                const struct sfri_layer *b, dnnl_memory_desc_t *md, int *same)
{
    static const dnnl_format_tag_t tags[] = {dnnl_nchw, dnnl_nhwc, dnnl_nChw16c, dnnl_nChw8c};
    const dnnl_dims_t map = {c->net->batch, a->c, a->h, a->w}, vec = {c->net->batch, a->c, 1, 1};
    *md = b->md;
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
        dnnl_memory_desc_t probe;
        if (dnnl_memory_desc_init_by_tag(&probe, 4, map, dnnl_f32, tags[i]) == dnnl_success &&
            dnnl_memory_desc_equal(&probe, &a->md)) {
            dnnl_status_t ds = dnnl_memory_desc_init_by_tag(md, 4, vec, dnnl_f32, tags[i]);
            if (ds != dnnl_success)
                return sfri_dnnl_fail(ds, c->fn, "factor layout");
            break;
        }
    }
    *same = dnnl_memory_desc_equal(md, &b->md);
    return SFR_OK;
}

/*
 * out = a * b for a C x 1 x 1 b, and its gradients: b is reordered into the
 * map's layout before the product (fwd_pre); db is dout * a (bwd_pre), summed
 * over the map in that layout (bwd1_pre), reordered into b's gradient or the
 * accumulation buffer (bwd1).
 */
static sfr_status compile_broadcast(struct sfri_op_ctx *c, struct sfri_layer *b)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l, *a = c->src;
    dnnl_memory_desc_t f_md;
    int same = 0;
    sfr_status st = factor_layout(c, a, b, &f_md, &same);
    if (st != SFR_OK)
        return st;
    size_t f_bytes = dnnl_memory_desc_get_size(&f_md);
    float *factor = b->out;
    if (!same) {
        if ((factor = sfri_net_buffer(net, f_bytes, c->fn)) == NULL)
            return SFR_ERR_NOMEM;
        st = sfri_make_reorder(net, &l->fwd_pre, c->id, &b->md, b->out, &f_md, factor, 0, NULL,
                               c->fn);
    }
    if (st == SFR_OK)
        st = product_step(c, &l->fwd, SFRI_PASS_FWD, &a->md, a->out, a->bytes, &f_md, factor,
                          f_bytes, &l->md, l->out, l->bytes);
    if (st == SFR_OK && c->back)
        st = product_step(c, &l->bwd, SFRI_PASS_BWD_DATA, &l->md, l->diff, l->bytes, &f_md,
                          factor, f_bytes, &a->md, c->diff_src, a->bytes);
    if (st != SFR_OK || l->grad_mode[1] == SFRI_GRAD_NONE)
        return st;
    float *product = sfri_net_buffer(net, l->bytes, c->fn);
    float *sum = same ? NULL : sfri_net_buffer(net, f_bytes, c->fn);
    if (product == NULL || (!same && sum == NULL))
        return SFR_ERR_NOMEM;
    st = product_step(c, &l->bwd_pre, SFRI_PASS_BWD_DATA, &l->md, l->diff, l->bytes, &a->md,
                      a->out, a->bytes, &l->md, product, l->bytes);
    if (st != SFR_OK)
        return st;
    float *db = l->grad_mode[1] == SFRI_GRAD_WRITE ? b->diff : NULL;
    dnnl_reduction_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t ds = dnnl_reduction_desc_init(&d, dnnl_reduction_sum, &l->md, &f_md, 0.f, 0.f);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, c->fn, "reduction descriptor");
    struct sfri_step *reduce = same ? &l->bwd1 : &l->bwd1_pre;
    st = sfri_make_pd(net, &d, NULL, &pd, "product sum", c->fn);
    if (st == SFR_OK)
        st = sfri_make_step(net, reduce, pd, c->id, SFRI_PASS_BWD_DATA, c->fn);
    if (st == SFR_OK)
        st = sfri_bind(net, reduce, pd, DNNL_ARG_SRC, product, l->bytes, c->fn);
    if (st == SFR_OK)
        st = sfri_bind(net, reduce, pd, DNNL_ARG_DST, same ? (void *)db : (void *)sum, f_bytes,
                       c->fn);
    dnnl_primitive_desc_destroy(pd);
    if (st != SFR_OK || same)
        return st;
    if (db == NULL && b->bytes > net->accum_size) { /* summed through the accumulation buffer */
        net->accum_size = b->bytes;
        net->accum_layer = c->id;
    }
    return sfri_make_reorder(net, &l->bwd1, c->id, &f_md, sum, &b->md, db, 0, NULL, c->fn);
}

sfr_status sfri_compile_mul(struct sfri_op_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l, *a = c->src, *b = net->layers[l->in[1]];
    sfr_status st = sfri_set_layout(net, l, &a->md, c->fn);
    if (st != SFR_OK)
        return st;
    if (b->h != l->h || b->w != l->w)
        return compile_broadcast(c, b);
    st = product_step(c, &l->fwd, SFRI_PASS_FWD, &a->md, a->out, a->bytes, &b->md, b->out,
                      b->bytes, &l->md, l->out, l->bytes);
    if (st == SFR_OK && c->back)
        st = product_step(c, &l->bwd, SFRI_PASS_BWD_DATA, &l->md, l->diff, l->bytes, &b->md,
                          b->out, b->bytes, &a->md, c->diff_src, a->bytes);
    if (st != SFR_OK || l->grad_mode[1] == SFRI_GRAD_NONE)
        return st;
    float *db = l->grad_mode[1] == SFRI_GRAD_WRITE ? b->diff : NULL;
    return product_step(c, &l->bwd1, SFRI_PASS_BWD_DATA, &l->md, l->diff, l->bytes, &a->md,
                        a->out, a->bytes, &b->md, db, b->bytes);
}
