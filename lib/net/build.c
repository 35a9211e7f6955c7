/*
 * Creating and destroying a net, and the builder calls: each validates its
 * arguments against the shape of its input layer(s), then appends one layer
 * and grows the parameter and batch-norm state buffers in one step, so that
 * a failed call leaves the net exactly as it was.
 */
#include <stdio.h>
#include <string.h>

#include "../tap/tap.h"
#include "net_impl.h"

/* Per-sample tensors and parameter tensors are kept below 2^31 elements so
 * that every index oneDNN and our loops compute fits comfortably. */
#define MAX_ELEMS ((int64_t)INT32_MAX)

SFR_API sfr_status sfr_net_create(sfr_net **out)
{
    static const char *const fn = "sfr_net_create";
    if (out == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "out is NULL");
    sfr_net *net = sfri_calloc(1, sizeof *net);
    if (net == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    dnnl_status_t st = dnnl_engine_create(&net->engine, dnnl_cpu, 0);
    if (st != dnnl_success) {
        sfri_free(net);
        return sfri_dnnl_fail(st, fn, "engine creation");
    }
    st = dnnl_stream_create(&net->stream, net->engine, dnnl_stream_default_flags);
    if (st != dnnl_success) {
        dnnl_engine_destroy(net->engine);
        sfri_free(net);
        return sfri_dnnl_fail(st, fn, "stream creation");
    }
    net->magic = SFRI_MAGIC_NET;
    net->phase = SFRI_PHASE_BUILDING;
    *out = net;
    return SFR_OK;
}

SFR_API void sfr_net_destroy(sfr_net *net)
{
    if (net == NULL || net->magic != SFRI_MAGIC_NET)
        return;
    sfri_prof_report(net);
    sfri_prof_free(net);
    sfri_net_release_compiled(net);
    sfri_net_free_streams(net);
    for (int i = 0; i < net->n_layers; i++) {
        sfri_tap_free_owned(net->layers[i]->tap);
        sfri_free(net->layers[i]);
    }
    sfri_free(net->layers);
    sfri_free(net->params);
    sfri_free(net->grads);
    sfri_free(net->grad_sum);
    sfri_free(net->state);
    dnnl_stream_destroy(net->stream);
    dnnl_engine_destroy(net->engine);
    net->magic = SFRI_MAGIC_DEAD;
    sfri_free(net);
}

/* The checks every builder call makes first: a live net, an id pointer, and
 * a net still being built. */
sfr_status sfri_build_begin(sfr_net *net, const int *id, const char *fn)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (id == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "id is NULL");
    if (net->phase != SFRI_PHASE_BUILDING)
        return sfri_fail(SFR_ERR_STATE, fn, "the net is compiled: layers can no longer be added");
    return SFR_OK;
}

/* The input layer of id in, as sfri_net_layer_arg finds it. */
static sfr_status build_input(const sfr_net *net, int in, const char *fn,
                              const struct sfri_layer **out)
{
    struct sfri_layer *l = NULL;
    sfr_status st = sfri_net_layer_arg(net, in, fn, &l);
    if (st == SFR_OK)
        *out = l;
    return st;
}

sfr_status sfri_build_on(sfr_net *net, const int *id, const char *fn, int in,
                         const struct sfri_layer **src)
{
    sfr_status st = sfri_build_begin(net, id, fn);
    return st == SFR_OK ? build_input(net, in, fn, src) : st;
}

sfr_status sfri_build_on2(sfr_net *net, const int *id, const char *fn, int a,
                          const struct sfri_layer **la, int b, const struct sfri_layer **lb)
{
    sfr_status st = sfri_build_on(net, id, fn, a, la);
    return st == SFR_OK ? build_input(net, b, fn, lb) : st;
}

/* Copies n old floats into a new zeroed buffer of n + extra floats. */
static float *grown(const float *old, int64_t n, int64_t extra)
{
    float *p = sfri_calloc((size_t)(n + extra), sizeof *p);
    if (p != NULL && n > 0)
        memcpy(p, old, (size_t)n * sizeof *p);
    return p;
}

/*
 * Appends a copy of proto (kind, inputs, output shape, arguments and
 * parameter sizes filled in) and grows the buffers. New weights are zero
 * until sfr_net_init_params; batch norm starts at gamma 1, beta 0, running
 * mean 0 and variance 1.
 */
