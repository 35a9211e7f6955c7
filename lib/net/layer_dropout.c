/*
 * The dropout layer, as torch.nn.Dropout(p): in a training forward each
 * input is zeroed with probability p and the others are scaled by 1/(1-p);
 * an eval forward passes the input on unchanged. oneDNN has no such
 * primitive, so its three steps are libsfr's own loops over the layer's
 * buffers (the input's layout: a padded channel is 0 in and 0 out).
 *
 * The mask of a training forward is a hash of (the seed of the last
 * sfr_net_init_params, the layer, the number of training forwards since,
 * the position in the buffer): the same for a seed whatever the thread
 * count, new at every forward, kept (one byte per value) for backward.
 * It is not PyTorch's random stream; the distribution and the scaling are.
 */
#include <math.h>
#include <string.h>

#include "compile_impl.h"

SFR_API sfr_status sfr_net_dropout(sfr_net *net, int in, double p, int *id)
{
    static const char *const fn = "sfr_net_dropout";
    const struct sfri_layer *src = NULL;
    sfr_status st = sfri_build_on(net, id, fn, in, &src);
    if (st != SFR_OK)
        return st;
    if (!(p >= 0.0 && p < 1.0))
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "p is %g: it must be in [0, 1)", p);
    struct sfri_layer proto = sfri_layer_proto(SFRI_LAYER_DROPOUT, in, -1, src->c, src->h, src->w);
    proto.drop = p;
    return sfri_build_append(net, &proto, id, fn);
}

/* splitmix64's finalizer: a well-mixed 64-bit value of x. */
static uint64_t mix(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

static sfr_status dropout_forward(sfr_net *net, int layer, const char *fn)
{
    (void)fn;
    const struct sfri_layer *l = net->layers[layer];
    const float *x = net->layers[l->in[0]]->out;
    float *y = l->out;
    uint8_t *keep = l->workspace;
    const int64_t n = (int64_t)(l->bytes / sizeof(float));
    const uint64_t stream = mix(mix(net->dropout_seed ^ ((uint64_t)layer << 32)) +
                                net->dropout_forwards);
    /* Kept when a uniform draw in [0, 1) on 24 bits is >= p, as PyTorch's
     * bernoulli(1 - p) keeps when its draw is < 1 - p. */
    const uint32_t threshold = (uint32_t)ceil(l->drop * 16777216.0);
    const float scale = (float)(1.0 / (1.0 - l->drop));
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) {
        uint32_t draw = (uint32_t)(mix(stream + (uint64_t)i) >> 40);
        keep[i] = draw >= threshold;
        y[i] = keep[i] ? x[i] * scale : 0.0f;
    }
    return SFR_OK;
}

static sfr_status dropout_eval(sfr_net *net, int layer, const char *fn)
{
    (void)fn;
    const struct sfri_layer *l = net->layers[layer];
    memcpy(l->out, net->layers[l->in[0]]->out, l->bytes);
    return SFR_OK;
}

static sfr_status dropout_backward(sfr_net *net, int layer, const char *fn)
{
    (void)fn;
    const struct sfri_layer *l = net->layers[layer];
    float *dx = l->grad_mode[0] == SFRI_GRAD_WRITE ? net->layers[l->in[0]]->diff : net->accum;
    const float *dy = l->diff;
    const uint8_t *keep = l->workspace;
    const int64_t n = (int64_t)(l->bytes / sizeof(float));
    const float scale = (float)(1.0 / (1.0 - l->drop));
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++)
        dx[i] = keep[i] ? dy[i] * scale : 0.0f;
    return SFR_OK;
}

/* Points step s of layer id at libsfr's function run. */
static void own_step(struct sfri_step *s, int id, int pass,
                     sfr_status (*run)(sfr_net *, int, const char *))
{
    memset(s, 0, sizeof *s);
    s->run = run;
    s->layer = id;
    s->pass = pass;
}

sfr_status sfri_compile_dropout(struct sfri_op_ctx *c)
{
    struct sfri_layer *l = c->l;
    sfr_status st = sfri_set_layout(c->net, l, &c->src->md, c->fn);
    if (st != SFR_OK)
        return st;
    size_t values = l->bytes / sizeof(float);
    if ((l->workspace = sfri_net_buffer(c->net, values, c->fn)) == NULL)
        return SFR_ERR_NOMEM;
    if (c->back && c->diff_src == NULL && l->bytes > c->net->accum_size) {
        /* Its gradient is summed through the accumulation buffer. */
        c->net->accum_size = l->bytes;
        c->net->accum_layer = c->id;
    }
    own_step(&l->fwd, c->id, SFRI_PASS_FWD, dropout_forward);
    own_step(&l->fwd_eval, c->id, SFRI_PASS_FWD, dropout_eval);
    if (c->back)
        own_step(&l->bwd, c->id, SFRI_PASS_BWD_DATA, dropout_backward);
    return SFR_OK;
}
