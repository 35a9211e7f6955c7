/*
 * One builder per ONNX operator the importer takes (import.c walks the
 * graph): each checks its node's inputs and attributes against what the
 * layer it becomes computes, adds the layer with the public builder calls
 * and records where its tensors come from. docs/interop.md maps them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../common/bytes.h"
#include "../common/common.h"
#include "../net/net_impl.h"
#include "import.h"

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name != NULL && strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    return NULL;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a != NULL && a->has_i ? a->i : def;
}

static float attr_float(const Onnx__NodeProto *n, const char *name, float def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a != NULL && a->has_f ? a->f : def;
}

/* The ints of an attribute into out (count of them), def_value repeated
 * count times when absent; 0 when present with another count. */
static int attr_ints(const Onnx__NodeProto *n, const char *name, int64_t *out, int count,
                     int64_t def_value)
{
    const Onnx__AttributeProto *a = attr(n, name);
    if (a == NULL) {
        for (int i = 0; i < count; i++)
            out[i] = def_value;
        return 1;
    }
    if (a->n_ints != (size_t)count)
        return 0;
    if (count > 0)
        memcpy(out, a->ints, (size_t)count * sizeof *out);
    return 1;
}

/* auto_pad absent, NOTSET or VALID (the same as no padding when pads are 0). */
static int explicit_padding(const Onnx__NodeProto *n, const int64_t *pads)
{
    const Onnx__AttributeProto *a = attr(n, "auto_pad");
    if (a == NULL || !a->has_s || (a->s.len == 6 && memcmp(a->s.data, "NOTSET", 6) == 0))
        return 1;
    return a->s.len == 5 && memcmp(a->s.data, "VALID", 5) == 0 && pads[0] == 0 && pads[1] == 0 &&
           pads[2] == 0 && pads[3] == 0;
}

static const struct sfri_layer *shape_of(struct sfri_importer *im, int layer)
{
    return im->net->layers[layer];
}

/* Input k, which must be a layer's output, zero-padded by a Pad node when
 * pad is not NULL (*pad receives it); NULL after reporting. */
static struct sfri_value *padded_input(struct sfri_importer *im, size_t k, int *pad,
                                       sfr_status *st)
{
    const Onnx__NodeProto *n = im->node;
    struct sfri_value *v = k < n->n_input ? sfri_import_find(im, n->input[k]) : NULL;
    if (v == NULL)
        *st = sfri_import_format(im, "input %zu is %s", k, k < n->n_input ? "not made before "
                                 "this node" : "missing");
    else if (v->layer < 0)
        *st = sfri_import_unsupported(im, "input %zu ('%s') is a constant: libsfr computes on "
                                      "layer outputs only", k, v->name);
    else if (v->pad > 0 && pad == NULL)
        *st = sfri_import_unsupported(im, "input %zu ('%s') is padded: libsfr pads only for "
                                      "an average pooling or a convolution", k, v->name);
    if (*st != SFR_OK)
        return NULL;
    if (pad != NULL)
        *pad = v->pad;
    return v;
}

/* Input k, a layer's output as it is. */
static struct sfri_value *layer_input(struct sfri_importer *im, size_t k, sfr_status *st)
{
    return padded_input(im, k, NULL, st);
}

/* Input k as a constant tensor of rank ndims (-1: any), or NULL (absent: *st stays OK). */
static const Onnx__TensorProto *const_input(struct sfri_importer *im, size_t k, int ndims,
                                            sfr_status *st)
{
    const Onnx__NodeProto *n = im->node;
    if (k >= n->n_input || n->input[k] == NULL || n->input[k][0] == '\0')
        return NULL;
    struct sfri_value *v = sfri_import_find(im, n->input[k]);
    if (v == NULL || v->init == NULL) {
        *st = v == NULL ? sfri_import_format(im, "input %zu ('%s') is not defined", k,
                                             n->input[k])
                        : sfri_import_unsupported(im, "input %zu ('%s') must be a constant "
                                                  "(an initializer)", k, n->input[k]);
        return NULL;
    }
    if (ndims >= 0 && v->init->n_dims != (size_t)ndims) {
        *st = sfri_import_format(im, "input %zu ('%s') has rank %zu, not %d", k, n->input[k],
                                 v->init->n_dims, ndims);
        return NULL;
    }
    return v->init;
}

