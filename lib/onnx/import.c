/*
 * sfr_net_import_onnx: a net built from an ONNX model (sfr/onnx.h). The
 * model is parsed by protobuf-c (through the library's allocator), checked,
 * reduced to the nodes its output depends on, built node by node with the
 * public builder calls (import_ops.c), then given its parameters and
 * running statistics. Anything malformed is SFR_ERR_FORMAT, anything libsfr
 * has no layer for SFR_ERR_UNSUPPORTED, naming the node; no failure leaves
 * a net behind.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/bytes.h"
#include "../common/common.h"
#include "../common/file_io.h"
#include "../net/checkpoint_format.h"
#include "import.h"
#include "sfr/onnx.h"

/* The newest opset whose semantics for the supported operators import.c knows. */
#define MAX_OPSET 17
#define MIN_OPSET 7

static uint64_t hash(const char *s)
{
    return sfri_fnv1a64(s, strlen(s));
}

struct sfri_value *sfri_import_find(struct sfri_importer *im, const char *name)
{
    if (im->cap_values == 0 || name == NULL)
        return NULL;
    for (size_t i = hash(name) & (im->cap_values - 1);; i = (i + 1) & (im->cap_values - 1)) {
        struct sfri_value *v = &im->values[i];
        if (v->name == NULL)
            return NULL;
        if (strcmp(v->name, name) == 0)
            return v;
    }
}

/* Doubles the table (or makes its first one). */
static int grow_values(struct sfri_importer *im)
{
    size_t cap = im->cap_values ? 2 * im->cap_values : 256;
    struct sfri_value *table = sfri_arena_alloc(&im->arena, sfri_mul_size(cap, sizeof *table));
    if (table == NULL)
        return 0;
    for (size_t i = 0; i < im->cap_values; i++) {
        const struct sfri_value *v = &im->values[i];
        if (v->name == NULL)
            continue;
        size_t j = hash(v->name) & (cap - 1);
        while (table[j].name != NULL)
            j = (j + 1) & (cap - 1);
        table[j] = *v;
    }
    im->values = table;
    im->cap_values = cap;
    return 1;
}

struct sfri_value *sfri_import_define(struct sfri_importer *im, const char *name,
                                      struct sfri_value v)
{
    struct sfri_value *old = sfri_import_find(im, name);
    if (old != NULL) { /* a later definition (ONNX forbids it; be strict elsewhere) */
        v.name = old->name;
        *old = v;
        return old;
    }
    if (2 * (im->n_values + 1) > im->cap_values && !grow_values(im))
        return NULL;
    size_t i = hash(name) & (im->cap_values - 1);
    while (im->values[i].name != NULL)
        i = (i + 1) & (im->cap_values - 1);
    v.name = name;
    im->values[i] = v;
    im->n_values++;
    return &im->values[i];
}

static int push_source(struct sfri_importer *im, struct sfri_source **list, size_t *n,
                       size_t *cap, struct sfri_source s)
{
    struct sfri_source *grown = sfri_arena_grow(&im->arena, *list, *n, cap, sizeof s);
    if (grown == NULL)
        return -1;
    *list = grown;
    (*list)[*n] = s;
    return (int)(*n)++;
}

int sfri_import_param(struct sfri_importer *im, struct sfri_source s)
{
    return push_source(im, &im->params, &im->n_params, &im->cap_params, s);
}

int sfri_import_buffer(struct sfri_importer *im, struct sfri_source s)
{
    return push_source(im, &im->buffers, &im->n_buffers, &im->cap_buffers, s);
}

/* name with '/' as '.', other characters a layer name may not hold as '_',
 * leading separators dropped; "" when nothing is left or it is too long. */
static void sanitize(const char *name, char out[64])
{
    size_t n = 0;
    out[0] = '\0';
    if (name == NULL)
        return;
    while (*name == '/' || *name == '.')
        name++;
    for (; *name; name++) {
        char c = *name;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '-';
        if (n == 63) {
            out[0] = '\0';
            return;
        }
        out[n++] = c == '/' ? '.' : ok ? c : '_';
    }
    out[n] = '\0';
}

