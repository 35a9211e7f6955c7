/**
 * @file sfr/net.h
 * @brief Convolutional networks on oneDNN: build, compile, forward, backward,
 *        parameters and checkpoints.
 *
 * An ::sfr_net is a convolutional network built layer by layer, compiled for
 * a batch size, then run forward and backward. Layer ids are small ints
 * returned by the builder calls; the last layer added is the output (the
 * logits, (N, K)). What the host sees (input, taps, logits) is float32 NCHW
 * contiguous ((N, K) row-major for the logits); layouts inside are the
 * library's choice.
 *
 * The life of a net: sfr_net_create(), builder calls (sfr_net_input() first),
 * sfr_net_compile(), sfr_net_init_params() or sfr_net_load(), then per step
 * sfr_net_forward(), sfr_net_output(), the host's loss, sfr_net_backward()
 * and an update of sfr_net_params() (sfr_sgd_step()).
 *
 * A net is used by one thread at a time; two nets may run in two threads.
 *
 * Semantics (PyTorch's conventions): batch norm uses eps 1e-5, momentum 0.1,
 * running mean 0 and variance 1 at start, and the unbiased batch variance
 * for the running update; linear layers always have a bias and flatten a
 * C x H x W input as torch.flatten does; pooling rounds down and average
 * pooling counts padding; pooling padding may not exceed half the kernel.
 * Windows follow the window rule of the builder (see Builder).
 *
 * @since 0.1.0
 */
#ifndef SFR_NET_H
#define SFR_NET_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "status.h"
#include "tap.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Opaque handle of a network.
 * @since 0.1.0
 */
typedef struct sfr_net sfr_net;

/**
 * @brief Creates an empty net.
 *
 * @param[out] out Receives the net, to release with sfr_net_destroy().
 * @retval SFR_OK              *out holds the net.
 * @retval SFR_ERR_INVALID_ARG out is NULL.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @retval SFR_ERR_BACKEND     oneDNN could not create its CPU engine or stream.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_create(sfr_net **out);

/**
 * @brief Releases a net with its taps, parameters and buffers.
 *
 * Every pointer the net handed out (taps, data, gradients, parameters,
 * names) becomes invalid; a regularizer holding one of its taps must not be
 * used for a compute again.
 *
 * @param[in] net The net; NULL is a no-op.
 * @since 0.1.0
 */
SFR_API void sfr_net_destroy(sfr_net *net);

/**
 * @name Builder
 * Each call adds one layer fed by the layer(s) named by id and writes the
 * new layer's id to *id. Sizes are per sample (C x H x W); the batch size
 * comes with sfr_net_compile(). A window of kernel k, stride s and padding
 * p over a length L (the input's height, then its width) gives
 * floor((L + 2p - k) / s) + 1 outputs.
 *
 * The window rule: a window is accepted only where it means something:
 * k >= 1 and s >= 1 at most the padded length L + 2p, and p at most L
 * (besides each kind's own bound on p: k - 1 for a convolution, k / 2 for
 * pooling). A longer stride gives one window whatever its value (use
 * L + 2p instead), and a padding beyond the input makes windows that are
 * mostly padding; within the rule the kernel, the stride and the output
 * stay within three times the input, so a layer's work is bounded by its
 * input's size. A layer's output (C*H*W per sample) and each parameter
 * tensor hold at most 2^31 - 1 elements. Sizes are computed without
 * overflow for any int arguments.
 *
 * Errors common to every builder call: ::SFR_ERR_INVALID_ARG (NULL net or
 * id, unknown input id), ::SFR_ERR_SHAPE (a size < 1, a window outside the
 * window rule, a layer too large to address), ::SFR_ERR_STATE (the net is
 * compiled), ::SFR_ERR_MISUSE (not a live net), ::SFR_ERR_NOMEM. On error
 * *id is not written and the net is unchanged. A net whose compile failed
 * is back to building and accepts layers again.
 *
 * New convolution and linear weights (and biases) are zero until
 * sfr_net_init_params() or sfr_net_load(); batch norm starts at gamma 1,
 * beta 0. Adding a layer moves the parameter buffers (sfr_net_params()).
 * @{
 */