/* Output 0 is v. */
static sfr_status define(struct sfri_importer *im, struct sfri_value v)
{
    const Onnx__NodeProto *n = im->node;
    if (n->n_output < 1 || n->output[0] == NULL || n->output[0][0] == '\0')
        return sfri_import_format(im, "the node has no output");
    if (!sfri_import_define(im, n->output[0], v))
        return sfri_fail(SFR_ERR_NOMEM, im->fn, "out of memory");
    return SFR_OK;
}

/* After a builder call: the new layer as output 0, or the call's failure. */
static sfr_status added(struct sfri_importer *im, sfr_status built, int id, int rank,
                        const char *weight_name)
{
    if (built == SFR_ERR_NOMEM)
        return built;
    if (built != SFR_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", sfr_last_error());
        return sfri_import_unsupported(im, "libsfr has no such layer: %s", why);
    }
    im->last_layer = id;
    sfri_import_name_layer(im, id, weight_name);
    return define(im, (struct sfri_value){.layer = id, .rank = rank, .pending_bias = -1});
}

static sfr_status source(struct sfri_importer *im, int buffer, const Onnx__TensorProto *t,
                         int64_t rows, int64_t cols, int transpose, const char *what)
{
    sfr_status st = t != NULL ? sfri_tensor_float_data(im, t, rows * cols, what) : SFR_OK;
    if (st != SFR_OK)
        return st;
    const char *label = sfri_arena_printf(&im->arena, "node '%s': %s",
                                          im->node->name ? im->node->name : "", what);
    struct sfri_source s = {t, rows, cols, transpose, label ? label : what,
                            buffer && strcmp(what, "running variance") == 0};
    int index = buffer ? sfri_import_buffer(im, s) : sfri_import_param(im, s);
    return index >= 0 ? SFR_OK : sfri_fail(SFR_ERR_NOMEM, im->fn, "out of memory");
}