void sfri_import_name_layer(struct sfri_importer *im, int layer, const char *weight_name)
{
    char name[64] = "";
    if (weight_name != NULL) {
        size_t len = strlen(weight_name);
        if (len > 7 && strcmp(weight_name + len - 7, ".weight") == 0 && len - 7 < sizeof name) {
            memcpy(name, weight_name, len - 7);
            name[len - 7] = '\0';
        }
    }
    if (name[0] == '\0')
        sanitize(im->node->name, name);
    if (name[0] == '\0' && im->node->n_output > 0)
        sanitize(im->node->output[0], name);
    int taken;
    if (name[0] != '\0' && sfr_net_find_layer(im->net, name, &taken) != SFR_OK)
        sfr_net_set_layer_name(im->net, layer, name); /* an invalid name keeps the default */
}

static sfr_status vfail(struct sfri_importer *im, sfr_status code, const char *fmt, va_list ap)
{
    char detail[384];
    vsnprintf(detail, sizeof detail, fmt, ap);
    if (im->node == NULL)
        return sfri_fail(code, im->fn, "%s", detail);
    return sfri_fail(code, im->fn, "node '%s' (%s): %s", im->node->name ? im->node->name : "",
                     im->node->op_type ? im->node->op_type : "?", detail);
}

sfr_status sfri_import_unsupported(struct sfri_importer *im, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sfr_status st = vfail(im, SFR_ERR_UNSUPPORTED, fmt, ap);
    va_end(ap);
    return st;
}

sfr_status sfri_import_format(struct sfri_importer *im, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sfr_status st = vfail(im, SFR_ERR_FORMAT, fmt, ap);
    va_end(ap);
    return st;
}

int64_t sfri_tensor_count(const Onnx__TensorProto *t)
{
    int64_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || (t->dims[i] > 0 && n > INT64_MAX / t->dims[i]))
            return -1;
        n *= t->dims[i];
    }
    return n;
}

sfr_status sfri_tensor_float_data(struct sfri_importer *im, const Onnx__TensorProto *t,
                                  int64_t count, const char *what)
{
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return sfri_import_unsupported(im, "%s '%s' is stored outside the model file", what,
                                       t->name ? t->name : "");
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return sfri_import_unsupported(im, "%s '%s' has data type %d, libsfr takes float (1)",
                                       what, t->name ? t->name : "", (int)t->data_type);
    int64_t n = sfri_tensor_count(t);
    int64_t held = t->has_raw_data ? (int64_t)(t->raw_data.len / 4) : (int64_t)t->n_float_data;
    if (n != count || held != count || (t->has_raw_data && t->raw_data.len % 4 != 0))
        return sfri_import_format(im, "%s '%s' holds %lld values (shape says %lld), %lld "
                                  "expected", what, t->name ? t->name : "", (long long)held,
                                  (long long)n, (long long)count);
    return SFR_OK;
}

sfr_status sfri_tensor_ints(struct sfri_importer *im, const Onnx__TensorProto *t, int64_t *out,
                            int max, int *n, const char *what)
{
    int64_t count = sfri_tensor_count(t);
    int64_t held = t->has_raw_data ? (int64_t)(t->raw_data.len / 8) : (int64_t)t->n_int64_data;
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 || count != held || count > max ||
        (t->has_raw_data && t->raw_data.len % 8 != 0))
        return sfri_import_unsupported(im, "%s must be at most %d int64 values", what, max);
    for (int64_t i = 0; i < count; i++)
        out[i] = t->has_raw_data ? (int64_t)sfri_le_get_u64(t->raw_data.data + 8 * i)
                                 : t->int64_data[i];
    *n = (int)count;
    return SFR_OK;
}

/* One float of a checked tensor. */
static float element(const Onnx__TensorProto *t, int64_t i)
{
    return t->has_raw_data ? sfri_bits_f32(sfri_le_get_u32(t->raw_data.data + 4 * i))
                           : t->float_data[i];
}