/**
 * @brief The input: C x H x W per sample; only one per net, and it comes first.
 *
 * @param[in,out] net The net, with no layers yet.
 * @param[in]     c   Channels, >= 1.
 * @param[in]     h   Height, >= 1.
 * @param[in]     w   Width, >= 1.
 * @param[out]    id  Receives the layer id (0).
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL.
 * @retval SFR_ERR_SHAPE       c, h or w < 1, or c*h*w above 2^31 - 1.
 * @retval SFR_ERR_STATE       The net already has layers (or is compiled).
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_input(sfr_net *net, int c, int h, int w, int *id);

/**
 * @brief 2-D convolution, square kernel, same stride and padding on both axes.
 *
 * Weight (out_c, C, kernel, kernel) (OIHW), bias (out_c).
 *
 * @param[in,out] net    The net.
 * @param[in]     in     Id of the layer it reads (C x H x W).
 * @param[in]     out_c  Output channels, >= 1.
 * @param[in]     kernel Kernel side, >= 1, at most the padded input.
 * @param[in]     stride Stride, >= 1, at most the padded input.
 * @param[in]     pad    Zero padding on each side, in [0, kernel - 1], at
 *                       most the input's height and width.
 * @param[in]     bias   Non-zero adds a bias.
 * @param[out]    id     Receives the layer id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, or in is unknown.
 * @retval SFR_ERR_SHAPE       out_c, kernel or stride < 1, pad outside
 *                             [0, kernel - 1], a window outside the window
 *                             rule, or the output or weight too large.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_conv2d(sfr_net *net, int in, int out_c, int kernel, int stride,
                                  int pad, int bias, int *id);

/**
 * @brief The geometry of a general convolution (sfr_net_conv()).
 *
 * Extensible: size is the size of the struct the caller was compiled with,
 * and the library reads no field beyond it, so fields appended by later
 * versions keep their defaults for older callers. Start from
 * ::SFR_CONV_PARAMS_INIT (a 1 x 1 kernel, stride 1, no padding, no
 * dilation, one group, no bias) and change what differs.
 * @since 0.2.0
 */
typedef struct sfr_conv_params {
    size_t size;      /**< sizeof(sfr_conv_params) as the caller sees it */
    int kernel_h;     /**< kernel height, >= 1 */
    int kernel_w;     /**< kernel width, >= 1 */
    int stride_h;     /**< vertical stride, >= 1 */
    int stride_w;     /**< horizontal stride, >= 1 */
    int pad_top;      /**< zero rows above, in [0, dilated kernel height - 1] */
    int pad_left;     /**< zero columns to the left, likewise */
    int pad_bottom;   /**< zero rows below (ONNX and TF allow it to differ from the top) */
    int pad_right;    /**< zero columns to the right */
    int dilation_h;   /**< PyTorch's dilation: 1 is none, >= 1 */
    int dilation_w;   /**< likewise, horizontally */
    int groups;       /**< >= 1, dividing both channel counts; the channels: depthwise */
    int bias;         /**< 0 or 1: a bias per output channel */
} sfr_conv_params;

/** @brief The defaults of ::sfr_conv_params, with its size filled in. @since 0.2.0 */
#define SFR_CONV_PARAMS_INIT {sizeof(sfr_conv_params), 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0}

/**
 * @brief Adds a general 2-D convolution: rectangular kernels, per-axis
 *        stride and padding (asymmetric too), dilation and groups.
 *
 * torch.nn.Conv2d(c, out_c, (kernel_h, kernel_w), (stride_h, stride_w),
 * padding, (dilation_h, dilation_w), groups, bias), with the padding given
 * per side (PyTorch's symmetric padding p is p on all four). The weight is
 * PyTorch's (out_c, c / groups, kernel_h, kernel_w), then the bias. Padding
 * follows sfr_net_conv2d()'s rule on the dilated kernel, per side.
 *
 * @param[in,out] net   A net that is not compiled.
 * @param[in]     in    The input layer.
 * @param[in]     out_c Output channels, >= 1.
 * @param[in]     p     The geometry; p->size at least the size of the
 *                      0.2.0 struct.
 * @param[out]    id    Receives the new layer's id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net, p or id is NULL, in is not a layer,
 *                             p->size is too small, or bias is not 0 or 1.
 * @retval SFR_ERR_SHAPE       A size does not fit (as sfr_net_conv2d()), or
 *                             groups does not divide both channel counts.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_conv(sfr_net *net, int in, int out_c, const sfr_conv_params *p,
                                int *id);

/**
 * @brief Batch normalization over N, H, W per channel, with gamma and beta.
 *
 * Training needs more than one value per channel (N*H*W >= 2).
 *
 * @param[in,out] net The net.
 * @param[in]     in  Id of the layer it reads.
 * @param[out]    id  Receives the layer id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, or in is unknown.
 * @retval SFR_ERR_SHAPE       The net is too large.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_batchnorm(sfr_net *net, int in, int *id);

/**
 * @brief max(x, 0), element-wise.
 *
 * @param[in,out] net The net.
 * @param[in]     in  Id of the layer it reads.
 * @param[out]    id  Receives the layer id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, or in is unknown.
 * @retval SFR_ERR_SHAPE       The net has too many layers.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_relu(sfr_net *net, int in, int *id);

/**
 * @brief The element-wise activations of sfr_net_activation(), each as the
 *        PyTorch module named.
 * @since 0.2.0
 */
typedef enum sfr_activation {
    SFR_ACT_SIGMOID = 1,     /**< torch.nn.Sigmoid: 1 / (1 + exp(-x)) */
    SFR_ACT_SILU = 2,        /**< torch.nn.SiLU: x * sigmoid(x) */
    SFR_ACT_HARDSWISH = 3,   /**< torch.nn.Hardswish: x * min(max(x + 3, 0), 6) / 6 */
    SFR_ACT_HARDSIGMOID = 4, /**< torch.nn.Hardsigmoid: min(max(x / 6 + 1/2, 0), 1) */
    SFR_ACT_GELU = 5,        /**< torch.nn.GELU(): x * Phi(x), with erf */
    SFR_ACT_GELU_TANH = 6    /**< torch.nn.GELU(approximate="tanh") */
} sfr_activation;