static sfr_status conv(struct sfri_importer *im)
{
    const Onnx__NodeProto *n = im->node;
    sfr_status st = SFR_OK;
    int pre = 0;
    struct sfri_value *x = padded_input(im, 0, &pre, &st);
    const Onnx__TensorProto *w = x ? const_input(im, 1, 4, &st) : NULL;
    const Onnx__TensorProto *b = w ? const_input(im, 2, 1, &st) : NULL;
    if (st != SFR_OK)
        return st;
    if (w == NULL)
        return sfri_import_format(im, "no weight");
    int64_t kernel[2], strides[2], pads[4], dil[2];
    if (!attr_ints(n, "kernel_shape", kernel, 2, 0) || !attr_ints(n, "strides", strides, 2, 1) ||
        !attr_ints(n, "pads", pads, 4, 0) || !attr_ints(n, "dilations", dil, 2, 1) ||
        !explicit_padding(n, pads) || x->rank != 4)
        return sfri_import_unsupported(im, "only 2-D convolutions with explicit padding");
    const int64_t *d = w->dims;
    if ((attr(n, "kernel_shape") && (kernel[0] != d[2] || kernel[1] != d[3])) ||
        (b != NULL && b->dims[0] != d[0]))
        return sfri_import_format(im, "the weight's shape does not match the kernel or the bias");
    for (int i = 0; i < 4; i++)
        if (d[i] < 1 || d[i] > INT32_MAX || pads[i] < 0 || pads[i] > INT32_MAX ||
            (i < 2 && (strides[i] < 1 || strides[i] > INT32_MAX || dil[i] < 1 ||
                       dil[i] > INT32_MAX)))
            return sfri_import_unsupported(im, "a size or stride out of range");
    int64_t group = attr_int(n, "group", 1);
    if (group < 1 || group > INT32_MAX)
        return sfri_import_unsupported(im, "group %lld", (long long)group);
    sfr_conv_params p = SFR_CONV_PARAMS_INIT;
    p.kernel_h = (int)d[2];
    p.kernel_w = (int)d[3];
    p.stride_h = (int)strides[0];
    p.stride_w = (int)strides[1];
    if (pre > 0 && (pads[0] > INT32_MAX - pre || pads[1] > INT32_MAX - pre ||
                    pads[2] > INT32_MAX - pre || pads[3] > INT32_MAX - pre))
        return sfri_import_unsupported(im, "a padding out of range");
    p.pad_top = (int)pads[0] + pre; /* a Pad node's zeros are the convolution's */
    p.pad_left = (int)pads[1] + pre;
    p.pad_bottom = (int)pads[2] + pre;
    p.pad_right = (int)pads[3] + pre;
    p.dilation_h = (int)dil[0];
    p.dilation_w = (int)dil[1];
    p.groups = (int)group;
    p.bias = b != NULL;
    if (shape_of(im, x->layer)->c != d[1] * group)
        return sfri_import_format(im, "the weight takes %lld channels in %lld groups, the input "
                                  "has %d", (long long)d[1], (long long)group,
                                  shape_of(im, x->layer)->c);
    int id = -1;
    /* The square case is sfr_net_conv2d's layer: the one a built net has
     * (same checkpoint signature, and its Winograd path). */
    const int square = p.kernel_h == p.kernel_w && p.stride_h == p.stride_w &&
                       p.pad_top == p.pad_left && p.pad_top == p.pad_bottom &&
                       p.pad_top == p.pad_right && p.dilation_h == 1 && p.dilation_w == 1 &&
                       p.groups == 1;
    st = square ? sfr_net_conv2d(im->net, x->layer, (int)d[0], p.kernel_h, p.stride_h,
                                 p.pad_top, p.bias, &id)
                : sfr_net_conv(im->net, x->layer, (int)d[0], &p, &id);
    if ((st = added(im, st, id, 4, w->name)) != SFR_OK)
        return st;
    st = source(im, 0, w, d[0], d[1] * d[2] * d[3], 0, "weight");
    return st == SFR_OK && b != NULL ? source(im, 0, b, 1, d[0], 0, "bias") : st;
}

static sfr_status batchnorm(struct sfri_importer *im)
{
    sfr_status st = SFR_OK;
    struct sfri_value *x = layer_input(im, 0, &st);
    const Onnx__TensorProto *t[4] = {NULL};
    for (int i = 0; i < 4 && st == SFR_OK; i++)
        t[i] = const_input(im, (size_t)i + 1, 1, &st);
    if (st != SFR_OK)
        return st;
    if (t[0] == NULL || t[1] == NULL || t[2] == NULL || t[3] == NULL)
        return sfri_import_format(im, "scale, bias, mean and variance are all needed");
    float eps = attr_float(im->node, "epsilon", 1e-5f);
    if (eps != SFRI_BN_EPS)
        return sfri_import_unsupported(im, "epsilon %g: libsfr's batch norm uses 1e-05",
                                       (double)eps);
    int id = -1;
    const int64_t c = shape_of(im, x->layer)->c;
    sfr_status built = sfr_net_batchnorm(im->net, x->layer, &id);
    st = added(im, built, id, x->rank, t[0]->name);
    static const char *const what[4] = {"scale", "bias", "running mean", "running variance"};
    for (int i = 0; i < 4 && st == SFR_OK; i++)
        st = source(im, i >= 2, t[i], 1, c, 0, what[i]);
    return st;
}

static sfr_status activation(struct sfri_importer *im, int kind)
{
    sfr_status st = SFR_OK;
    struct sfri_value *x = layer_input(im, 0, &st);
    if (st != SFR_OK)
        return st;
    int id = -1;
    st = kind == 0 ? sfr_net_relu(im->net, x->layer, &id)
                   : sfr_net_activation(im->net, x->layer, kind, &id);
    return added(im, st, id, x->rank, NULL);
}