/* Copies the sources into a flat buffer laid out by info (param or buffer info). */
static sfr_status fill(struct sfri_importer *im, const struct sfri_source *src, size_t n,
                       float *dst, sfr_status (*info)(const sfr_net *, int, const char **,
                                                      int64_t *, int64_t *))
{
    for (size_t i = 0; i < n; i++) {
        const struct sfri_source *s = &src[i];
        int64_t off = 0, size = 0;
        if (info(im->net, (int)i, NULL, &off, &size) != SFR_OK || size != s->rows * s->cols)
            return sfri_fail(SFR_ERR_FORMAT, im->fn, "%s: %lld values for a tensor of %lld",
                             s->what, (long long)(s->rows * s->cols), (long long)size);
        for (int64_t r = 0; r < s->rows; r++)
            for (int64_t c = 0; c < s->cols; c++) {
                float v = s->t == NULL ? 0.0f :
                          element(s->t, s->transpose ? c * s->rows + r : r * s->cols + c);
                if (!isfinite(v) || (s->nonnegative && v < 0.0f))
                    return sfri_fail(SFR_ERR_FORMAT, im->fn, "%s holds %g", s->what, (double)v);
                dst[off + r * s->cols + c] = v;
            }
    }
    return SFR_OK;
}

static sfr_status param_info(const sfr_net *net, int i, const char **name, int64_t *off,
                             int64_t *size)
{
    return sfr_net_param_info(net, i, name, off, size);
}

static sfr_status buffer_info(const sfr_net *net, int i, const char **name, int64_t *off,
                              int64_t *size)
{
    return sfr_net_buffer_info(net, i, name, off, size);
}

static sfr_status set_tensors(struct sfri_importer *im)
{
    float *params = NULL, *buffers = NULL;
    int n_params = 0, n_buffers = 0;
    sfr_net_param_tensors(im->net, &n_params);
    sfr_net_buffer_tensors(im->net, &n_buffers);
    if ((size_t)n_params != im->n_params || (size_t)n_buffers != im->n_buffers)
        return sfri_fail(SFR_ERR_FORMAT, im->fn, "internal: %d parameter tensors for %zu "
                         "sources", n_params, im->n_params);
    sfr_net_params(im->net, &params, NULL, NULL);
    sfr_net_buffers(im->net, &buffers, NULL);
    sfr_status st = fill(im, im->params, im->n_params, params, param_info);
    return st == SFR_OK ? fill(im, im->buffers, im->n_buffers, buffers, buffer_info) : st;
}

/* The graph's input (the only input that is not an initializer): the input layer. */
static sfr_status add_input(struct sfri_importer *im, const Onnx__GraphProto *g)
{
    const Onnx__ValueInfoProto *in = NULL;
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *v = g->input[i];
        if (v->name == NULL || sfri_import_find(im, v->name) != NULL)
            continue; /* an initializer listed as an input (older exporters) */
        if (in != NULL)
            return sfri_fail(SFR_ERR_UNSUPPORTED, im->fn, "the graph has two inputs ('%s', "
                             "'%s'): libsfr nets have one", in->name, v->name);
        in = v;
    }
    if (in == NULL)
        return sfri_fail(SFR_ERR_FORMAT, im->fn, "the graph has no input");
    const Onnx__TypeProto *type = in->type;
    const Onnx__TensorShapeProto *shape =
        type && type->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && type->tensor_type ?
            type->tensor_type->shape : NULL;
    if (shape == NULL || type->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
        shape->n_dim != 4)
        return sfri_fail(SFR_ERR_UNSUPPORTED, im->fn, "input '%s' is not a float tensor of "
                         "rank 4 (N, C, H, W)", in->name);
    int dims[3];
    for (int i = 0; i < 3; i++) {
        const Onnx__TensorShapeProto__Dimension *d = shape->dim[i + 1];
        if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
            d->dim_value < 1 || d->dim_value > INT32_MAX)
            return sfri_fail(SFR_ERR_UNSUPPORTED, im->fn, "input '%s': dimension %d is not a "
                             "fixed size", in->name, i + 1);
        dims[i] = (int)d->dim_value;
    }
    int id;
    sfr_status st = sfr_net_input(im->net, dims[0], dims[1], dims[2], &id);
    if (st != SFR_OK)
        return st == SFR_ERR_NOMEM ? st : sfri_fail(SFR_ERR_UNSUPPORTED, im->fn,
                                                    "input '%s' is too large", in->name);
    char name[64];
    sanitize(in->name, name);
    if (name[0] != '\0')
        sfr_net_set_layer_name(im->net, id, name);
    im->last_layer = id;
    const struct sfri_value v = {.layer = id, .rank = 4, .pending_bias = -1};
    return sfri_import_define(im, in->name, v) ? SFR_OK
                                               : sfri_fail(SFR_ERR_NOMEM, im->fn, "out of memory");
}

