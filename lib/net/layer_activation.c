/*
 * The activation layer: sigmoid, SiLU, hard-swish, hard-sigmoid and GELU
 * (erf or tanh form), element-wise, as PyTorch's modules of those names.
 * Its builder check, and its primitives: oneDNN's eltwise forward and
 * backward in the input's layout, reading the input in backward.
 *
 * oneDNN 2.6 has no hard-sigmoid. Forward runs it as linear(x / 6 + 1/2)
 * with a clip to [0, 1] as post-op; backward in two stages: the clip's
 * gradient from the output (0 where the output is 0 or 1: |x| >= 3, as
 * PyTorch's hardsigmoid_backward) into a buffer of the layer's own, then
 * the linear's, which scales by 1/6.
 *
 * Hard-swish's backward is libsfr's own loop: oneDNN 2.6's took 5 ms a step
 * on a 120 x 7 x 7 map of fmnist-mobilenet (its reference path), the loop a
 * twentieth of that.
 */
#include <string.h>

#include "compile_impl.h"

/* oneDNN's algorithm and parameters for each kind (hard-sigmoid: its forward). */
struct act_alg {
    dnnl_alg_kind_t alg;
    float alpha, beta;
};

static struct act_alg act_alg(int kind)
{
    switch (kind) {
    case SFR_ACT_SIGMOID: return (struct act_alg){dnnl_eltwise_logistic, 0.f, 0.f};
    case SFR_ACT_SILU: return (struct act_alg){dnnl_eltwise_swish, 1.f, 0.f};
    case SFR_ACT_HARDSWISH: return (struct act_alg){dnnl_eltwise_hardswish, 0.f, 0.f};
    case SFR_ACT_HARDSIGMOID: return (struct act_alg){dnnl_eltwise_linear, 1.f / 6.f, 0.5f};
    case SFR_ACT_GELU: return (struct act_alg){dnnl_eltwise_gelu_erf, 0.f, 0.f};
    default: return (struct act_alg){dnnl_eltwise_gelu_tanh, 0.f, 0.f};
    }
}

SFR_API sfr_status sfr_net_activation(sfr_net *net, int in, int kind, int *id)
{
    static const char *const fn = "sfr_net_activation";
    const struct sfri_layer *src = NULL;
    sfr_status st = sfri_build_on(net, id, fn, in, &src);
    if (st != SFR_OK)
        return st;
    if (kind < SFR_ACT_SIGMOID || kind > SFR_ACT_GELU_TANH)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "kind %d is not an sfr_activation", kind);
    struct sfri_layer p = sfri_layer_proto(SFRI_LAYER_ACT, in, -1, src->c, src->h, src->w);
    p.act = kind;
    return sfri_build_append(net, &p, id, fn);
}

/* PyTorch's hardswish_backward: 0 below -3, dy (x / 3 + 1/2) up to 3, dy
 * above, over the layer's buffers (a padded channel's dy is 0, so is its dx). */
static sfr_status hardswish_backward(sfr_net *net, int layer, const char *fn)
{
    (void)fn;
    const struct sfri_layer *l = net->layers[layer];
    const float *x = net->layers[l->in[0]]->out, *dy = l->diff;
    float *dx = l->grad_mode[0] == SFRI_GRAD_WRITE ? net->layers[l->in[0]]->diff : net->accum;
    const int64_t n = (int64_t)(l->bytes / sizeof(float));
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++)
        dx[i] = x[i] < -3.0f ? 0.0f : x[i] <= 3.0f ? dy[i] * (x[i] / 3.0f + 0.5f) : dy[i];
    return SFR_OK;
}

/* Hard-sigmoid's backward: the clip's gradient from the output into a
 * buffer of the layer's, then the linear's (x 1/6) into the input's. */