static sfr_status hard_sigmoid(struct sfri_importer *im)
{
    float alpha = attr_float(im->node, "alpha", 0.2f), beta = attr_float(im->node, "beta", 0.5f);
    if (fabsf(alpha - 1.0f / 6.0f) > 1e-6f || beta != 0.5f)
        return sfri_import_unsupported(im, "alpha %g, beta %g: libsfr's hard sigmoid is "
                                       "PyTorch's (alpha 1/6, beta 0.5)", (double)alpha,
                                       (double)beta);
    return activation(im, SFR_ACT_HARDSIGMOID);
}

static sfr_status pool(struct sfri_importer *im, int average)
{
    const Onnx__NodeProto *n = im->node;
    sfr_status st = SFR_OK;
    int pre = 0;
    struct sfri_value *x = average ? padded_input(im, 0, &pre, &st) : layer_input(im, 0, &st);
    if (st != SFR_OK)
        return st;
    int64_t k[2], s[2], pads[4], dil[2];
    if (!attr(n, "kernel_shape") || !attr_ints(n, "kernel_shape", k, 2, 0) ||
        !attr_ints(n, "strides", s, 2, 1) || !attr_ints(n, "pads", pads, 4, 0) ||
        !attr_ints(n, "dilations", dil, 2, 1) || !explicit_padding(n, pads) || x->rank != 4)
        return sfri_import_unsupported(im, "only 2-D pooling with a kernel and explicit padding");
    if (k[0] != k[1] || s[0] != s[1] || pads[0] != pads[1] || pads[0] != pads[2] ||
        pads[0] != pads[3] || dil[0] != 1 || dil[1] != 1 || attr_int(n, "ceil_mode", 0) != 0 ||
        (average && pads[0] > 0 && attr_int(n, "count_include_pad", 0) != 1))
        return sfri_import_unsupported(im, "libsfr pools square windows with equal strides and "
                                       "padding, no dilation, floor rounding%s",
                                       average ? ", padding counted" : "");
    if (pre > 0 && pads[0] > 0)
        return sfri_import_unsupported(im, "padding both by a Pad node and by the pooling");
    pads[0] += pre; /* a Pad node's zeros, counted as count_include_pad counts them */
    if (k[0] < 1 || k[0] > INT32_MAX || s[0] < 1 || s[0] > INT32_MAX || pads[0] < 0 ||
        pads[0] > INT32_MAX)
        return sfri_import_unsupported(im, "a size out of range");
    int id = -1;
    st = average ? sfr_net_avgpool(im->net, x->layer, (int)k[0], (int)s[0], (int)pads[0], &id)
                 : sfr_net_maxpool(im->net, x->layer, (int)k[0], (int)s[0], (int)pads[0], &id);
    return added(im, st, id, 4, NULL);
}

static sfr_status global_pool(struct sfri_importer *im)
{
    sfr_status st = SFR_OK;
    struct sfri_value *x = layer_input(im, 0, &st);
    if (st != SFR_OK)
        return st;
    if (x->rank != 4)
        return sfri_import_unsupported(im, "the input is not (N, C, H, W)");
    int id = -1;
    sfr_status built = sfr_net_global_avgpool(im->net, x->layer, &id);
    return added(im, built, id, 4, NULL);
}

/* The same layer seen with another rank (Flatten, Reshape, Squeeze, Unsqueeze, Identity). */
static sfr_status view(struct sfri_importer *im, int rank)
{
    sfr_status st = SFR_OK;
    struct sfri_value *x = layer_input(im, 0, &st);
    if (st != SFR_OK)
        return st;
    const struct sfri_layer *l = shape_of(im, x->layer);
    if (rank == 4 && x->rank == 2 && (l->h != 1 || l->w != 1))
        return sfri_import_unsupported(im, "a flattened (%d, %d, %d) map made 4-D again: libsfr "
                                       "keeps maps as they are", l->c, l->h, l->w);
    struct sfri_value v = *x;
    v.rank = rank ? rank : x->rank;
    return define(im, v);
}