/**
 * @brief Adds an element-wise activation (sigmoid, SiLU, hard-swish,
 *        hard-sigmoid or GELU) of a layer's output.
 *
 * The output has the input's shape. Backward reads the input (hard-sigmoid:
 * the output); the gradient is PyTorch's for the same module, including at
 * the kinks (hard-swish: 0 below -3, 1 above 3; hard-sigmoid: 0 at |x| >= 3).
 *
 * @param[in,out] net  A net that is not compiled.
 * @param[in]     in   The input layer.
 * @param[in]     kind One of ::sfr_activation.
 * @param[out]    id   Receives the new layer's id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, in is not a layer, or kind
 *                             is not an ::sfr_activation.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_activation(sfr_net *net, int in, int kind, int *id);

/**
 * @brief Max pooling, square window, same stride and padding on both axes.
 *
 * @param[in,out] net    The net.
 * @param[in]     in     Id of the layer it reads.
 * @param[in]     kernel Window side, >= 1, at most the padded input.
 * @param[in]     stride Stride, >= 1, at most the padded input.
 * @param[in]     pad    Padding on each side, in [0, kernel / 2], at most the
 *                       input's height and width.
 * @param[out]    id     Receives the layer id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, or in is unknown.
 * @retval SFR_ERR_SHAPE       kernel or stride < 1, pad outside [0, kernel / 2],
 *                             or a window outside the window rule.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_maxpool(sfr_net *net, int in, int kernel, int stride, int pad,
                                   int *id);

/**
 * @brief Average pooling counting the padding, square window.
 *
 * @param[in,out] net    The net.
 * @param[in]     in     Id of the layer it reads.
 * @param[in]     kernel Window side, >= 1, at most the padded input.
 * @param[in]     stride Stride, >= 1, at most the padded input.
 * @param[in]     pad    Zero padding on each side, in [0, kernel / 2], at
 *                       most the input's height and width.
 * @param[out]    id     Receives the layer id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, or in is unknown.
 * @retval SFR_ERR_SHAPE       kernel or stride < 1, pad outside [0, kernel / 2],
 *                             or a window outside the window rule.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_avgpool(sfr_net *net, int in, int kernel, int stride, int pad,
                                   int *id);

/**
 * @brief Average over H x W: output C x 1 x 1.
 *
 * @param[in,out] net The net.
 * @param[in]     in  Id of the layer it reads.
 * @param[out]    id  Receives the layer id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, or in is unknown.
 * @retval SFR_ERR_SHAPE       The net has too many layers.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_global_avgpool(sfr_net *net, int in, int *id);

/**
 * @brief Fully connected layer with bias on the flattened input.
 *
 * Weight (out_features, C*H*W) row-major, bias (out_features); output
 * out_features x 1 x 1.
 *
 * @param[in,out] net          The net.
 * @param[in]     in           Id of the layer it reads (C x H x W, flattened
 *                             as torch.flatten does).
 * @param[in]     out_features Outputs, >= 1.
 * @param[out]    id           Receives the layer id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, or in is unknown.
 * @retval SFR_ERR_SHAPE       out_features < 1, or a weight of more than
 *                             2^31 - 1 elements.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_linear(sfr_net *net, int in, int out_features, int *id);

/**
 * @brief Element-wise sum of two layers of the same shape (a residual join).
 *
 * @param[in,out] net The net.
 * @param[in]     a   Id of the first layer it reads.
 * @param[in]     b   Id of the second layer, of a's C x H x W.
 * @param[out]    id  Receives the layer id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, or a or b is unknown.
 * @retval SFR_ERR_SHAPE       a and b differ in C, H or W.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_add(sfr_net *net, int a, int b, int *id);

/**
 * @brief Adds the element-wise product of two layers' outputs.
 *
 * b has a's shape, or is C x 1 x 1 and multiplies every position of a's
 * map (squeeze-and-excitation: x * sigmoid(fc(pool(x)))), as PyTorch's
 * a * b broadcasts. Backward gives both inputs their gradient (b's summed
 * over the map when broadcast); a and b may be the same layer.
 *
 * @param[in,out] net A net that is not compiled.
 * @param[in]     a   The layer whose shape the output takes.
 * @param[in]     b   The other factor.
 * @param[out]    id  Receives the new layer's id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, or a or b is not a layer.
 * @retval SFR_ERR_SHAPE       b's channels differ from a's, or its map is
 *                             neither a's nor 1 x 1.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_mul(sfr_net *net, int a, int b, int *id);

/**
 * @brief Adds the concatenation of two layers' outputs along the channels.
 *
 * torch.cat([a, b], dim=1): a's channels, then b's, over the same map; chain
 * the call for more inputs. a and b may be the same layer.
 *
 * @param[in,out] net A net that is not compiled.
 * @param[in]     a   The layer whose channels come first.
 * @param[in]     b   The layer whose channels follow.
 * @param[out]    id  Receives the new layer's id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, or a or b is not a layer.
 * @retval SFR_ERR_SHAPE       The maps differ in size, or the output is too
 *                             large.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_concat(sfr_net *net, int a, int b, int *id);

/**
 * @brief Adds dropout: torch.nn.Dropout(p) of a layer's output.
 *
 * A training forward zeroes each value with probability p and scales the
 * others by 1/(1-p); an eval forward passes the input on unchanged. The
 * masks are drawn from the seed of the last sfr_net_init_params() (0 before
 * one) and the number of training forwards since: the same for a seed and
 * any thread count, a new one at every training forward (not PyTorch's
 * random stream, its distribution). Backward uses the last training
 * forward's mask.
 *
 * @param[in,out] net A net that is not compiled.
 * @param[in]     in  The input layer.
 * @param[in]     p   The probability of zeroing a value, in [0, 1).
 * @param[out]    id  Receives the new layer's id.
 * @retval SFR_OK              The layer is added.
 * @retval SFR_ERR_INVALID_ARG net or id is NULL, in is not a layer, or p is
 *                             out of range.
 * @retval SFR_ERR_STATE       The net is compiled.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_dropout(sfr_net *net, int in, double p, int *id);

/** @} */