sfr_status sfri_build_append(sfr_net *net, const struct sfri_layer *proto, int *id, const char *fn)
{
    int64_t np = proto->weight_size + proto->bias_size;
    int64_t ns = proto->kind == SFRI_LAYER_BN ? 2 * (int64_t)proto->c : 0;
    if (proto->weight_size > MAX_ELEMS || net->n_params + np > INT64_MAX / 8)
        return sfri_fail(SFR_ERR_SHAPE, fn, "the layer's %lld parameters are too many",
                         (long long)np);
    if (net->n_layers == INT32_MAX - 1)
        return sfri_fail(SFR_ERR_SHAPE, fn, "too many layers");

    struct sfri_layer *l = sfri_malloc(sizeof *l);
    struct sfri_layer **layers = net->layers;
    float *params = net->params, *grads = net->grads, *state = net->state;
    int cap = net->cap_layers;
    if (net->n_layers == cap) {
        cap = cap ? 2 * cap : 16;
        layers = sfri_calloc((size_t)cap, sizeof *layers);
        if (layers != NULL && net->n_layers > 0)
            memcpy(layers, net->layers, (size_t)net->n_layers * sizeof *layers);
    }
    if (np > 0) {
        params = grown(net->params, net->n_params, np);
        grads = grown(net->grads, net->n_params, np);
    }
    if (ns > 0)
        state = grown(net->state, net->n_state, ns);
    if (l == NULL || layers == NULL || (np > 0 && (params == NULL || grads == NULL)) ||
        (ns > 0 && state == NULL)) {
        sfri_free(l);
        if (layers != net->layers)
            sfri_free(layers);
        if (params != net->params)
            sfri_free(params);
        if (grads != net->grads)
            sfri_free(grads);
        if (state != net->state)
            sfri_free(state);
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    }

    int new_id = net->n_layers;
    *l = *proto;
    l->param_off = net->n_params;
    l->state_off = net->n_state;
    char name[32];
    snprintf(name, sizeof name, "layer%d", new_id);
    sfri_layer_set_names(l, name);
    if (l->kind == SFRI_LAYER_BN) {
        for (int ch = 0; ch < l->c; ch++) {
            params[l->param_off + ch] = 1.0f;
            state[l->state_off + l->c + ch] = 1.0f;
        }
    }
    if (layers != net->layers) {
        sfri_free(net->layers);
        net->layers = layers;
        net->cap_layers = cap;
    }
    if (params != net->params) {
        sfri_free(net->params);
        sfri_free(net->grads);
        net->params = params;
        net->grads = grads;
    }
    if (state != net->state) {
        sfri_free(net->state);
        net->state = state;
    }
    net->n_params += np;
    net->n_state += ns;
    net->layers[net->n_layers++] = l;
    *id = new_id;
    return SFR_OK;
}

/* A fresh prototype of kind fed by in0 (and in1), with no parameters. */
struct sfri_layer sfri_layer_proto(int kind, int in0, int in1, int c, int h, int w)
{
    struct sfri_layer p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.in[0] = in0;
    p.in[1] = in1;
    p.diff_from = -1;
    p.c = c;
    p.h = h;
    p.w = w;
    return p;
}

/*
 * a * b * c * d for sizes >= 1, or -1 when the product exceeds MAX_ELEMS;
 * checked at every step, so that no product of host integers overflows.
 */
int64_t sfri_elems_within_limit(int64_t a, int64_t b, int64_t c, int64_t d)
{
    const int64_t more[] = {b, c, d};
    int64_t p = a;
    for (int i = 0; i < 3; i++) {
        if (p > MAX_ELEMS / more[i])
            return -1;
        p *= more[i];
    }
    return p;
}

SFR_API sfr_status sfr_net_input(sfr_net *net, int c, int h, int w, int *id)
{
    static const char *const fn = "sfr_net_input";
    sfr_status st = sfri_build_begin(net, id, fn);
    if (st != SFR_OK)
        return st;
    if (net->n_layers > 0)
        return sfri_fail(SFR_ERR_STATE, fn, "the net already has layers: the input comes first, once");
    if (c < 1 || h < 1 || w < 1)
        return sfri_fail(SFR_ERR_SHAPE, fn, "input %d x %d x %d: every size must be >= 1", c, h, w);
    if (sfri_elems_within_limit(1, c, h, w) < 0)
        return sfri_fail(SFR_ERR_SHAPE, fn, "input %d x %d x %d is too large", c, h, w);
    struct sfri_layer p = sfri_layer_proto(SFRI_LAYER_INPUT, -1, -1, c, h, w);
    return sfri_build_append(net, &p, id, fn);
}