static sfr_status flatten(struct sfri_importer *im)
{
    if (attr_int(im->node, "axis", 1) != 1)
        return sfri_import_unsupported(im, "only axis 1 (N, C*H*W)");
    return view(im, 2);
}

/* A Reshape to (N, C*H*W) or back to the layer's (N, C, H, W). */
static sfr_status reshape(struct sfri_importer *im)
{
    sfr_status st = SFR_OK;
    struct sfri_value *x = layer_input(im, 0, &st);
    const Onnx__TensorProto *shape = x ? const_input(im, 1, 1, &st) : NULL;
    if (st != SFR_OK)
        return st;
    if (shape == NULL)
        return sfri_import_unsupported(im, "the shape is computed: libsfr takes constant shapes");
    int64_t dims[4];
    int n = 0;
    if ((st = sfri_tensor_ints(im, shape, dims, 4, &n, "the shape")) != SFR_OK)
        return st;
    const struct sfri_layer *l = shape_of(im, x->layer);
    const int64_t features = (int64_t)l->c * l->h * l->w;
    if (n == 2 && (dims[1] == -1 || dims[1] == features))
        return view(im, 2);
    if (n == 4 && dims[1] == l->c && dims[2] == l->h && dims[3] == l->w)
        return view(im, 4);
    return sfri_import_unsupported(im, "a reshape other than a flatten (libsfr keeps maps as "
                                   "they are)");
}

/* The axes of a Squeeze, Unsqueeze or ReduceMean (an attribute before opset
 * 13, or 18 for ReduceMean; an input after), at most 4, into axes. */
static sfr_status axes_of(struct sfri_importer *im, int from_input, int64_t *axes, int *count)
{
    const Onnx__AttributeProto *a = attr(im->node, "axes");
    if (!from_input) {
        if (a == NULL || a->n_ints > 4)
            return sfri_import_unsupported(im, "needs at most four axes");
        *count = (int)a->n_ints;
        if (*count > 0)
            memcpy(axes, a->ints, (size_t)*count * sizeof *axes);
        return SFR_OK;
    }
    sfr_status st = SFR_OK;
    const Onnx__TensorProto *t = const_input(im, 1, 1, &st);
    if (st == SFR_OK && t == NULL)
        st = sfri_import_unsupported(im, "needs constant axes");
    return st == SFR_OK ? sfri_tensor_ints(im, t, axes, 4, count, "the axes") : st;
}

/* Whether the axes (of a tensor of the given rank) are all spatial (2 and 3). */
static int spatial_axes(const int64_t *axes, int count, int rank)
{
    for (int i = 0; i < count; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + rank : axes[i];
        if (a < 2 || a > 3)
            return 0;
    }
    return count > 0;
}

/* Squeeze or Unsqueeze of the trailing axes of a 1 x 1 map: the same layer. */
static sfr_status squeeze(struct sfri_importer *im, int unsqueeze)
{
    int64_t axes[4];
    int count = 0;
    sfr_status st = axes_of(im, im->opset >= 13, axes, &count);
    struct sfri_value *x = st == SFR_OK ? layer_input(im, 0, &st) : NULL;
    if (st != SFR_OK)
        return st;
    const struct sfri_layer *l = shape_of(im, x->layer);
    int rank = unsqueeze ? x->rank + count : x->rank - count;
    if (l->h != 1 || l->w != 1 || rank < 2 || rank > 4 ||
        !spatial_axes(axes, count, unsqueeze ? rank : x->rank))
        return sfri_import_unsupported(im, "only the axes 2 and 3 of a 1 x 1 map");
    struct sfri_value v = *x;
    v.rank = rank;
    return define(im, v);
}