/* Marks the nodes the graph's output depends on: needed[i] for node i. */
static sfr_status mark_needed(struct sfri_importer *im, const Onnx__GraphProto *g, char *needed)
{
    /* producer of each value, by name: in the value table, as a node index */
    struct sfri_importer producers = {.arena = {0}, .fn = im->fn};
    sfr_status st = SFR_OK;
    for (size_t i = 0; i < g->n_node && st == SFR_OK; i++)
        for (size_t k = 0; k < g->node[i]->n_output; k++)
            if (g->node[i]->output[k] != NULL && g->node[i]->output[k][0] != '\0' &&
                !sfri_import_define(&producers, g->node[i]->output[k],
                                    (struct sfri_value){.layer = (int)i, .pending_bias = -1}))
                st = sfri_fail(SFR_ERR_NOMEM, im->fn, "out of memory");
    struct sfri_value *out = st == SFR_OK ? sfri_import_find(&producers, g->output[0]->name) : NULL;
    if (out != NULL)
        needed[out->layer] = 1;
    /* ONNX nodes come in topological order: one pass backwards finds every ancestor. */
    for (size_t i = g->n_node; st == SFR_OK && i-- > 0;)
        for (size_t k = 0; needed[i] && k < g->node[i]->n_input; k++) {
            const struct sfri_value *p = sfri_import_find(&producers, g->node[i]->input[k]);
            if (p != NULL && (size_t)p->layer >= i)
                st = sfri_fail(SFR_ERR_FORMAT, im->fn, "node %zu reads '%s' before node %d "
                               "makes it: the nodes are not in topological order", i,
                               g->node[i]->input[k], p->layer);
            else if (p != NULL)
                needed[p->layer] = 1;
        }
    sfri_arena_free(&producers.arena);
    return st;
}

static sfr_status check_model(struct sfri_importer *im, const Onnx__ModelProto *m)
{
    im->opset = -1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = m->opset_import[i]->domain;
        if (d == NULL || d[0] == '\0' || strcmp(d, "ai.onnx") == 0)
            im->opset = m->opset_import[i]->version;
    }
    if (im->opset < MIN_OPSET || im->opset > MAX_OPSET)
        return sfri_fail(SFR_ERR_UNSUPPORTED, im->fn, "opset %lld of the default domain: libsfr "
                         "imports opsets %d to %d", (long long)im->opset, MIN_OPSET, MAX_OPSET);
    const Onnx__GraphProto *g = m->graph;
    if (g == NULL)
        return sfri_fail(SFR_ERR_FORMAT, im->fn, "the model has no graph");
    if (g->n_output != 1 || g->output[0]->name == NULL)
        return sfri_fail(SFR_ERR_UNSUPPORTED, im->fn, "the graph has %zu outputs: libsfr nets "
                         "have one", g->n_output);
    for (size_t i = 0; i < g->n_node; i++)
        if (g->node[i]->op_type == NULL)
            return sfri_fail(SFR_ERR_FORMAT, im->fn, "node %zu has no operator", i);
    return SFR_OK;
}

