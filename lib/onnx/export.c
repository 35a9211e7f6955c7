/*
 * sfr_net_export_onnx: a net as an ONNX model for inference (opset 14),
 * built as protobuf-c messages from the onnx.proto Debian ships and packed
 * by protobuf-c. Batch norm runs on its running statistics, dropout is the
 * identity. Only the layers the output depends on are written (a branch
 * that only a tap reads is training machinery). The mapping is documented
 * in docs/interop.md.
 *
 * Values: the graph input is named after the input layer, every other
 * layer's (N, C, H, W) output after its layer, and the graph output is
 * "logits" (N, K). Nodes carry their layer's name (helper nodes a layer
 * needs get "<layer>/<what>"), initializers their tensors' names
 * (sfr_net_param_info, sfr_net_buffer_info).
 */
#include <math.h>
#include <string.h>

#include "../common/bytes.h"
#include "../common/common.h"
#include "../common/file_io.h"
#include "../net/checkpoint.h"
#include "../net/net_impl.h"
#include "arena.h"
#include "onnx.pb-c.h"
#include "sfr/onnx.h"
#include "sfr/version.h"

#define OPSET 14
#define IR_VERSION 7

struct exporter {
    const sfr_net *net;
    struct sfri_arena arena;
    Onnx__NodeProto **nodes;
    size_t n_nodes, cap_nodes;
    Onnx__TensorProto **inits;
    size_t n_inits, cap_inits;
    const char **value; /* (n_layers) the value holding each layer's 4-D output */
};

static char *str(struct exporter *ex, const char *s)
{
    return sfri_arena_printf(&ex->arena, "%s", s);
}

/* A node op(inputs) -> output, named name; NULL when memory ran out. */
static Onnx__NodeProto *node(struct exporter *ex, const char *op, const char *name,
                             const char *const *inputs, int n_in, const char *output)
{
    Onnx__NodeProto *n = sfri_arena_alloc(&ex->arena, sizeof *n);
    char **in = sfri_arena_alloc(&ex->arena, (size_t)n_in * sizeof *in);
    char **out = sfri_arena_alloc(&ex->arena, sizeof *out);
    if (n == NULL || in == NULL || out == NULL)
        return NULL;
    onnx__node_proto__init(n);
    for (int i = 0; i < n_in; i++)
        in[i] = str(ex, inputs[i]);
    out[0] = str(ex, output);
    n->n_input = (size_t)n_in;
    n->input = in;
    n->n_output = 1;
    n->output = out;
    n->name = str(ex, name);
    n->op_type = str(ex, op);
    n->domain = str(ex, "");
    Onnx__NodeProto **nodes =
        sfri_arena_grow(&ex->arena, ex->nodes, ex->n_nodes, &ex->cap_nodes, sizeof *nodes);
    if (nodes == NULL)
        return NULL;
    ex->nodes = nodes;
    ex->nodes[ex->n_nodes++] = n;
    return n;
}

static Onnx__AttributeProto *attribute(struct exporter *ex, Onnx__NodeProto *n, const char *name,
                                       Onnx__AttributeProto__AttributeType type)
{
    if (n == NULL)
        return NULL;
    Onnx__AttributeProto *a = sfri_arena_alloc(&ex->arena, sizeof *a);
    Onnx__AttributeProto **list =
        sfri_arena_alloc(&ex->arena, (n->n_attribute + 1) * sizeof *list);
    if (a == NULL || list == NULL)
        return NULL;
    onnx__attribute_proto__init(a);
    a->name = str(ex, name);
    a->has_type = 1;
    a->type = type;
    if (n->n_attribute > 0)
        memcpy(list, n->attribute, n->n_attribute * sizeof *list);
    list[n->n_attribute++] = a;
    n->attribute = list;
    return a;
}

static void attr_int(struct exporter *ex, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attribute(ex, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a != NULL) {
        a->has_i = 1;
        a->i = v;
    }
}

static void attr_float(struct exporter *ex, Onnx__NodeProto *n, const char *name, float v)
{
    Onnx__AttributeProto *a =
        attribute(ex, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a != NULL) {
        a->has_f = 1;
        a->f = v;
    }
}