/*
 * Output size along one axis of a window of kernel with stride and pad over
 * size (rounding down), or SFR_ERR_SHAPE when the window cannot mean
 * anything there: a value < 1, a padding outside [0, max_pad] or larger
 * than the input, a kernel or a stride longer than the padded input. The
 * padding rule keeps the kernel, the stride and the output within three
 * times the input, so that a layer's work is bounded by its input's size
 * (a kernel of 65535 padded by 32767 over 5 values would run for seconds).
 * Every sum is computed in 64 bits: nothing here overflows.
 */
sfr_status sfri_window_out(int size, int kernel, int stride, int lo, int hi, int max_pad,
                           const char *fn, int *out)
{
    if (kernel < 1 || stride < 1)
        return sfri_fail(SFR_ERR_SHAPE, fn, "kernel %d, stride %d: both must be >= 1", kernel, stride);
    const int pads[2] = {lo, hi};
    for (int i = 0; i < 2; i++) {
        if (pads[i] < 0 || pads[i] > max_pad)
            return sfri_fail(SFR_ERR_SHAPE, fn, "padding %d with kernel %d: it must be in [0, %d]",
                             pads[i], kernel, max_pad);
        if (pads[i] > size)
            return sfri_fail(SFR_ERR_SHAPE, fn, "padding %d is larger than the input (%d)",
                             pads[i], size);
    }
    int64_t padded = (int64_t)size + (int64_t)lo + (int64_t)hi;
    if (padded < kernel)
        return sfri_fail(SFR_ERR_SHAPE, fn, "kernel %d is larger than the padded input (%lld)",
                         kernel, (long long)padded);
    if (padded < stride)
        return sfri_fail(SFR_ERR_SHAPE, fn, "stride %d is longer than the padded input (%lld)",
                         stride, (long long)padded);
    int64_t n = (padded - kernel) / stride + 1;
    if (n > MAX_ELEMS)
        return sfri_fail(SFR_ERR_SHAPE, fn, "%lld outputs along one axis are too many",
                         (long long)n);
    *out = (int)n;
    return SFR_OK;
}

SFR_API sfr_status sfr_net_conv2d(sfr_net *net, int in, int out_c, int kernel, int stride,
                                  int pad, int bias, int *id)
{
    static const char *const fn = "sfr_net_conv2d";
    const struct sfri_layer *src = NULL;
    sfr_status st = sfri_build_on(net, id, fn, in, &src);
    if (st != SFR_OK)
        return st;
    if (out_c < 1)
        return sfri_fail(SFR_ERR_SHAPE, fn, "out_c %d must be >= 1", out_c);
    int oh, ow;
    int max_pad = kernel > 0 ? kernel - 1 : 0;
    st = sfri_window_out(src->h, kernel, stride, pad, pad, max_pad, fn, &oh);
    if (st == SFR_OK)
        st = sfri_window_out(src->w, kernel, stride, pad, pad, max_pad, fn, &ow);
    if (st != SFR_OK)
        return st;
    if (sfri_elems_within_limit(1, out_c, oh, ow) < 0)
        return sfri_fail(SFR_ERR_SHAPE, fn, "output %d x %d x %d is too large", out_c, oh, ow);
    int64_t weights = sfri_elems_within_limit(out_c, src->c, kernel, kernel);
    if (weights < 0)
        return sfri_fail(SFR_ERR_SHAPE, fn, "weight %d x %d x %d x %d is too large", out_c, src->c,
                         kernel, kernel);
    struct sfri_layer p = sfri_layer_proto(SFRI_LAYER_CONV, in, -1, out_c, oh, ow);
    p.kernel = kernel;
    p.stride = stride;
    p.pad = pad;
    p.bias = bias != 0;
    p.kh = p.kw = kernel;
    p.sh = p.sw = stride;
    p.pad_t = p.pad_l = p.pad_b = p.pad_r = pad;
    p.dil_h = p.dil_w = p.groups = 1;
    p.weight_size = weights;
    p.bias_size = p.bias ? out_c : 0;
    return sfri_build_append(net, &p, id, fn);
}

SFR_API sfr_status sfr_net_batchnorm(sfr_net *net, int in, int *id)
{
    static const char *const fn = "sfr_net_batchnorm";
    const struct sfri_layer *src = NULL;
    sfr_status st = sfri_build_on(net, id, fn, in, &src);
    if (st != SFR_OK)
        return st;
    struct sfri_layer p = sfri_layer_proto(SFRI_LAYER_BN, in, -1, src->c, src->h, src->w);
    p.weight_size = src->c;
    p.bias_size = src->c;
    return sfri_build_append(net, &p, id, fn);
}

