/*
 * The ONNX importer's state, shared by import.c (the model, its values and
 * tensors, the net's parameters) and import_ops.c (one builder per
 * operator). The importer only uses the net's public builder API.
 */
#ifndef SFR_LIB_ONNX_IMPORT_H
#define SFR_LIB_ONNX_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "onnx.pb-c.h"
#include "sfr/net.h"

/* A named value of the graph: a layer's output seen as (N, C, H, W) or
 * flattened to (N, C*H*W), or a constant tensor. */
struct sfri_value {
    const char *name;
    int layer;                      /* -1 for a constant */
    int rank;                       /* 4, or 2: the layer flattened */
    const Onnx__TensorProto *init;  /* a constant (initializer or Constant node) */
    int pending_bias;               /* a MatMul's: index of its bias in params, else -1 */
    int pad;                        /* a Pad's zeros around H and W, for a pooling or conv */
};

/* Where one parameter or buffer tensor of the net comes from. */
struct sfri_source {
    const Onnx__TensorProto *t;     /* NULL: zeros (a MatMul's bias until an Add) */
    int64_t rows, cols;             /* transpose = 1: the tensor is (cols, rows) */
    int transpose;
    const char *what;               /* for messages: "Conv 'x' weight" */
    int nonnegative;                /* a running variance */
};

struct sfri_importer {
    sfr_net *net;
    struct sfri_arena arena;
    const char *fn;
    int64_t opset;
    struct sfri_value *values;      /* open-addressed by name, cap a power of two */
    size_t n_values, cap_values;
    struct sfri_source *params, *buffers;
    size_t n_params, cap_params, n_buffers, cap_buffers;
    const Onnx__NodeProto *node;    /* the node being built, for messages */
    int last_layer;                 /* the id of the last layer built */
};

/* The value called name, or NULL. */
struct sfri_value *sfri_import_find(struct sfri_importer *im, const char *name);

/* Records name as v (a copy); NULL when memory ran out (the arena is marked failed). */
struct sfri_value *sfri_import_define(struct sfri_importer *im, const char *name,
                                      struct sfri_value v);

/* Appends a parameter (or buffer) source; its index, or -1 when memory ran out. */
int sfri_import_param(struct sfri_importer *im, struct sfri_source s);
int sfri_import_buffer(struct sfri_importer *im, struct sfri_source s);

/* Names the new layer after its node (see sfr/onnx.h); failures leave the default. */
void sfri_import_name_layer(struct sfri_importer *im, int layer, const char *weight_name);

/* Failures, reported for the importer's function, naming the node being built. */
sfr_status sfri_import_unsupported(struct sfri_importer *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
sfr_status sfri_import_format(struct sfri_importer *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The element count of a tensor's shape, -1 when a dim is negative or it overflows. */
int64_t sfri_tensor_count(const Onnx__TensorProto *t);

/*
 * A float tensor's data as little-endian bytes or native floats: exactly
 * one of *raw, *floats is set, for count elements; SFR_ERR_FORMAT (or
 * UNSUPPORTED for other types and external data) when the tensor is not a
 * float tensor of that many elements.
 */
sfr_status sfri_tensor_float_data(struct sfri_importer *im, const Onnx__TensorProto *t,
                                  int64_t count, const char *what);

/* An int64 tensor's values (at most max), in *out; *n receives the count. */
sfr_status sfri_tensor_ints(struct sfri_importer *im, const Onnx__TensorProto *t, int64_t *out,
                            int max, int *n, const char *what);

/* Builds the net's part for one node (import_ops.c). */
sfr_status sfri_import_node(struct sfri_importer *im, const Onnx__NodeProto *node);

#endif /* SFR_LIB_ONNX_IMPORT_H */