/* ReduceMean over H and W: a global average pool, (N, C) without keepdims. */
static sfr_status reduce_mean(struct sfri_importer *im)
{
    int64_t axes[4];
    int count = 0;
    sfr_status st = axes_of(im, im->opset >= 18, axes, &count);
    struct sfri_value *x = st == SFR_OK ? layer_input(im, 0, &st) : NULL;
    if (st != SFR_OK)
        return st;
    if (x->rank != 4 || count != 2 || !spatial_axes(axes, count, 4) || axes[0] == axes[1])
        return sfri_import_unsupported(im, "only the mean over H and W of an (N, C, H, W) map");
    int id = -1;
    int rank = attr_int(im->node, "keepdims", 1) ? 4 : 2;
    sfr_status built = sfr_net_global_avgpool(im->net, x->layer, &id);
    return added(im, built, id, rank, NULL);
}

/* Pad with zeros, the same around H and W only: kept for the pooling or
 * convolution that reads it. */
static sfr_status pad(struct sfri_importer *im)
{
    const Onnx__AttributeProto *mode = attr(im->node, "mode");
    if (mode != NULL && mode->has_s &&
        !(mode->s.len == 8 && memcmp(mode->s.data, "constant", 8) == 0))
        return sfri_import_unsupported(im, "only zero padding (mode constant)");
    sfr_status st = SFR_OK;
    struct sfri_value *x = layer_input(im, 0, &st);
    const Onnx__TensorProto *p = x ? const_input(im, 1, 1, &st) : NULL;
    const Onnx__TensorProto *value = p ? const_input(im, 2, -1, &st) : NULL;
    if (st != SFR_OK)
        return st;
    int64_t pads[8];
    int n = 0;
    if (im->opset < 11 || p == NULL ||
        (st = sfri_tensor_ints(im, p, pads, 8, &n, "pads")) != SFR_OK)
        return st != SFR_OK ? st : sfri_import_unsupported(im, "needs constant pads (opset 11+)");
    if (value != NULL && (sfri_tensor_float_data(im, value, 1, "the padding value") != SFR_OK ||
                          (value->has_raw_data ? sfri_le_get_u32(value->raw_data.data) != 0
                                               : value->float_data[0] != 0.0f)))
        return sfri_import_unsupported(im, "only zero padding");
    if (n != 8 || x->rank != 4 || pads[0] || pads[1] || pads[4] || pads[5] || pads[2] < 1 ||
        pads[2] > 65536 || pads[3] != pads[2] || pads[6] != pads[2] || pads[7] != pads[2])
        return sfri_import_unsupported(im, "only the same padding on every side of H and W");
    struct sfri_value v = *x;
    v.pad = (int)pads[2];
    return define(im, v);
}

/* Gemm (A B^T + C with transB) or MatMul (A B, its bias from a following Add). */
static sfr_status linear(struct sfri_importer *im, int matmul)
{
    const Onnx__NodeProto *n = im->node;
    sfr_status st = SFR_OK;
    struct sfri_value *x = layer_input(im, 0, &st);
    const Onnx__TensorProto *b = x ? const_input(im, 1, 2, &st) : NULL;
    const Onnx__TensorProto *c = b && !matmul ? const_input(im, 2, -1, &st) : NULL;
    if (st != SFR_OK)
        return st;
    if (b == NULL)
        return sfri_import_format(im, "no weight");
    int trans_b = matmul ? 0 : (int)attr_int(n, "transB", 0);
    if (x->rank != 2 || (!matmul && (attr_int(n, "transA", 0) != 0 ||
                                     attr_float(n, "alpha", 1.0f) != 1.0f ||
                                     attr_float(n, "beta", 1.0f) != 1.0f)))
        return sfri_import_unsupported(im, "libsfr's linear layer is flatten(x) W^T + b");
    const int64_t k = trans_b ? b->dims[0] : b->dims[1], f = trans_b ? b->dims[1] : b->dims[0];
    const struct sfri_layer *l = shape_of(im, x->layer);
    if (f != (int64_t)l->c * l->h * l->w || k < 1 || k > INT32_MAX)
        return sfri_import_format(im, "the weight is (%lld, %lld) for %lld features in",
                                  (long long)b->dims[0], (long long)b->dims[1],
                                  (long long)l->c * l->h * l->w);
    if (c != NULL && sfri_tensor_count(c) != k)
        return sfri_import_unsupported(im, "the bias must have one value per output");
    int id = -1;
    sfr_status built = sfr_net_linear(im->net, x->layer, (int)k, &id);
    st = added(im, built, id, 2, b->name);
    if (st == SFR_OK)
        st = source(im, 0, b, k, f, !trans_b, "weight");
    if (st == SFR_OK)
        st = source(im, 0, c, 1, k, 0, "bias");
    if (st == SFR_OK && matmul) /* an Add may bring the bias */
        sfri_import_find(im, n->output[0])->pending_bias = (int)im->n_params - 1;
    return st;
}