/* The net of a parsed model, into im->net. */
static sfr_status build(struct sfri_importer *im, const Onnx__ModelProto *m)
{
    sfr_status st = check_model(im, m);
    if (st != SFR_OK)
        return st;
    const Onnx__GraphProto *g = m->graph;
    for (size_t i = 0; i < g->n_initializer; i++) {
        const struct sfri_value v = {.layer = -1, .init = g->initializer[i], .pending_bias = -1};
        if (g->initializer[i]->name != NULL && !sfri_import_define(im, g->initializer[i]->name, v))
            return sfri_fail(SFR_ERR_NOMEM, im->fn, "out of memory");
    }
    char *needed = sfri_arena_alloc(&im->arena, g->n_node);
    if (needed == NULL)
        return sfri_fail(SFR_ERR_NOMEM, im->fn, "out of memory");
    if ((st = sfr_net_create(&im->net)) != SFR_OK || (st = add_input(im, g)) != SFR_OK ||
        (st = mark_needed(im, g, needed)) != SFR_OK)
        return st;
    for (size_t i = 0; i < g->n_node && st == SFR_OK; i++)
        if (needed[i]) {
            im->node = g->node[i];
            st = sfri_import_node(im, g->node[i]);
        }
    im->node = NULL;
    if (st != SFR_OK)
        return st;
    const struct sfri_value *out = sfri_import_find(im, g->output[0]->name);
    if (out == NULL || out->layer < 0)
        return sfri_fail(SFR_ERR_FORMAT, im->fn, "no node makes the output '%s'",
                         g->output[0]->name);
    if (out->layer == 0)
        return sfri_fail(SFR_ERR_UNSUPPORTED, im->fn, "the output '%s' is the input: the net "
                         "has no layer", g->output[0]->name);
    if (out->layer != im->last_layer)
        return sfri_fail(SFR_ERR_UNSUPPORTED, im->fn, "the output '%s' is not the last layer "
                         "built (libsfr's output is its last layer)", g->output[0]->name);
    return set_tensors(im);
}

/* protobuf-c allocates through the library's allocator. */
static void *pb_alloc(void *data, size_t size)
{
    (void)data;
    return sfri_malloc(size);
}

static void pb_free(void *data, void *ptr)
{
    (void)data;
    sfri_free(ptr);
}

static sfr_status import_bytes(sfr_net **out, const void *buf, size_t size, const char *fn)
{
    ProtobufCAllocator allocator = {pb_alloc, pb_free, NULL};
    Onnx__ModelProto *m = onnx__model_proto__unpack(&allocator, size, buf);
    if (m == NULL)
        return sfri_fail(SFR_ERR_FORMAT, fn, "not an ONNX model (the protobuf does not parse, "
                         "or memory ran out)");
    struct sfri_importer im = {.fn = fn};
    sfr_status st = build(&im, m);
    if (st == SFR_OK && im.arena.failed)
        st = sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    if (st == SFR_OK)
        *out = im.net;
    else
        sfr_net_destroy(im.net);
    sfri_arena_free(&im.arena);
    onnx__model_proto__free_unpacked(m, &allocator);
    return st;
}

SFR_API sfr_status sfr_net_import_onnx_memory(sfr_net **out, const void *buf, size_t size)
{
    static const char *const fn = "sfr_net_import_onnx_memory";
    if (out == NULL || buf == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "%s is NULL", out == NULL ? "out" : "buf");
    return import_bytes(out, buf, size, fn);
}

SFR_API sfr_status sfr_net_import_onnx(sfr_net **out, const char *path)
{
    static const char *const fn = "sfr_net_import_onnx";
    if (out == NULL || path == NULL || path[0] == '\0')
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "%s", out == NULL ? "out is NULL" :
                         path == NULL ? "path is NULL" : "path is empty");
    unsigned char *data = NULL;
    size_t size = 0;
    sfr_status st = sfri_read_file(path, &data, &size, fn);
    if (st != SFR_OK)
        return st;
    st = import_bytes(out, data, size, fn);
    sfri_free(data);
    return st;
}
