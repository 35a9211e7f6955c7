/*
 * libsfr: feature taps.
 *
 * An sfr_tap is a view of one feature map, float32 NCHW contiguous, plus an
 * optional gradient buffer of the same shape. A tap either belongs to an
 * sfr_net (sfr_net_tap: a layer's output) or wraps buffers the host owns
 * (sfr_tap_wrap: for hosts that run their own network). The regularizer
 * reads tap data and adds its gradients into tap gradient buffers.
 */
#ifndef SFR_TAP_H
#define SFR_TAP_H

#include <stdint.h>

#include "export.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sfr_tap sfr_tap;

/*
 * Wraps host buffers as a tap. dims = {N, C, H, W}, each >= 1; data holds
 * N*C*H*W floats in NCHW order; grad, when not NULL, is a buffer of the same
 * size into which gradients are added (never overwritten). The buffers stay
 * the host's: they must outlive every use of the tap, and the tap never frees
 * them. *out receives the new tap, to release with sfr_tap_destroy.
 * Errors: SFR_ERR_INVALID_ARG (NULL dims, data or out), SFR_ERR_SHAPE (a
 * dimension < 1, or a total size that does not fit in memory),
 * SFR_ERR_NOMEM. Since 0.1.0.
 */
SFR_API sfr_status sfr_tap_wrap(const int64_t dims[4], const float *data, float *grad,
                                sfr_tap **out);

/*
 * Points a wrapped tap at new buffers of the same shape (hosts that allocate
 * new tensors each step rebind instead of re-creating). grad may be NULL.
 * Errors: SFR_ERR_INVALID_ARG (NULL tap or data, or a tap that belongs to
 * a net), SFR_ERR_MISUSE (not a live tap). Since 0.1.0.
 */
SFR_API sfr_status sfr_tap_rebind(sfr_tap *tap, const float *data, float *grad);

/*
 * Writes the tap's {N, C, H, W}. For a net's tap the shape is known once the
 * net is compiled (SFR_ERR_STATE before). Errors: SFR_ERR_INVALID_ARG,
 * SFR_ERR_MISUSE, SFR_ERR_STATE. Since 0.1.0.
 */
SFR_API sfr_status sfr_tap_dims(const sfr_tap *tap, int64_t dims[4]);

/*
 * Writes the tap's data pointer (N*C*H*W floats, NCHW). For a net's tap it is
 * owned by the net, valid until the next compile or destroy, and holds the
 * layer's output after a forward. Errors: SFR_ERR_INVALID_ARG,
 * SFR_ERR_MISUSE, SFR_ERR_STATE (net not compiled). Since 0.1.0.
 */
SFR_API sfr_status sfr_tap_data(const sfr_tap *tap, const float **data);

/*
 * Writes the tap's gradient buffer pointer, which may be NULL for a wrapped
 * tap created without one. Errors as sfr_tap_data. Since 0.1.0.
 */
SFR_API sfr_status sfr_tap_grad(sfr_tap *tap, float **grad);

/*
 * Releases a tap made by sfr_tap_wrap. NULL is a no-op, and so is a tap that
 * belongs to a net (the net frees it). The host's buffers are not touched.
 * A tap must not be destroyed while a regularizer still holds it in a pair.
 * Since 0.1.0.
 */
SFR_API void sfr_tap_destroy(sfr_tap *tap);

#ifdef __cplusplus
}
#endif

#endif /* SFR_TAP_H */