/* Add: a residual join of two layers, or a MatMul's bias. */
static sfr_status add(struct sfri_importer *im)
{
    const Onnx__NodeProto *n = im->node;
    sfr_status st = SFR_OK;
    if (n->n_input != 2)
        return sfri_import_format(im, "Add takes two inputs");
    struct sfri_value *a = sfri_import_find(im, n->input[0]);
    struct sfri_value *b = sfri_import_find(im, n->input[1]);
    if (a == NULL || b == NULL)
        return sfri_import_format(im, "an input is not made before this node");
    if (a->layer < 0) {
        struct sfri_value *t = a;
        a = b;
        b = t;
    }
    if (a->layer >= 0 && b->layer < 0) {
        if (a->pending_bias < 0)
            return sfri_import_unsupported(im, "adding a constant to a layer's output (other "
                                           "than a MatMul's bias)");
        struct sfri_source *s = &im->params[a->pending_bias];
        if ((st = sfri_tensor_float_data(im, b->init, s->cols, "bias")) != SFR_OK)
            return st;
        s->t = b->init;
        struct sfri_value v = *a;
        v.pending_bias = -1;
        return define(im, v);
    }
    if (a->layer < 0 || a->rank != b->rank)
        return sfri_import_unsupported(im, "adding two constants, or maps of other ranks");
    int id = -1;
    sfr_status built = sfr_net_add(im->net, a->layer, b->layer, &id);
    return added(im, built, id, a->rank, NULL);
}

static sfr_status mul(struct sfri_importer *im)
{
    sfr_status st = SFR_OK;
    struct sfri_value *a = layer_input(im, 0, &st);
    struct sfri_value *b = a ? layer_input(im, 1, &st) : NULL;
    if (st != SFR_OK)
        return st;
    const struct sfri_layer *la = shape_of(im, a->layer), *lb = shape_of(im, b->layer);
    if (la->h * la->w == 1 && lb->h * lb->w > 1) { /* the broadcast one second */
        struct sfri_value *t = a;
        a = b;
        b = t;
    }
    if (a->rank != 4 || b->rank != 4)
        return sfri_import_unsupported(im, "only products of (N, C, H, W) maps");
    int id = -1;
    sfr_status built = sfr_net_mul(im->net, a->layer, b->layer, &id);
    return added(im, built, id, 4, NULL);
}

static sfr_status concat(struct sfri_importer *im)
{
    const Onnx__NodeProto *n = im->node;
    int64_t axis = attr_int(n, "axis", 0);
    if ((axis != 1 && axis != -3) || n->n_input < 2)
        return sfri_import_unsupported(im, "only concatenations along the channels");
    sfr_status st = SFR_OK;
    struct sfri_value *acc = layer_input(im, 0, &st);
    int id = acc ? acc->layer : -1;
    for (size_t k = 1; k < n->n_input && st == SFR_OK; k++) {
        struct sfri_value *x = layer_input(im, k, &st);
        if (st != SFR_OK)
            return st;
        if (x->rank != 4 || acc->rank != 4)
            return sfri_import_unsupported(im, "only (N, C, H, W) maps");
        st = sfr_net_concat(im->net, id, x->layer, &id);
        if (st == SFR_OK)
            im->last_layer = id;
    }
    return st == SFR_OK ? added(im, st, id, 4, NULL) : added(im, st, -1, 4, NULL);
}

