/*
 * libsfr: networks on oneDNN.
 *
 * An sfr_net is a convolutional network built layer by layer, compiled for a
 * batch size, then run forward and backward. Layer ids are small ints
 * returned by the builder calls; the last layer added is the output
 * (logits, N x K). What the host sees (input, taps, logits) is float32 NCHW
 * (N x K for logits), contiguous; layouts inside are the library's choice.
 *
 * A net is used by one thread at a time; two nets may run in two threads.
 *
 * Semantics (PyTorch's conventions): batch norm uses eps 1e-5, momentum 0.1,
 * running mean 0 and variance 1 at start, and the unbiased batch variance
 * for the running update; linear layers always have a bias and flatten a
 * C x H x W input as torch.flatten does; pooling rounds down and average
 * pooling counts padding; pooling padding may not exceed half the kernel.
 */
#ifndef SFR_NET_H
#define SFR_NET_H

#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tap.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sfr_net sfr_net;

/* Creates an empty net. Errors: SFR_ERR_INVALID_ARG (out NULL),
 * SFR_ERR_NOMEM, SFR_ERR_BACKEND. Since 0.1.0. */
SFR_API sfr_status sfr_net_create(sfr_net **out);

/* Releases a net with its taps, parameters and buffers. NULL is a no-op.
 * Since 0.1.0. */
SFR_API void sfr_net_destroy(sfr_net *net);

/*
 * Builder. Each call adds one layer fed by the layer(s) named by id and
 * writes the new layer's id to *id. Common errors: SFR_ERR_INVALID_ARG
 * (NULL net or id, unknown input id), SFR_ERR_SHAPE (a size < 1, a kernel
 * larger than the padded input, a padding that does not fit: convolution
 * padding must be in [0, kernel - 1], pooling padding in [0, kernel / 2];
 * `add` of different shapes), SFR_ERR_STATE (the net is compiled, or a
 * second input), SFR_ERR_MISUSE, SFR_ERR_NOMEM. On error *id is not
 * written and the net is unchanged. New convolution and linear weights
 * are zero until sfr_net_init_params; batch norm starts at gamma 1, beta 0.
 * All since 0.1.0.
 */

/* The input, C x H x W per sample; only one per net, and it comes first. */
SFR_API sfr_status sfr_net_input(sfr_net *net, int c, int h, int w, int *id);
/* 2-D convolution, square kernel, same stride and padding on both axes;
 * bias != 0 adds a bias. */
SFR_API sfr_status sfr_net_conv2d(sfr_net *net, int in, int out_c, int kernel, int stride,
                                  int pad, int bias, int *id);
/* Batch normalization over N, H, W per channel, with gamma and beta. */
SFR_API sfr_status sfr_net_batchnorm(sfr_net *net, int in, int *id);
/* max(x, 0). */
SFR_API sfr_status sfr_net_relu(sfr_net *net, int in, int *id);
/* Max pooling, square window; pad <= kernel / 2. */
SFR_API sfr_status sfr_net_maxpool(sfr_net *net, int in, int kernel, int stride, int pad,
                                   int *id);
/* Average pooling counting the padding; pad <= kernel / 2. */
SFR_API sfr_status sfr_net_avgpool(sfr_net *net, int in, int kernel, int stride, int pad,
                                   int *id);
/* Average over H x W: output C x 1 x 1. */
SFR_API sfr_status sfr_net_global_avgpool(sfr_net *net, int in, int *id);
/* Fully connected layer with bias on the flattened input. */
SFR_API sfr_status sfr_net_linear(sfr_net *net, int in, int out_features, int *id);
/* Element-wise sum of two layers of the same shape (a residual join). */
SFR_API sfr_status sfr_net_add(sfr_net *net, int a, int b, int *id);

/*
 * Creates every primitive and buffer for batch size batch. May be called
 * again with another batch size: parameters and running statistics are
 * kept, taps keep their handles (their data pointers change), parameter
 * gradients are zero after every compile. Errors: SFR_ERR_INVALID_ARG
 * (batch < 1 or too large for the tensors), SFR_ERR_STATE (no layers),
 * SFR_ERR_MISUSE, SFR_ERR_NOMEM, SFR_ERR_BACKEND. A failed compile leaves
 * the net uncompiled (parameters and running statistics kept). Since 0.1.0.
 */
SFR_API sfr_status sfr_net_compile(sfr_net *net, int64_t batch);

/*
 * Initialises every parameter from seed, deterministically: Kaiming-normal
 * (fan_out, ReLU gain) convolution weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * convolution biases and linear weights and biases, batch norm gamma 1 and
 * beta 0; also resets running statistics. Errors: SFR_ERR_INVALID_ARG,
 * SFR_ERR_MISUSE. Since 0.1.0.
 */
SFR_API sfr_status sfr_net_init_params(sfr_net *net, uint64_t seed);

