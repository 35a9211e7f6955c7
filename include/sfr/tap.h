/**
 * @file sfr/tap.h
 * @brief Feature taps: views of feature maps that the regularizer reads and
 *        adds gradients into.
 *
 * An ::sfr_tap is a view of one feature map, float32 NCHW contiguous, plus an
 * optional gradient buffer of the same shape. A tap either belongs to an
 * ::sfr_net (sfr_net_tap(): a layer's output) or wraps buffers the host owns
 * (sfr_tap_wrap(): for hosts that run their own network). The regularizer
 * reads tap data and adds its gradients into tap gradient buffers.
 *
 * A tap is used by one thread at a time, together with the net or
 * regularizer that uses it (docs/threading.md).
 *
 * @since 0.1.0
 */
#ifndef SFR_TAP_H
#define SFR_TAP_H

#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Opaque handle of a feature tap.
 * @since 0.1.0
 */
typedef struct sfr_tap sfr_tap;

/**
 * @brief Wraps host buffers as a tap.
 *
 * The buffers stay the host's: they must outlive every use of the tap, and
 * the tap never frees them. Nothing is copied.
 *
 * @param[in]  dims {N, C, H, W}, each >= 1; copied.
 * @param[in]  data (N, C, H, W) floats, NCHW contiguous: the feature map.
 *                  Read by sfr_reg_compute(), never written.
 * @param[in]  grad NULL, or (N, C, H, W) floats, NCHW contiguous, into which
 *                  the regularizer adds gradients (never overwrites: the host
 *                  zeroes it when it wants). A student tap needs one.
 * @param[out] out  Receives the new tap, to release with sfr_tap_destroy().
 * @retval SFR_OK              *out holds the tap.
 * @retval SFR_ERR_INVALID_ARG dims, data or out is NULL.
 * @retval SFR_ERR_SHAPE       A dimension < 1, or N*C*H*W floats would not
 *                             fit in memory.
 * @retval SFR_ERR_NOMEM       The tap could not be allocated.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_tap_wrap(const int64_t dims[4], const float *data, float *grad,
                                sfr_tap **out);

/**
 * @brief Points a wrapped tap at new buffers of the same shape.
 *
 * Hosts that allocate new tensors each step rebind instead of re-creating
 * the tap, so the pairs that hold it stay valid. The shape cannot change.
 *
 * @param[in,out] tap  A tap made by sfr_tap_wrap().
 * @param[in]     data (N, C, H, W) floats, NCHW contiguous, of the tap's shape.
 * @param[in]     grad NULL or (N, C, H, W) floats of the tap's shape.
 * @retval SFR_OK              The tap now views data and grad.
 * @retval SFR_ERR_INVALID_ARG tap or data is NULL, or the tap belongs to a net.
 * @retval SFR_ERR_MISUSE      tap is not a live tap.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_tap_rebind(sfr_tap *tap, const float *data, float *grad);

/**
 * @brief Writes the tap's shape.
 *
 * For a net's tap the shape is known once the net is compiled.
 *
 * @param[in]  tap  A live tap.
 * @param[out] dims Receives {N, C, H, W}.
 * @retval SFR_OK              dims is written.
 * @retval SFR_ERR_INVALID_ARG tap or dims is NULL.
 * @retval SFR_ERR_MISUSE      tap is not a live tap.
 * @retval SFR_ERR_STATE       A net's tap whose net is not compiled.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_tap_dims(const sfr_tap *tap, int64_t dims[4]);

/**
 * @brief Writes the tap's data pointer.
 *
 * For a net's tap the buffer is owned by the net, valid until the net's
 * next compile or destroy, and holds the layer's output of the net's last
 * forward, whenever the tap was asked for (a tap asked for after a forward
 * shows that forward's output at once). With no forward since the net was
 * compiled (or compiled again, as sfr_net_tap() may do) there is no output
 * to show and the call fails with #SFR_ERR_STATE until the next forward.
 * A net keeps most layers in a blocked layout, and the regularizer reads
 * those directly: the plain copy in this buffer is made after every forward
 * once the host has asked for it here, and before that by this call (which
 * then runs on the net's stream, so like every use of the net it must not
 * run at the same time as another call on that net).
 * For a wrapped tap it is the host's pointer.
 *
 * @param[in]  tap  A live tap.
 * @param[out] data Receives the (N, C, H, W) floats, NCHW contiguous.
 * @retval SFR_OK              *data is written.
 * @retval SFR_ERR_INVALID_ARG tap or data is NULL.
 * @retval SFR_ERR_MISUSE      tap is not a live tap.
 * @retval SFR_ERR_STATE       A net's tap whose net is not compiled, or has
 *                             run no forward since its last compile.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_tap_data(const sfr_tap *tap, const float **data);

/**
 * @brief Writes the tap's gradient buffer pointer.
 *
 * For a net's tap the buffer is owned by the net, valid until the net's
 * next compile or destroy, zeroed by every training forward, and added into
 * the layer's gradient by sfr_net_backward(). (Until the host first asks
 * for it, nothing writes it and the net skips it; the regularizer adds its
 * gradients to the layer through a buffer of its own.) For a wrapped tap it
 * is the host's pointer, NULL when the tap was made without one.
 *
 * @param[in]  tap  A live tap.
 * @param[out] grad Receives the (N, C, H, W) floats, NCHW contiguous, or NULL.
 * @retval SFR_OK              *grad is written.
 * @retval SFR_ERR_INVALID_ARG tap or grad is NULL.
 * @retval SFR_ERR_MISUSE      tap is not a live tap.
 * @retval SFR_ERR_STATE       A net's tap whose net is not compiled.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_tap_grad(sfr_tap *tap, float **grad);

/**
 * @brief Releases a tap made by sfr_tap_wrap().
 *
 * The host's buffers are not touched. A tap must not be destroyed while a
 * regularizer still holds it in a pair.
 *
 * @param[in] tap The tap. NULL is a no-op, and so is a tap that belongs to a
 *                net (sfr_net_destroy() frees it).
 * @since 0.1.0
 */
SFR_API void sfr_tap_destroy(sfr_tap *tap);

#ifdef __cplusplus
}
#endif

#endif /* SFR_TAP_H */