/**
 * @brief Creates every primitive and buffer for a batch size.
 *
 * May be called again with another batch size: parameters and running
 * statistics are kept, taps keep their handles (their data and gradient
 * pointers change), parameter gradients are zero after every compile. A
 * failed compile leaves the net uncompiled (back to building; parameters
 * and running statistics kept), and its message names the layer that
 * failed ("sfr_net_compile: layer 3 (conv): ...").
 *
 * @param[in,out] net   The net, with at least one layer.
 * @param[in]     batch Samples per forward (N), >= 1.
 * @retval SFR_OK              The net is compiled.
 * @retval SFR_ERR_INVALID_ARG net is NULL, batch < 1, or batch too large for
 *                             a layer's tensors.
 * @retval SFR_ERR_STATE       The net has no layers.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory (libsfr's buffers or oneDNN's).
 * @retval SFR_ERR_BACKEND     oneDNN could not create a primitive.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_compile(sfr_net *net, int64_t batch);

/**
 * @brief Initialises every parameter from a seed, deterministically.
 *
 * Kaiming-normal (fan_out, ReLU gain) convolution weights,
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) convolution biases and linear weights
 * and biases, batch norm gamma 1 and beta 0; also resets the running
 * statistics (mean 0, variance 1). Works before and after compile.
 *
 * @param[in,out] net  The net.
 * @param[in]     seed Any value; the same seed and architecture give the same
 *                     parameters.
 * @retval SFR_OK              The parameters are set.
 * @retval SFR_ERR_INVALID_ARG net is NULL.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_init_params(sfr_net *net, uint64_t seed);

/**
 * @brief Runs the net on a batch.
 *
 * A training forward uses batch statistics, updates the running statistics
 * and zeroes every tap's gradient buffer (so the regularizer's gradients
 * start from 0); an eval forward uses the running statistics. Argument
 * errors (::SFR_ERR_INVALID_ARG, ::SFR_ERR_STATE, ::SFR_ERR_SHAPE,
 * ::SFR_ERR_NONFINITE) change nothing. After a oneDNN failure during the
 * run there is no forward to read or back-propagate until the next
 * successful one.
 *
 * @param[in,out] net      A compiled net.
 * @param[in]     input    (batch, C, H, W) floats, NCHW contiguous, of the
 *                         input layer's shape; copied.
 * @param[in]     training Non-zero for a training forward, 0 for eval.
 * @retval SFR_OK              The outputs, taps and (training) running
 *                             statistics are updated.
 * @retval SFR_ERR_INVALID_ARG net or input is NULL.
 * @retval SFR_ERR_STATE       The net is not compiled.
 * @retval SFR_ERR_SHAPE       Training with a batch norm layer that sees one
 *                             value per channel (batch*H*W == 1).
 * @retval SFR_ERR_NONFINITE   A NaN or infinity in input.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       oneDNN ran out of memory.
 * @retval SFR_ERR_BACKEND     A oneDNN primitive failed.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_forward(sfr_net *net, const float *input, int training);

/**
 * @brief Runs the net on the first n samples of a batch: any batch up to the
 *        compiled one, without compiling again and without padding.
 *
 * Everything sfr_net_forward() documents holds, with n in place of the
 * compiled batch, until the next forward: sfr_net_output() gives (n, K)
 * logits, every tap's dims say n and its data and gradient hold n samples
 * (at the same addresses as before), sfr_net_backward() takes (n, K)
 * dlogits, and a training forward's batch statistics and running-statistics
 * update are those of the n samples (as PyTorch's on a batch of n).
 * sfr_net_forward() is this call with n = the compiled batch.
 *
 * oneDNN's primitives are made for one batch size: the first forward with a
 * new n < batch compiles the layers for n once, which takes about as long as
 * sfr_net_compile() (bench_partial: 0.4-0.7 s for fmnist-resnet and 2-2.5 s for
 * fmnist-mobilenet, n = 96 of 128, 2 threads; its memory at most that of
 * the full compile); the net keeps the compiles of the last three such
 * sizes beside the full one, so alternating between the full batch and
 * those costs nothing more (a fourth size drops the oldest). A tap asked
 * for later, or sfr_net_compile(), drops them; a tap asked for right
 * after a forward of n < batch has no output to show (#SFR_ERR_STATE) until
 * the next forward.
 *
 * @param[in,out] net      A compiled net.
 * @param[in]     input    (n, C, H, W) floats, NCHW contiguous; copied.
 * @param[in]     n        Samples, 1 <= n <= the compiled batch.
 * @param[in]     training Non-zero for a training forward, 0 for eval.
 * @retval SFR_OK              As sfr_net_forward().
 * @retval SFR_ERR_INVALID_ARG net or input is NULL, or n < 1.
 * @retval SFR_ERR_STATE       The net is not compiled.
 * @retval SFR_ERR_SHAPE       n is larger than the compiled batch, or
 *                             training with a batch norm layer that sees
 *                             one value per channel (n*H*W == 1).
 * @retval SFR_ERR_NONFINITE   A NaN or infinity in the n samples of input.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       Out of memory for the plan for n, or in oneDNN.
 * @retval SFR_ERR_BACKEND     oneDNN could not create or run a primitive for n.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_forward_batch(sfr_net *net, const float *input, int64_t n,
                                         int training);

/**
 * @brief Writes the output (the logits) of the last forward.
 *
 * @param[in]  net    The net.
 * @param[out] logits Receives (batch, K) floats, row-major, owned by the net,
 *                    overwritten by each forward and valid until the next
 *                    compile or destroy.
 * @param[out] dims   Receives {batch, K}, K = C*H*W of the last layer.
 * @retval SFR_OK              *logits and dims are written.
 * @retval SFR_ERR_INVALID_ARG net, logits or dims is NULL.
 * @retval SFR_ERR_STATE       No successful forward since the last compile.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_output(sfr_net *net, const float **logits, int64_t dims[2]);

/**
 * @brief Back-propagates through the last training forward.
 *
 * The gradient entering the output layer is dlogits; the gradient entering
 * each layer with a tap also includes that tap's gradient buffer. The
 * parameter gradients (sfr_net_params()) are overwritten, not accumulated:
 * calling it twice after one forward gives the same result.
 *
 * @param[in,out] net     A net whose last forward was a successful training
 *                        forward.
 * @param[in]     dlogits (batch, K) floats, row-major: dL/dlogits.
 * @retval SFR_OK              The parameter gradients are written.
 * @retval SFR_ERR_INVALID_ARG net or dlogits is NULL.
 * @retval SFR_ERR_STATE       No training forward since compile, or the last
 *                             forward was an eval forward.
 * @retval SFR_ERR_NONFINITE   A NaN or infinity in dlogits; nothing written.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       oneDNN ran out of memory; the parameter
 *                             gradients are then unspecified.
 * @retval SFR_ERR_BACKEND     A oneDNN primitive failed; the parameter
 *                             gradients are then unspecified.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_backward(sfr_net *net, const float *dlogits);

/**
 * @brief Back-propagates like sfr_net_backward(), adding the parameter
 *        gradients to those in the buffer instead of overwriting them.
 *
 * For gradient accumulation over micro-batches: zero the gradients with
 * sfr_net_zero_grads(), run forward and this backward on each micro-batch
 * (each with its own dlogits, scaled as the host's loss wants, e.g. by
 * 1 / micro-batches), then step the optimizer once. The gradient reaching
 * each layer is that of sfr_net_backward(); only the parameter gradients
 * are summed. The first call allocates a buffer of the parameter count
 * (again after a builder call changes it); later calls allocate nothing.
 * On every error the parameter gradients are as they were before the call.
 *
 * @param[in,out] net     A net whose last forward was a successful training
 *                        forward.
 * @param[in]     dlogits (batch, K) floats, row-major: dL/dlogits.
 * @retval SFR_OK              The new gradients are added.
 * @retval SFR_ERR_INVALID_ARG net or dlogits is NULL.
 * @retval SFR_ERR_STATE       No training forward since compile, or the last
 *                             forward was an eval forward.
 * @retval SFR_ERR_NONFINITE   A NaN or infinity in dlogits or in a tap's
 *                             gradient.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       No memory for the buffer, or oneDNN ran out.
 * @retval SFR_ERR_BACKEND     A oneDNN primitive failed.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_backward_accumulate(sfr_net *net, const float *dlogits);

/**
 * @brief Sets every parameter gradient to 0.
 *
 * Starts an accumulation with sfr_net_backward_accumulate(). Allocates
 * nothing; a net without parameters is left as it is.
 *
 * @param[in,out] net The net.
 * @retval SFR_OK              The gradients are 0.
 * @retval SFR_ERR_INVALID_ARG net is NULL.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_zero_grads(sfr_net *net);

/**
 * @brief The tap on a layer's output.
 *
 * The tap is owned by the net: asking twice gives the same tap; it may be
 * asked for before or after compile, stays valid across compiles and is
 * freed by sfr_net_destroy() (sfr_tap_destroy() ignores it). After a
 * forward its data holds the layer's output, also when the tap is asked
 * for after that forward; with no forward since the last compile
 * sfr_tap_data() and sfr_reg_compute() refuse it with #SFR_ERR_STATE.
 * Gradients added to its buffer enter sfr_net_backward() at that layer.
 * Its data (plain NCHW, whatever layout the net computes in) and gradient
 * buffers exist once the net is compiled.
 *
 * Asking for a new tap after compile on an output the compiled net does
 * not store (a batch norm whose ReLU its primitive computes, an input a
 * ReLU or residual add overwrites in place), or on an input of a residual
 * add whose gradient buffer the compiled net shares with the add's,
 * compiles the net again at its batch size, keeping parameters, their gradients and running statistics;
 * the last forward's outputs are gone with it: a forward is then needed
 * before any tap shows data and a training forward before the next
 * backward. Asking for taps before compile avoids it. Any other tap asked
 * for after compile keeps the net's forward, and backward may follow.
 *
 * @param[in,out] net   The net.
 * @param[in]     layer A layer id returned by a builder call.
 * @param[out]    out   Receives the tap.
 * @retval SFR_OK              *out holds the tap.
 * @retval SFR_ERR_INVALID_ARG net or out is NULL, or layer is unknown.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NOMEM       The tap or its buffers could not be allocated:
 *                             the net is as before the call, without that tap
 *                             (the call may be repeated), except that when
 *                             the call had to compile again the net is
 *                             compiled again without the tap, with no forward;
 *                             only if that fails too is it left uncompiled,
 *                             as after a failed sfr_net_compile().
 * @retval SFR_ERR_BACKEND     oneDNN failed; as for #SFR_ERR_NOMEM.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_tap(sfr_net *net, int layer, sfr_tap **out);

/**
 * @brief All trainable parameters and their gradients, as flat buffers.
 *
 * Both buffers are owned by the net, hold *count floats each, tensor after
 * tensor as sfr_net_param_info() describes, and stay valid until the next
 * builder call or destroy. The host (or sfr_sgd_step()) updates the values
 * in place; sfr_net_backward() overwrites the gradients,
 * sfr_net_backward_accumulate() adds to them.
 *
 * @param[in]  net    The net.
 * @param[out] values NULL, or receives the parameters (NULL while the net has
 *                    none).
 * @param[out] grads  NULL, or receives their gradients (NULL while the net has
 *                    none).
 * @param[out] count  NULL, or receives the number of floats in each buffer.
 * @retval SFR_OK              The non-NULL outputs are written.
 * @retval SFR_ERR_INVALID_ARG net is NULL.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_params(sfr_net *net, float **values, float **grads, int64_t *count);

/**
 * @brief Number of parameter tensors.
 *
 * @param[in]  net   The net.
 * @param[out] count Receives the count (weights and biases counted apart).
 * @retval SFR_OK              *count is written.
 * @retval SFR_ERR_INVALID_ARG net or count is NULL.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_param_tensors(const sfr_net *net, int *count);

/**
 * @brief Describes one parameter tensor.
 *
 * Tensors come in the order of the layers that own them: convolution
 * weight then bias, batch norm gamma then beta, linear weight then bias.
 * Inside a tensor the layout is PyTorch's (conv OIHW, linear out x in).
 *
 * @param[in]  net    The net.
 * @param[in]  i      Tensor index, in [0, sfr_net_param_tensors()).
 * @param[out] name   NULL, or receives its name ("layer3.weight",
 *                    "layer3.bias", or after the layer's name from
 *                    sfr_net_set_layer_name(); batch norm gamma is "weight"
 *                    and beta "bias"), owned by the net and valid until
 *                    the layer is renamed or the net destroyed.
 * @param[out] offset NULL, or receives its offset in floats within the flat
 *                    buffers of sfr_net_params().
 * @param[out] size   NULL, or receives its size in floats.
 * @retval SFR_OK              The non-NULL outputs are written.
 * @retval SFR_ERR_INVALID_ARG net is NULL, or i is out of range.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_param_info(const sfr_net *net, int i, const char **name,
                                      int64_t *offset, int64_t *size);

/**
 * @brief Names a layer, and with it its tensors.
 *
 * A layer is called "layer<id>" until named. Its parameters are then
 * "<name>.weight" and "<name>.bias" (sfr_net_param_info()), a batch norm's
 * running statistics "<name>.running_mean" and "<name>.running_var"
 * (sfr_net_buffer_info()): PyTorch's state_dict names when the names are its
 * module paths. Names may be set at any time; they change no computation and
 * are not stored in checkpoints.
 *
 * @param[in,out] net   The net.
 * @param[in]     layer The layer's id.
 * @param[in]     name  1 to 63 letters, digits, '_', '.' or '-', no other
 *                      layer's name; copied.
 * @retval SFR_OK              The layer is named.
 * @retval SFR_ERR_INVALID_ARG net or name is NULL, layer is unknown, the
 *                             name is not valid, or another layer has it;
 *                             nothing changes.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_set_layer_name(sfr_net *net, int layer, const char *name);

/**
 * @brief A layer's name.
 *
 * @param[in]  net   The net.
 * @param[in]  layer The layer's id.
 * @param[out] name  Receives the name, owned by the net, valid until it
 *                   changes or the net is destroyed.
 * @retval SFR_OK              *name is written.
 * @retval SFR_ERR_INVALID_ARG net or name is NULL, or layer is unknown.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_layer_name(const sfr_net *net, int layer, const char **name);

/**
 * @brief The arithmetic a net's convolutions run in (sfr_net_set_precision()).
 * @since 0.2.0
 */