/*
 * Runs the net on input (batch x C x H x W floats, NCHW). training != 0
 * uses batch statistics, updates running statistics and zeroes every tap's
 * gradient buffer; training == 0 uses running statistics. Errors:
 * SFR_ERR_INVALID_ARG (NULL input), SFR_ERR_STATE (not compiled),
 * SFR_ERR_NONFINITE (a NaN or infinity in input), SFR_ERR_SHAPE (training
 * with a batch norm layer that sees one value per channel, N*H*W == 1),
 * SFR_ERR_MISUSE, SFR_ERR_BACKEND. After an error no backward is allowed
 * until the next successful training forward. Since 0.1.0.
 */
SFR_API sfr_status sfr_net_forward(sfr_net *net, const float *input, int training);

/* Writes the output of the last forward (dims[0] x dims[1] floats, owned by
 * the net, valid until the next compile) and its dims {batch, K}. Errors:
 * SFR_ERR_INVALID_ARG, SFR_ERR_STATE (no forward yet), SFR_ERR_MISUSE.
 * Since 0.1.0. */
SFR_API sfr_status sfr_net_output(sfr_net *net, const float **logits, int64_t dims[2]);

/*
 * Back-propagates dlogits (batch x K floats) plus every tap's gradient
 * buffer through the last training forward and overwrites the parameter
 * gradients. Calling it twice after one forward gives the same result.
 * Errors: SFR_ERR_INVALID_ARG (NULL dlogits), SFR_ERR_STATE (no training
 * forward since compile, or the last forward was an eval forward),
 * SFR_ERR_NONFINITE (a NaN or infinity in dlogits; nothing written),
 * SFR_ERR_MISUSE, SFR_ERR_BACKEND. Since 0.1.0.
 */
SFR_API sfr_status sfr_net_backward(sfr_net *net, const float *dlogits);

/*
 * The tap on layer's output, owned by the net: asking twice gives the same
 * tap; it may be asked for before or after compile, stays valid across
 * compiles and is freed by sfr_net_destroy. Its data holds the layer's
 * output after a forward; gradients added to its buffer enter backward at
 * that layer. Errors: SFR_ERR_INVALID_ARG (unknown layer, NULL out),
 * SFR_ERR_MISUSE, SFR_ERR_NOMEM. Since 0.1.0.
 */
SFR_API sfr_status sfr_net_tap(sfr_net *net, int layer, sfr_tap **out);

/*
 * All trainable parameters in one contiguous buffer (*values) and their
 * gradients in another (*grads), *count floats each, owned by the net. The
 * pointers stay valid until the next builder call or destroy. Any output
 * pointer may be NULL. Errors: SFR_ERR_MISUSE, SFR_ERR_INVALID_ARG (NULL net).
 * Since 0.1.0.
 */
SFR_API sfr_status sfr_net_params(sfr_net *net, float **values, float **grads, int64_t *count);

/* Number of parameter tensors. Errors: SFR_ERR_INVALID_ARG, SFR_ERR_MISUSE.
 * Since 0.1.0. */
SFR_API sfr_status sfr_net_param_tensors(const sfr_net *net, int *count);

/*
 * Describes parameter tensor i (0 .. count-1, in the order of the layers
 * that own them; conv weight then bias, batch norm gamma then beta, linear
 * weight then bias): its name ("layer3.weight"; static storage owned by the
 * net), offset and size in floats within the flat buffer. Inside a tensor
 * the layout is PyTorch's (conv OIHW, linear out x in). Any output pointer
 * may be NULL. Errors: SFR_ERR_INVALID_ARG (i out of range),
 * SFR_ERR_MISUSE. Since 0.1.0.
 */
SFR_API sfr_status sfr_net_param_info(const sfr_net *net, int i, const char **name,
                                      int64_t *offset, int64_t *size);

/*
 * Checkpoints: a versioned, checksummed file of the parameters and batch
 * norm running statistics, tied to the architecture (the builder calls, not
 * the batch size), in the little-endian format of docs/checkpoint-format.md.
 * Both work before and after compile. Save writes a temporary file
 * "<path>.tmp-<hex>" in the same directory, syncs it, renames it over path
 * and syncs the directory, so path always holds a complete checkpoint; on
 * failure the temporary is removed and path is as it was. Load reads the
 * whole file and verifies magic, version, size, checksum, architecture and
 * counts before changing anything; the net is untouched on any failure.
 * Errors: SFR_ERR_INVALID_ARG (net or path NULL, path empty),
 * SFR_ERR_MISUSE, SFR_ERR_IO (the file cannot be created, written, synced,
 * renamed, opened or read, or is not a regular file), SFR_ERR_FORMAT (load:
 * corrupt, truncated, another format version or another network's file),
 * SFR_ERR_NOMEM. Since 0.1.0.
 */
SFR_API sfr_status sfr_net_save(const sfr_net *net, const char *path);
SFR_API sfr_status sfr_net_load(sfr_net *net, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* SFR_NET_H */