static sfr_status hardsigmoid_backward(struct sfri_op_ctx *c, const_dnnl_primitive_desc_t fpd)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const dnnl_memory_desc_t *md = &l->md;
    const char *fn = c->fn;
    float *clipped = sfri_net_buffer(net, l->bytes, fn);
    if (clipped == NULL)
        return SFR_ERR_NOMEM;
    dnnl_eltwise_desc_t clip_d, lin_d;
    dnnl_status_t ds = dnnl_eltwise_backward_desc_init(
        &clip_d, dnnl_eltwise_clip_v2_use_dst_for_bwd, md, md, 0.f, 1.f);
    if (ds == dnnl_success)
        ds = dnnl_eltwise_backward_desc_init(&lin_d, dnnl_eltwise_linear, md, md, 1.f / 6.f, 0.f);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "eltwise descriptor");
    /* The forward's hint: the clip's is a clip_v2 forward of its own. */
    dnnl_eltwise_desc_t clip_f;
    dnnl_primitive_desc_t clip_fpd = NULL;
    ds = dnnl_eltwise_forward_desc_init(&clip_f, dnnl_forward_training,
                                        dnnl_eltwise_clip_v2_use_dst_for_bwd, md, 0.f, 1.f);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "eltwise descriptor");
    sfr_status st = sfri_make_pd(net, &clip_f, NULL, &clip_fpd, "hardsigmoid clip", fn);
    const struct sfri_arg clip_args[] = {{DNNL_ARG_DST, l->out, l->bytes},
                                         {DNNL_ARG_DIFF_DST, l->diff, l->bytes},
                                         {DNNL_ARG_DIFF_SRC, clipped, l->bytes}};
    if (st == SFR_OK)
        st = sfri_make_backward_step(net, &l->bwd_pre, &clip_d, clip_fpd, c->id, clip_args,
                                     SFRI_NARGS(clip_args), "hardsigmoid clip backward", fn);
    const struct sfri_arg lin_args[] = {{DNNL_ARG_SRC, c->src->out, c->src->bytes},
                                        {DNNL_ARG_DIFF_DST, clipped, l->bytes},
                                        {DNNL_ARG_DIFF_SRC, c->diff_src, c->src->bytes}};
    if (st == SFR_OK)
        st = sfri_make_backward_step(net, &l->bwd, &lin_d, fpd, c->id, lin_args,
                                     SFRI_NARGS(lin_args), "hardsigmoid linear backward", fn);
    dnnl_primitive_desc_destroy(clip_fpd);
    return st;
}

sfr_status sfri_compile_activation(struct sfri_op_ctx *c)
{
    sfr_net *net = c->net;
    struct sfri_layer *l = c->l;
    const char *fn = c->fn;
    const dnnl_memory_desc_t *md = &c->src->md;
    sfr_status st = sfri_set_layout(net, l, md, fn);
    if (st != SFR_OK)
        return st;
    const struct act_alg a = act_alg(l->act);
    const int hard_sigmoid = l->act == SFR_ACT_HARDSIGMOID;
    dnnl_eltwise_desc_t fd, bd;
    dnnl_primitive_desc_t fpd = NULL;
    dnnl_status_t ds =
        dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, a.alg, md, a.alpha, a.beta);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "eltwise descriptor");
    st = hard_sigmoid ? sfri_make_pd_eltwise(net, &fd, dnnl_eltwise_clip_v2, 0.f, 1.f, &fpd,
                                             "activation forward", fn)
                      : sfri_make_pd(net, &fd, NULL, &fpd, "activation forward", fn);
    const struct sfri_arg fwd[] = {{DNNL_ARG_SRC, c->src->out, c->src->bytes},
                                   {DNNL_ARG_DST, l->out, l->bytes}};
    if (st == SFR_OK)
        st = sfri_make_bound_step(net, &l->fwd, fpd, c->id, SFRI_PASS_FWD, fwd, SFRI_NARGS(fwd),
                                  fn);
    if (st == SFR_OK && c->back && hard_sigmoid) {
        st = hardsigmoid_backward(c, fpd);
    } else if (st == SFR_OK && c->back && l->act == SFR_ACT_HARDSWISH) {
        memset(&l->bwd, 0, sizeof l->bwd);
        l->bwd.run = hardswish_backward;
        l->bwd.layer = c->id;
        l->bwd.pass = SFRI_PASS_BWD_DATA;
        if (c->diff_src == NULL && l->bytes > net->accum_size) { /* summed through accum */
            net->accum_size = l->bytes;
            net->accum_layer = c->id;
        }
    } else if (st == SFR_OK && c->back) {
        const struct sfri_arg bwd[] = {{DNNL_ARG_SRC, c->src->out, c->src->bytes},
                                       {DNNL_ARG_DIFF_DST, l->diff, l->bytes},
                                       {DNNL_ARG_DIFF_SRC, c->diff_src, c->src->bytes}};
        ds = dnnl_eltwise_backward_desc_init(&bd, a.alg, md, md, a.alpha, a.beta);
        st = ds == dnnl_success ? SFR_OK : sfri_dnnl_fail(ds, fn, "eltwise descriptor");
        if (st == SFR_OK)
            st = sfri_make_backward_step(net, &l->bwd, &bd, fpd, c->id, bwd, SFRI_NARGS(bwd),
                                         "activation backward", fn);
    }
    dnnl_primitive_desc_destroy(fpd);
    return st;
}