SFR_API sfr_status sfr_net_relu(sfr_net *net, int in, int *id)
{
    static const char *const fn = "sfr_net_relu";
    const struct sfri_layer *src = NULL;
    sfr_status st = sfri_build_on(net, id, fn, in, &src);
    if (st != SFR_OK)
        return st;
    struct sfri_layer p = sfri_layer_proto(SFRI_LAYER_RELU, in, -1, src->c, src->h, src->w);
    return sfri_build_append(net, &p, id, fn);
}

static sfr_status pool(sfr_net *net, int kind, int in, int kernel, int stride, int pad, int *id,
                       const char *fn)
{
    const struct sfri_layer *src = NULL;
    sfr_status st = sfri_build_on(net, id, fn, in, &src);
    if (st != SFR_OK)
        return st;
    int oh, ow;
    int max_pad = kernel > 0 ? kernel / 2 : 0;
    st = sfri_window_out(src->h, kernel, stride, pad, pad, max_pad, fn, &oh);
    if (st == SFR_OK)
        st = sfri_window_out(src->w, kernel, stride, pad, pad, max_pad, fn, &ow);
    if (st != SFR_OK)
        return st;
    if (sfri_elems_within_limit(1, src->c, oh, ow) < 0)
        return sfri_fail(SFR_ERR_SHAPE, fn, "output %d x %d x %d is too large", src->c, oh, ow);
    struct sfri_layer p = sfri_layer_proto(kind, in, -1, src->c, oh, ow);
    p.kernel = kernel;
    p.stride = stride;
    p.pad = pad;
    return sfri_build_append(net, &p, id, fn);
}

SFR_API sfr_status sfr_net_maxpool(sfr_net *net, int in, int kernel, int stride, int pad,
                                   int *id)
{
    return pool(net, SFRI_LAYER_MAXPOOL, in, kernel, stride, pad, id, "sfr_net_maxpool");
}

SFR_API sfr_status sfr_net_avgpool(sfr_net *net, int in, int kernel, int stride, int pad,
                                   int *id)
{
    return pool(net, SFRI_LAYER_AVGPOOL, in, kernel, stride, pad, id, "sfr_net_avgpool");
}

SFR_API sfr_status sfr_net_global_avgpool(sfr_net *net, int in, int *id)
{
    static const char *const fn = "sfr_net_global_avgpool";
    const struct sfri_layer *src = NULL;
    sfr_status st = sfri_build_on(net, id, fn, in, &src);
    if (st != SFR_OK)
        return st;
    struct sfri_layer p = sfri_layer_proto(SFRI_LAYER_GAP, in, -1, src->c, 1, 1);
    return sfri_build_append(net, &p, id, fn);
}

SFR_API sfr_status sfr_net_linear(sfr_net *net, int in, int out_features, int *id)
{
    static const char *const fn = "sfr_net_linear";
    const struct sfri_layer *src = NULL;
    sfr_status st = sfri_build_on(net, id, fn, in, &src);
    if (st != SFR_OK)
        return st;
    if (out_features < 1)
        return sfri_fail(SFR_ERR_SHAPE, fn, "out_features %d must be >= 1", out_features);
    int64_t weights = sfri_elems_within_limit(out_features, src->c, src->h, src->w);
    if (weights < 0)
        return sfri_fail(SFR_ERR_SHAPE, fn, "weight %d x (%d x %d x %d) is too large", out_features,
                         src->c, src->h, src->w);
    struct sfri_layer p = sfri_layer_proto(SFRI_LAYER_LINEAR, in, -1, out_features, 1, 1);
    p.weight_size = weights;
    p.bias_size = out_features;
    return sfri_build_append(net, &p, id, fn);
}

SFR_API sfr_status sfr_net_add(sfr_net *net, int a, int b, int *id)
{
    static const char *const fn = "sfr_net_add";
    const struct sfri_layer *la = NULL, *lb = NULL;
    sfr_status st = sfri_build_on2(net, id, fn, a, &la, b, &lb);
    if (st != SFR_OK)
        return st;
    if (la->c != lb->c || la->h != lb->h || la->w != lb->w)
        return sfri_fail(SFR_ERR_SHAPE, fn, "layer %d is %d x %d x %d, layer %d is %d x %d x %d", a,
                         la->c, la->h, la->w, b, lb->c, lb->h, lb->w);
    struct sfri_layer p = sfri_layer_proto(SFRI_LAYER_ADD, a, b, la->c, la->h, la->w);
    return sfri_build_append(net, &p, id, fn);
}