static void attr_ints(struct exporter *ex, Onnx__NodeProto *n, const char *name, int count,
                      const int64_t *v)
{
    Onnx__AttributeProto *a = attribute(ex, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *copy = sfri_arena_alloc(&ex->arena, (size_t)count * sizeof *copy);
    if (a != NULL && copy != NULL) {
        memcpy(copy, v, (size_t)count * sizeof *copy);
        a->n_ints = (size_t)count;
        a->ints = copy;
    }
}

/* An initializer: dims (ndims of them), n elements of type from raw little-endian bytes. */
static void initializer(struct exporter *ex, const char *name, int32_t type, const int64_t *dims,
                        int ndims, const void *le_bytes, size_t bytes)
{
    Onnx__TensorProto *t = sfri_arena_alloc(&ex->arena, sizeof *t);
    int64_t *d = sfri_arena_alloc(&ex->arena, (size_t)ndims * sizeof *d);
    uint8_t *data = sfri_arena_alloc(&ex->arena, bytes);
    if (t == NULL || d == NULL || data == NULL)
        return;
    onnx__tensor_proto__init(t);
    if (ndims > 0) /* a scalar has no dims */
        memcpy(d, dims, (size_t)ndims * sizeof *d);
    memcpy(data, le_bytes, bytes);
    t->n_dims = (size_t)ndims;
    t->dims = d;
    t->has_data_type = 1;
    t->data_type = type;
    t->name = str(ex, name);
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = data;
    Onnx__TensorProto **inits =
        sfri_arena_grow(&ex->arena, ex->inits, ex->n_inits, &ex->cap_inits, sizeof *inits);
    if (inits != NULL) {
        ex->inits = inits;
        ex->inits[ex->n_inits++] = t;
    }
}

/* n floats at x as a float initializer of shape dims. */
static void floats(struct exporter *ex, const char *name, const int64_t *dims, int ndims,
                   const float *x, int64_t n)
{
    unsigned char *le = sfri_arena_alloc(&ex->arena, (size_t)n * 4);
    if (le == NULL)
        return;
    struct sfri_writer w = {le, 0};
    sfri_put_f32s(&w, x, n);
    initializer(ex, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, ndims, le, w.size);
}

/* A scalar float constant named name. */
static const char *scalar(struct exporter *ex, const char *name, float v)
{
    floats(ex, name, NULL, 0, &v, 1);
    return name;
}

static void conv(struct exporter *ex, const struct sfri_layer *l, const char *in, const char *out)
{
    const sfr_net *net = ex->net;
    const struct sfri_layer *src = net->layers[l->in[0]];
    const float *w = net->params + l->param_off;
    const int64_t wdims[4] = {l->c, src->c / l->groups, l->kh, l->kw};
    floats(ex, l->weight_name, wdims, 4, w, l->weight_size);
    const char *inputs[3] = {in, l->weight_name, l->bias_name};
    if (l->bias_size > 0) {
        const int64_t bdims[1] = {l->c};
        floats(ex, l->bias_name, bdims, 1, w + l->weight_size, l->bias_size);
    }
    Onnx__NodeProto *n = node(ex, "Conv", l->name, inputs, l->bias_size > 0 ? 3 : 2, out);
    const int64_t kernel[2] = {l->kh, l->kw}, strides[2] = {l->sh, l->sw};
    const int64_t pads[4] = {l->pad_t, l->pad_l, l->pad_b, l->pad_r};
    const int64_t dilations[2] = {l->dil_h, l->dil_w};
    attr_ints(ex, n, "kernel_shape", 2, kernel);
    attr_ints(ex, n, "strides", 2, strides);
    attr_ints(ex, n, "pads", 4, pads);
    attr_ints(ex, n, "dilations", 2, dilations);
    attr_int(ex, n, "group", l->groups);
}

static void batchnorm(struct exporter *ex, const struct sfri_layer *l, const char *in,
                      const char *out)
{
    const sfr_net *net = ex->net;
    const int64_t dims[1] = {l->c};
    floats(ex, l->weight_name, dims, 1, net->params + l->param_off, l->c);
    floats(ex, l->bias_name, dims, 1, net->params + l->param_off + l->c, l->c);
    floats(ex, l->mean_name, dims, 1, net->state + l->state_off, l->c);
    floats(ex, l->var_name, dims, 1, net->state + l->state_off + l->c, l->c);
    const char *inputs[5] = {in, l->weight_name, l->bias_name, l->mean_name, l->var_name};
    Onnx__NodeProto *n = node(ex, "BatchNormalization", l->name, inputs, 5, out);
    attr_float(ex, n, "epsilon", SFRI_BN_EPS);
    attr_float(ex, n, "momentum", 1.0f - SFRI_BN_MOMENTUM); /* ONNX weighs the old value */
}

static void pool(struct exporter *ex, const struct sfri_layer *l, const char *op, const char *in,
                 const char *out)
{
    Onnx__NodeProto *n = node(ex, op, l->name, &in, 1, out);
    const int64_t kernel[2] = {l->kernel, l->kernel}, strides[2] = {l->stride, l->stride};
    const int64_t pads[4] = {l->pad, l->pad, l->pad, l->pad};
    attr_ints(ex, n, "kernel_shape", 2, kernel);
    attr_ints(ex, n, "strides", 2, strides);
    attr_ints(ex, n, "pads", 4, pads);
    if (l->kind == SFRI_LAYER_AVGPOOL)
        attr_int(ex, n, "count_include_pad", 1);
}

/* Flatten then Gemm; back to (N, K, 1, 1) unless it is the graph's output. */
static void linear(struct exporter *ex, const struct sfri_layer *l, const char *in,
                   const char *out, int last)
{
    const sfr_net *net = ex->net;
    const float *w = net->params + l->param_off;
    const int64_t wdims[2] = {l->c, l->weight_size / l->c}, bdims[1] = {l->c};
    floats(ex, l->weight_name, wdims, 2, w, l->weight_size);
    floats(ex, l->bias_name, bdims, 1, w + l->weight_size, l->bias_size);
    const char *flat = sfri_arena_printf(&ex->arena, "%s/flat", l->name);
    const char *gemm_out = last ? out : sfri_arena_printf(&ex->arena, "%s/2d", l->name);
    if (flat == NULL || gemm_out == NULL)
        return;
    attr_int(ex, node(ex, "Flatten", flat, &in, 1, flat), "axis", 1);
    const char *inputs[3] = {flat, l->weight_name, l->bias_name};
    attr_int(ex, node(ex, "Gemm", l->name, inputs, 3, gemm_out), "transB", 1);
    if (!last) {
        const char *axes = sfri_arena_printf(&ex->arena, "%s/axes", l->name);
        const char *name = sfri_arena_printf(&ex->arena, "%s/unsqueeze", l->name);
        if (axes == NULL || name == NULL)
            return;
        const int64_t dims[1] = {2};
        const unsigned char le[16] = {2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0};
        initializer(ex, axes, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, dims, 1, le, sizeof le);
        const char *un_in[2] = {gemm_out, axes};
        node(ex, "Unsqueeze", name, un_in, 2, out);
    }
}

/* One node out = op(a, b), named "<layer>/<what>" (or the layer's when what is NULL). */
static void binary(struct exporter *ex, const struct sfri_layer *l, const char *what,
                   const char *op, const char *a, const char *b, const char *out)
{
    const char *name = what ? sfri_arena_printf(&ex->arena, "%s/%s", l->name, what) : l->name;
    const char *inputs[2] = {a, b};
    if (name != NULL)
        node(ex, op, name, inputs, 2, out);
}

/* The activations ONNX opset 14 has no single operator for, in its operators. */
static void activation(struct exporter *ex, const struct sfri_layer *l, const char *in,
                       const char *out)
{
    struct sfri_arena *a = &ex->arena;
#define TMP(what) sfri_arena_printf(a, "%s/%s", l->name, what)
    switch (l->act) {
    case SFR_ACT_SIGMOID:
        node(ex, "Sigmoid", l->name, &in, 1, out);
        break;
    case SFR_ACT_HARDSWISH:
        node(ex, "HardSwish", l->name, &in, 1, out);
        break;
    case SFR_ACT_HARDSIGMOID: {
        Onnx__NodeProto *n = node(ex, "HardSigmoid", l->name, &in, 1, out);
        attr_float(ex, n, "alpha", 1.0f / 6.0f);
        attr_float(ex, n, "beta", 0.5f);
        break;
    }
    case SFR_ACT_SILU: { /* x * sigmoid(x) */
        const char *sig = TMP("sigmoid");
        if (sig != NULL && node(ex, "Sigmoid", sig, &in, 1, sig) != NULL)
            binary(ex, l, NULL, "Mul", in, sig, out);
        break;
    }
    case SFR_ACT_GELU: { /* x * (erf(x / sqrt 2) + 1) * 0.5 */
        const char *c_sqrt2 = scalar(ex, TMP("sqrt2"), (float)sqrt(2.0));
        const char *c_one = scalar(ex, TMP("one"), 1.0f), *c_half = scalar(ex, TMP("half"), 0.5f);
        const char *t1 = TMP("div"), *t2 = TMP("erf"), *t3 = TMP("add"), *t4 = TMP("mul");
        binary(ex, l, "div", "Div", in, c_sqrt2, t1);
        node(ex, "Erf", t2, &t1, 1, t2);
        binary(ex, l, "add", "Add", t2, c_one, t3);
        binary(ex, l, "mul", "Mul", in, t3, t4);
        binary(ex, l, NULL, "Mul", t4, c_half, out);
        break;
    }
    case SFR_ACT_GELU_TANH: { /* 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) */
        const char *c_k = scalar(ex, TMP("k"), 0.044715f);
        const char *c_s = scalar(ex, TMP("sqrt_2_over_pi"), (float)sqrt(2.0 / M_PI));
        const char *c_one = scalar(ex, TMP("one"), 1.0f), *c_half = scalar(ex, TMP("half"), 0.5f);
        const char *x2 = TMP("x2"), *x3 = TMP("x3"), *kx3 = TMP("kx3"), *inner = TMP("inner");
        const char *scaled = TMP("scaled"), *th = TMP("tanh"), *plus = TMP("plus1");
        const char *prod = TMP("prod");
        binary(ex, l, "x2", "Mul", in, in, x2);
        binary(ex, l, "x3", "Mul", x2, in, x3);
        binary(ex, l, "kx3", "Mul", x3, c_k, kx3);
        binary(ex, l, "inner", "Add", in, kx3, inner);
        binary(ex, l, "scaled", "Mul", inner, c_s, scaled);
        node(ex, "Tanh", th, &scaled, 1, th);
        binary(ex, l, "plus1", "Add", th, c_one, plus);
        binary(ex, l, "prod", "Mul", in, plus, prod);
        binary(ex, l, NULL, "Mul", prod, c_half, out);
        break;
    }
    default:
        break;
    }
#undef TMP
}

/* The nodes of layer i, reading the values of its inputs. */
static void layer_nodes(struct exporter *ex, int i, int last)
{
    const struct sfri_layer *l = ex->net->layers[i];
    const char *in = l->in[0] >= 0 ? ex->value[l->in[0]] : NULL;
    const char *in1 = l->in[1] >= 0 ? ex->value[l->in[1]] : NULL;
    /* A 4-D last layer is flattened into "logits" by the caller. */
    const char *out = last && l->kind == SFRI_LAYER_LINEAR ? "logits" : l->name;
    ex->value[i] = out;
    switch (l->kind) {
    case SFRI_LAYER_INPUT: ex->value[i] = l->name; break;
    case SFRI_LAYER_CONV: conv(ex, l, in, out); break;
    case SFRI_LAYER_BN: batchnorm(ex, l, in, out); break;
    case SFRI_LAYER_RELU: node(ex, "Relu", l->name, &in, 1, out); break;
    case SFRI_LAYER_MAXPOOL: pool(ex, l, "MaxPool", in, out); break;
    case SFRI_LAYER_AVGPOOL: pool(ex, l, "AveragePool", in, out); break;
    case SFRI_LAYER_GAP: node(ex, "GlobalAveragePool", l->name, &in, 1, out); break;
    case SFRI_LAYER_LINEAR: linear(ex, l, in, out, last); break;
    case SFRI_LAYER_ADD: binary(ex, l, NULL, "Add", in, in1, out); break;
    case SFRI_LAYER_MUL: binary(ex, l, NULL, "Mul", in, in1, out); break;
    case SFRI_LAYER_CONCAT: {
        const char *inputs[2] = {in, in1};
        attr_int(ex, node(ex, "Concat", l->name, inputs, 2, out), "axis", 1);
        break;
    }
    case SFRI_LAYER_ACT: activation(ex, l, in, out); break;
    case SFRI_LAYER_DROPOUT: ex->value[i] = in; break; /* inference: the identity */
    default: break;
    }
}

/* A (batch, dims...) float tensor type for a graph input or output. */
static Onnx__ValueInfoProto *value_info(struct exporter *ex, const char *name, const int64_t *dims,
                                        int ndims)
{
    Onnx__ValueInfoProto *v = sfri_arena_alloc(&ex->arena, sizeof *v);
    Onnx__TypeProto *type = sfri_arena_alloc(&ex->arena, sizeof *type);
    Onnx__TypeProto__Tensor *tensor = sfri_arena_alloc(&ex->arena, sizeof *tensor);
    Onnx__TensorShapeProto *shape = sfri_arena_alloc(&ex->arena, sizeof *shape);
    Onnx__TensorShapeProto__Dimension **dim =
        sfri_arena_alloc(&ex->arena, (size_t)(ndims + 1) * sizeof *dim);
    if (v == NULL || type == NULL || tensor == NULL || shape == NULL || dim == NULL)
        return NULL;
    for (int i = 0; i <= ndims; i++) {
        dim[i] = sfri_arena_alloc(&ex->arena, sizeof *dim[i]);
        if (dim[i] == NULL)
            return NULL;
        onnx__tensor_shape_proto__dimension__init(dim[i]);
        if (i == 0) {
            dim[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dim[i]->dim_param = str(ex, "batch");
        } else {
            dim[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim[i]->dim_value = dims[i - 1];
        }
    }
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(type);
    onnx__type_proto__tensor__init(tensor);
    onnx__tensor_shape_proto__init(shape);
    shape->n_dim = (size_t)ndims + 1;
    shape->dim = dim;
    tensor->has_elem_type = 1;
    tensor->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tensor->shape = shape;
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tensor;
    v->name = str(ex, name);
    v->type = type;
    return v;
}

/* Marks the layers the last one depends on. */
static void mark_needed(const sfr_net *net, char *needed)
{
    needed[net->n_layers - 1] = 1;
    for (int i = net->n_layers - 1; i >= 0; i--)
        for (int k = 0; needed[i] && k < 2; k++)
            if (net->layers[i]->in[k] >= 0)
                needed[net->layers[i]->in[k]] = 1;
}

/* The model, its messages in ex's arena; SFR_ERR_NOMEM when memory ran out. */
static sfr_status build_model(struct exporter *ex, Onnx__ModelProto *model, const char *fn)
{
    const sfr_net *net = ex->net;
    struct sfri_arena *a = &ex->arena;
    char *needed = sfri_arena_alloc(a, (size_t)net->n_layers);
    ex->value = sfri_arena_alloc(a, (size_t)net->n_layers * sizeof *ex->value);
    if (needed == NULL || ex->value == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    mark_needed(net, needed);
    const int last = net->n_layers - 1;
    for (int i = 0; i <= last; i++)
        if (needed[i])
            layer_nodes(ex, i, i == last);
    const struct sfri_layer *out = net->layers[last];
    if (out->kind != SFRI_LAYER_LINEAR)
        attr_int(ex, node(ex, "Flatten", "logits", &ex->value[last], 1, "logits"), "axis", 1);

    const struct sfri_layer *input = net->layers[0];
    const int64_t in_dims[3] = {input->c, input->h, input->w};
    const int64_t out_dims[1] = {(int64_t)out->c * out->h * out->w};
    Onnx__GraphProto *g = sfri_arena_alloc(a, sizeof *g);
    Onnx__ValueInfoProto **inputs = sfri_arena_alloc(a, sizeof *inputs);
    Onnx__ValueInfoProto **outputs = sfri_arena_alloc(a, sizeof *outputs);
    Onnx__OperatorSetIdProto *opset = sfri_arena_alloc(a, sizeof *opset);
    Onnx__OperatorSetIdProto **opsets = sfri_arena_alloc(a, sizeof *opsets);
    if (g == NULL || inputs == NULL || outputs == NULL || opset == NULL || opsets == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    inputs[0] = value_info(ex, input->name, in_dims, 3);
    outputs[0] = value_info(ex, "logits", out_dims, 1);
    onnx__graph_proto__init(g);
    g->name = str(ex, "libsfr");
    g->n_node = ex->n_nodes;
    g->node = ex->nodes;
    g->n_initializer = ex->n_inits;
    g->initializer = ex->inits;
    g->n_input = 1;
    g->input = inputs;
    g->n_output = 1;
    g->output = outputs;
    onnx__operator_set_id_proto__init(opset);
    opset->domain = str(ex, "");
    opset->has_version = 1;
    opset->version = OPSET;
    opsets[0] = opset;
    onnx__model_proto__init(model);
    model->has_ir_version = 1;
    model->ir_version = IR_VERSION;
    model->n_opset_import = 1;
    model->opset_import = opsets;
    model->producer_name = str(ex, "libsfr");
    model->producer_version = str(ex, sfr_version_string());
    model->graph = g;
    if (a->failed)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory while building the ONNX model");
    return SFR_OK;
}

/* The checks both entry points make. */
static sfr_status check_net(const sfr_net *net, const char *fn)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (net->n_layers < 2)
        return sfri_fail(SFR_ERR_STATE, fn, "the net has no layer after its input");
    return sfri_net_check_values(net, fn); /* what a checkpoint refuses, a model does too */
}

/*
 * The model of net, packed where the caller says: into a new buffer *alloc
 * (sfri_free it) when alloc is not NULL, else into buf when it is not NULL
 * and holds capacity >= the model's bytes (SFR_ERR_SHAPE when not), else
 * nowhere. *size receives the model's size on success.
 */
static sfr_status export_model(const sfr_net *net, void *buf, size_t capacity,
                               unsigned char **alloc, size_t *size, const char *fn)
{
    struct exporter ex = {.net = net};
    Onnx__ModelProto model;
    sfr_status st = build_model(&ex, &model, fn);
    size_t need = st == SFR_OK ? protobuf_c_message_get_packed_size(&model.base) : 0;
    if (st == SFR_OK && alloc != NULL) {
        buf = *alloc = sfri_malloc(need ? need : 1);
        if (buf == NULL)
            st = sfri_fail(SFR_ERR_NOMEM, fn, "no memory for a model of %zu bytes", need);
    } else if (st == SFR_OK && buf != NULL && capacity < need) {
        st = sfri_fail(SFR_ERR_SHAPE, fn, "the model takes %zu bytes, the buffer holds %zu: "
                       "nothing written", need, capacity);
    }
    if (st == SFR_OK && buf != NULL)
        protobuf_c_message_pack(&model.base, buf);
    if (st == SFR_OK)
        *size = need;
    sfri_arena_free(&ex.arena);
    return st;
}

SFR_API sfr_status sfr_net_export_onnx(const sfr_net *net, const char *path)
{
    static const char *const fn = "sfr_net_export_onnx";
    sfr_status st = check_net(net, fn);
    if (st != SFR_OK)
        return st;
    if (path == NULL || path[0] == '\0')
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "path is %s", path == NULL ? "NULL" : "empty");
    unsigned char *bytes = NULL;
    size_t size = 0;
    if ((st = export_model(net, NULL, 0, &bytes, &size, fn)) != SFR_OK)
        return st;
    st = sfri_write_file_atomic(path, bytes, size, fn);
    sfri_free(bytes);
    return st;
}

SFR_API sfr_status sfr_net_export_onnx_memory(const sfr_net *net, void *buf, size_t capacity,
                                              size_t *size)
{
    static const char *const fn = "sfr_net_export_onnx_memory";
    sfr_status st = check_net(net, fn);
    if (st != SFR_OK)
        return st;
    if (size == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "size is NULL");
    return export_model(net, buf, capacity, NULL, size, fn);
}