static sfr_status dropout(struct sfri_importer *im)
{
    sfr_status st = SFR_OK;
    struct sfri_value *x = layer_input(im, 0, &st);
    if (st != SFR_OK)
        return st;
    float ratio = attr_float(im->node, "ratio", 0.5f);
    if (im->opset >= 12) {
        const Onnx__TensorProto *r = const_input(im, 1, -1, &st);
        if (st != SFR_OK)
            return st;
        ratio = 0.5f;
        if (r != NULL) {
            if ((st = sfri_tensor_float_data(im, r, 1, "ratio")) != SFR_OK)
                return st;
            ratio = r->has_raw_data ? sfri_bits_f32(sfri_le_get_u32(r->raw_data.data))
                                    : r->float_data[0];
        }
    }
    if (ratio == 0.0f)
        return view(im, 0);
    int id = -1;
    sfr_status built = sfr_net_dropout(im->net, x->layer, ratio, &id);
    return added(im, built, id, x->rank, NULL);
}

static sfr_status constant(struct sfri_importer *im)
{
    const Onnx__AttributeProto *a = attr(im->node, "value");
    if (a == NULL || a->t == NULL || im->node->n_attribute != 1)
        return sfri_import_unsupported(im, "only a Constant holding a tensor ('value')");
    return define(im, (struct sfri_value){.layer = -1, .init = a->t, .pending_bias = -1});
}

sfr_status sfri_import_node(struct sfri_importer *im, const Onnx__NodeProto *node)
{
    const char *op = node->op_type;
    if (node->domain != NULL && node->domain[0] != '\0' && strcmp(node->domain, "ai.onnx") != 0)
        return sfri_import_unsupported(im, "domain '%s' is not ONNX's", node->domain);
    if (strcmp(op, "Conv") == 0) return conv(im);
    if (strcmp(op, "BatchNormalization") == 0) return batchnorm(im);
    if (strcmp(op, "Relu") == 0) return activation(im, 0);
    if (strcmp(op, "Sigmoid") == 0) return activation(im, SFR_ACT_SIGMOID);
    if (strcmp(op, "HardSwish") == 0) return activation(im, SFR_ACT_HARDSWISH);
    if (strcmp(op, "HardSigmoid") == 0) return hard_sigmoid(im);
    if (strcmp(op, "MaxPool") == 0) return pool(im, 0);
    if (strcmp(op, "AveragePool") == 0) return pool(im, 1);
    if (strcmp(op, "GlobalAveragePool") == 0) return global_pool(im);
    if (strcmp(op, "Flatten") == 0) return flatten(im);
    if (strcmp(op, "Reshape") == 0) return reshape(im);
    if (strcmp(op, "Squeeze") == 0) return squeeze(im, 0);
    if (strcmp(op, "Unsqueeze") == 0) return squeeze(im, 1);
    if (strcmp(op, "ReduceMean") == 0) return reduce_mean(im);
    if (strcmp(op, "Pad") == 0) return pad(im);
    if (strcmp(op, "Gemm") == 0) return linear(im, 0);
    if (strcmp(op, "MatMul") == 0) return linear(im, 1);
    if (strcmp(op, "Add") == 0) return add(im);
    if (strcmp(op, "Mul") == 0) return mul(im);
    if (strcmp(op, "Concat") == 0) return concat(im);
    if (strcmp(op, "Dropout") == 0) return dropout(im);
    if (strcmp(op, "Identity") == 0) return view(im, 0);
    if (strcmp(op, "Constant") == 0) return constant(im);
    return sfri_import_unsupported(im, "operator '%s' is not one libsfr has", op);
}
