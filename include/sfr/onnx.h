/**
 * @file sfr/onnx.h
 * @brief ONNX out and in: a net exported for inference, a net built from a model.
 *
 * Export writes a compiled or uncompiled net as an ONNX model (opset 14,
 * IR version 7) for inference: batch norm on its running statistics,
 * dropout as the identity, a dynamic batch dimension, layer names as node
 * names and tensor names (sfr_net_param_info(), sfr_net_buffer_info()) as
 * initializer names. The graph input is named after the input layer, the
 * output is "logits" (batch, K). Only the layers the output depends on are
 * written.
 *
 * Import builds a new, uncompiled net from a model of the operators libsfr
 * has (Conv, BatchNormalization, Relu, Sigmoid, HardSigmoid, HardSwish,
 * MaxPool, AveragePool, GlobalAveragePool, Flatten, Gemm, MatMul + Add,
 * Add, Mul, Concat, Dropout, Identity, and the Reshape, Unsqueeze and
 * Squeeze that only flatten or restore a 1 x 1 map), with its parameters
 * and running statistics. docs/interop.md maps each operator and lists
 * what is refused.
 *
 * @since 0.2.0
 */
#ifndef SFR_ONNX_H
#define SFR_ONNX_H

#include <stddef.h>

#include "export.h"
#include "net.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Writes a net as an ONNX model file (replaced atomically, as by sfr_net_save()).
 *
 * @param[in] net  The net: its input and at least one more layer; the last
 *                 layer added is the output.
 * @param[in] path The file.
 * @retval SFR_OK              The file holds the model.
 * @retval SFR_ERR_INVALID_ARG net or path is NULL, or path is empty.
 * @retval SFR_ERR_STATE       The net has no layer after its input.
 * @retval SFR_ERR_NONFINITE   A parameter or running statistic is not finite.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @retval SFR_ERR_IO          The file could not be written.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_export_onnx(const sfr_net *net, const char *path);

/**
 * @brief Writes a net as an ONNX model into a host buffer.
 *
 * @param[in]  net      The net.
 * @param[out] buf      The buffer, or NULL to ask for the size only.
 * @param[in]  capacity Its size in bytes.
 * @param[out] size     Receives the model's size in bytes.
 * @retval SFR_OK              *size is set (and buf holds the model).
 * @retval SFR_ERR_INVALID_ARG net or size is NULL.
 * @retval SFR_ERR_SHAPE       capacity is below the model's size; nothing written.
 * @retval SFR_ERR_STATE       The net has no layer after its input.
 * @retval SFR_ERR_NONFINITE   A parameter or running statistic is not finite.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_export_onnx_memory(const sfr_net *net, void *buf, size_t capacity,
                                              size_t *size);

/**
 * @brief Builds a net from an ONNX model file.
 *
 * The net is not compiled: the host may tap its layers (found by name with
 * sfr_net_find_layer()) and compiles it. Layers are named after their
 * parameters' initializers ("layer1.0.conv1" for "layer1.0.conv1.weight",
 * so that the tensor names are PyTorch's state_dict keys), other layers
 * after their node ("/layer1/relu/Relu" becomes "layer1.relu.Relu"); a
 * name that is not valid or not unique is left as "layer<id>".
 *
 * @param[out] out  Receives the net, to release with sfr_net_destroy().
 * @param[in]  path The model file.
 * @retval SFR_OK              *out holds the net.
 * @retval SFR_ERR_INVALID_ARG out or path is NULL, or path is empty.
 * @retval SFR_ERR_IO          The file could not be opened or read.
 * @retval SFR_ERR_FORMAT      The file is not a valid ONNX model, or is
 *                             inconsistent (a missing initializer, a shape
 *                             that does not fit).
 * @retval SFR_ERR_UNSUPPORTED The model uses an operator, attribute or
 *                             domain libsfr does not have; the message names
 *                             the operator and the node.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_import_onnx(sfr_net **out, const char *path);

/**
 * @brief Builds a net from an ONNX model in a host buffer, as sfr_net_import_onnx() does a file.
 *
 * @param[out] out  Receives the net.
 * @param[in]  buf  The model's bytes.
 * @param[in]  size Their count.
 * @retval SFR_OK              *out holds the net.
 * @retval SFR_ERR_INVALID_ARG out or buf is NULL.
 * @retval SFR_ERR_FORMAT      As sfr_net_import_onnx().
 * @retval SFR_ERR_UNSUPPORTED As sfr_net_import_onnx().
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_import_onnx_memory(sfr_net **out, const void *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SFR_ONNX_H */