typedef enum sfr_precision {
    SFR_PRECISION_FP32 = 0, /**< float32 throughout (the default) */
    /** bf16 mixed precision: dense convolutions of 16 or more input channels
     *  read bf16 copies of their input, weights and output gradient and
     *  accumulate in float32 (a strided one takes its weight gradient from
     *  the float32 tensors where that kernel is faster); parameters,
     *  gradients, batch norm, logits and everything the host sees stay
     *  float32 */
    SFR_PRECISION_BF16 = 1
} sfr_precision;

/**
 * @brief Whether this CPU runs a precision natively.
 *
 * bf16 needs AVX512_BF16 (oneDNN's "AVX-512 with Intel DL Boost and
 * bfloat16 support"); float32 is always supported.
 *
 * @param[in]  precision One of ::sfr_precision.
 * @param[out] supported Receives 1 or 0.
 * @retval SFR_OK              *supported is written.
 * @retval SFR_ERR_INVALID_ARG supported is NULL or precision is unknown.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_precision_supported(int precision, int *supported);

/**
 * @brief Chooses the precision of the net's next sfr_net_compile().
 *
 * A compiled net keeps the precision it was compiled with (its shorter
 * batches too) until it is compiled again.
 *
 * @param[in,out] net       The net.
 * @param[in]     precision One of ::sfr_precision.
 * @retval SFR_OK              The next compile uses it.
 * @retval SFR_ERR_INVALID_ARG net is NULL or precision is unknown.
 * @retval SFR_ERR_UNSUPPORTED bf16 on a CPU without AVX512_BF16 (emulated
 *                             bf16 would be slower than float32); the
 *                             message names the missing ISA.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_set_precision(sfr_net *net, int precision);

/**
 * @brief The precision sfr_net_set_precision() chose (::SFR_PRECISION_FP32 until then).
 * @param[in]  net       The net.
 * @param[out] precision Receives it.
 * @retval SFR_OK              *precision is written.
 * @retval SFR_ERR_INVALID_ARG net or precision is NULL.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_get_precision(const sfr_net *net, int *precision);

/**
 * @brief The number of layers (ids are 0 to count - 1; the input is 0, the output the last).
 *
 * @param[in]  net   The net.
 * @param[out] count Receives the count.
 * @retval SFR_OK              *count is written.
 * @retval SFR_ERR_INVALID_ARG net or count is NULL.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_layer_count(const sfr_net *net, int *count);

/**
 * @brief A layer's output shape per sample: C, H, W (layer 0: the input a
 *        forward takes, for instance of a net sfr_net_import_onnx() built).
 *
 * @param[in]  net   The net.
 * @param[in]  layer The layer's id.
 * @param[out] dims  Receives C, H and W.
 * @retval SFR_OK              dims is written.
 * @retval SFR_ERR_INVALID_ARG net or dims is NULL, or layer is unknown.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_layer_dims(const sfr_net *net, int layer, int dims[3]);

/**
 * @brief The id of the layer called name.
 *
 * @param[in]  net   The net.
 * @param[in]  name  The name (a default "layer<id>" too).
 * @param[out] layer Receives the id.
 * @retval SFR_OK              *layer is written.
 * @retval SFR_ERR_INVALID_ARG net, name or layer is NULL, or no layer has
 *                             that name; *layer is unchanged.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_find_layer(const sfr_net *net, const char *name, int *layer);

/**
 * @brief The net's buffers (non-trainable state) as one flat float buffer:
 *        every batch norm's running mean, then running variance, in layer
 *        order.
 *
 * Owned by the net, valid until the next builder call or destroy. A
 * training forward updates it; a host may change it (data-parallel ranks
 * average it, an importer sets it). PyTorch's num_batches_tracked is not
 * kept (momentum is fixed at 0.1).
 *
 * @param[in]  net    The net.
 * @param[out] values NULL, or receives the buffer (NULL while the net has no
 *                    batch norm).
 * @param[out] count  NULL, or receives the number of floats.
 * @retval SFR_OK              The non-NULL outputs are written.
 * @retval SFR_ERR_INVALID_ARG net is NULL.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_buffers(sfr_net *net, float **values, int64_t *count);

/**
 * @brief Number of buffer tensors (two per batch norm).
 * @param[in]  net   The net.
 * @param[out] count Receives the number.
 * @retval SFR_OK              *count is written.
 * @retval SFR_ERR_INVALID_ARG net or count is NULL.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_buffer_tensors(const sfr_net *net, int *count);

/**
 * @brief Name, offset in sfr_net_buffers() and size of buffer tensor i.
 * @param[in]  net    The net.
 * @param[in]  i      In [0, sfr_net_buffer_tensors()).
 * @param[out] name   NULL, or receives "<layer>.running_mean" or
 *                    "<layer>.running_var" (owned by the net).
 * @param[out] offset NULL, or receives the offset in floats.
 * @param[out] size   NULL, or receives the number of floats (the channels).
 * @retval SFR_OK              The non-NULL outputs are written.
 * @retval SFR_ERR_INVALID_ARG net is NULL, or i is out of range.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_buffer_info(const sfr_net *net, int i, const char **name,
                                       int64_t *offset, int64_t *size);

/**
 * @brief Saves the parameters and batch norm running statistics to a checkpoint.
 *
 * The file is versioned, checksummed and tied to the architecture (the
 * builder calls, not the batch size), in the little-endian format of
 * docs/checkpoint-format.md. Works before and after compile. A net holding
 * a NaN or an infinity (a parameter or a running statistic) is not saved:
 * a diverged net does not replace the last good checkpoint.
 *
 * The file written is path or, when path is a symbolic link, the file the
 * link leads to: the link stays a link (a dangling link's target is
 * created). A file replaced keeps its permission bits; a new one gets 0666
 * less the umask. The save writes a temporary file "<file>.tmp-<hex>" in
 * the file's directory, syncs it, renames it over the file and syncs the
 * directory, so path always holds either its old content or the complete
 * new checkpoint, never a part of one.
 *
 * On a failure before the rename the temporary is removed and path is as
 * it was. When only the last step, the directory sync, fails, the rename
 * has happened and cannot be undone: the call returns ::SFR_ERR_IO, path
 * holds the complete new checkpoint but whether it survives a power loss
 * is not confirmed, and sfr_last_error() says "... was replaced by the new
 * content, but its directory cannot be synced ...". A process killed
 * during a save can leave its temporary file behind; no libsfr call reads
 * it, and it may be deleted when no save to that file is running.
 *
 * @param[in] net  The net.
 * @param[in] path File to write, a non-empty NUL-terminated path.
 * @retval SFR_OK              path holds the checkpoint, synced to disk.
 * @retval SFR_ERR_INVALID_ARG net or path is NULL, or path is empty.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_NONFINITE   A parameter or running statistic is NaN or
 *                             infinite; nothing is written.
 * @retval SFR_ERR_IO          The file cannot be created, written, synced or
 *                             renamed, or path's links lead nowhere (a
 *                             loop): path is as it was. Or the directory
 *                             sync after the rename failed: path holds the
 *                             new checkpoint (see above).
 * @retval SFR_ERR_NOMEM       No memory for the checkpoint's image.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_save(const sfr_net *net, const char *path);

/**
 * @brief Loads the parameters and batch norm running statistics from a checkpoint.
 *
 * Verifies everything before changing anything, the cheap checks first:
 * the file must be a regular file (a FIFO or a device is refused at once,
 * never waited on), and its header (magic, version, counts) and size must
 * be those of this net's checkpoint, so that another file, however large,
 * is refused without being read. Then it reads the file and verifies the
 * checksum, the architecture and the values: every one finite, every batch
 * norm running variance >= 0. The net is untouched on any failure. Works
 * before and after compile; parameter gradients are not changed.
 *
 * @param[in,out] net  A net built with the same builder calls as the saved one.
 * @param[in]     path File written by sfr_net_save(), a non-empty NUL-terminated
 *                     path.
 * @retval SFR_OK              The parameters and running statistics are loaded.
 * @retval SFR_ERR_INVALID_ARG net or path is NULL, or path is empty.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @retval SFR_ERR_IO          The file cannot be opened or read, or is not a
 *                             regular file.
 * @retval SFR_ERR_FORMAT      Corrupt, truncated, another format version or
 *                             another network's checkpoint, or values that
 *                             are not finite or a negative running variance.
 * @retval SFR_ERR_NOMEM       No memory to read the file.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_net_load(sfr_net *net, const char *path);

/**
 * @brief Writes the checkpoint of sfr_net_save() into a memory buffer, for
 *        hosts that keep state in their own containers.
 *
 * The bytes are those sfr_net_save() would write to a file. Call it first
 * with buf NULL to learn the size. On every error nothing is written.
 *
 * @param[in]  net      The net.
 * @param[out] buf      NULL (a size query), or capacity bytes.
 * @param[in]  capacity The bytes buf holds.
 * @param[out] size     Receives the checkpoint's size in bytes.
 * @retval SFR_OK              The checkpoint is in buf (or *size is the size
 *                             a query asked for).
 * @retval SFR_ERR_INVALID_ARG net or size is NULL.
 * @retval SFR_ERR_SHAPE       capacity is smaller than the checkpoint.
 * @retval SFR_ERR_NONFINITE   A parameter or running statistic is NaN or
 *                             infinite.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_save_memory(const sfr_net *net, void *buf, size_t capacity,
                                       size_t *size);

/**
 * @brief Loads a checkpoint from memory, as sfr_net_load() does from a file.
 *
 * @param[in,out] net  A net built like the one saved.
 * @param[in]     buf  The checkpoint's bytes.
 * @param[in]     size Their number.
 * @retval SFR_OK              The parameters and running statistics are
 *                             the checkpoint's.
 * @retval SFR_ERR_INVALID_ARG net or buf is NULL.
 * @retval SFR_ERR_FORMAT      The bytes are not an intact checkpoint of this
 *                             net; the net is unchanged.
 * @retval SFR_ERR_NOMEM       No memory for the check.
 * @retval SFR_ERR_MISUSE      net is not a live net.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_net_load_memory(sfr_net *net, const void *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SFR_NET_H */
