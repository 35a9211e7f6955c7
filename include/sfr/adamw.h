/**
 * @file sfr/adamw.h
 * @brief AdamW (decoupled weight decay) on a net's flat parameter buffer.
 *
 * PyTorch 1.13's torch.optim.AdamW (amsgrad and maximize off), in float,
 * operation for operation. With t the step count (1 at the first step), g the
 * gradient, m and v the moment buffers (0 before the first step):
 *
 *     param = param * (1 - lr * weight_decay)
 *     m = m * beta1 + (1 - beta1) * g
 *     v = v * beta2 + (1 - beta2) * g * g
 *     denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *     param = param - (lr / (1 - beta1^t)) * m / denom
 *
 * The scalars (1 - lr * weight_decay, 1 - beta1, the two bias corrections and
 * the step size) are computed in double and rounded to float, as PyTorch does
 * with Python floats; docs/integration.md says how close the two agree.
 *
 * An optimizer serves one net (its moment buffers match that net's
 * parameters) and is used by one thread at a time, together with its net.
 *
 * @since 0.2.0
 */
#ifndef SFR_ADAMW_H
#define SFR_ADAMW_H

#include <stdint.h>

#include "export.h"
#include "net.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Opaque handle of an AdamW optimizer.
 * @since 0.2.0
 */
typedef struct sfr_adamw sfr_adamw;

/**
 * @brief Creates an optimizer.
 *
 * PyTorch's defaults are lr 1e-3, betas 0.9 and 0.999, eps 1e-8 and
 * weight_decay 1e-2. Every value must also be finite as a float.
 *
 * @param[out] out          Receives the optimizer, to release with
 *                          sfr_adamw_destroy().
 * @param[in]  lr           Learning rate, finite, > 0 and not rounding to 0
 *                          as a float.
 * @param[in]  beta1        First-moment decay, in [0, 1).
 * @param[in]  beta2        Second-moment decay, in [0, 1).
 * @param[in]  eps          Added to the denominator, > 0 and not rounding to
 *                          0 as a float (PyTorch also accepts 0, which turns a
 *                          parameter whose gradients were all 0 into NaN).
 * @param[in]  weight_decay Decoupled decay, finite and >= 0, with
 *                          lr * weight_decay <= 1.
 * @retval SFR_OK              *out holds the optimizer.
 * @retval SFR_ERR_INVALID_ARG out is NULL, or a value is out of range.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_adamw_create(sfr_adamw **out, double lr, double beta1, double beta2,
                                    double eps, double weight_decay);

/**
 * @brief Updates a net's parameters in place from their gradients.
 *
 * Uses the buffers of sfr_net_params(), with the gradients as
 * sfr_net_backward() left them. The first step allocates the two moment
 * buffers for the net's parameter count; later steps allocate nothing.
 * Gradients are used as they are: a NaN in them reaches the parameters, as
 * in PyTorch. The parameters, the moments and the step count are unchanged
 * on any error.
 *
 * @param[in,out] opt The optimizer.
 * @param[in,out] net The net it serves (the same net at every step).
 * @retval SFR_OK              The parameters are updated.
 * @retval SFR_ERR_INVALID_ARG opt or net is NULL.
 * @retval SFR_ERR_MISUSE      opt or net is not a live handle of its kind.
 * @retval SFR_ERR_SHAPE       The net's parameter count differs from the
 *                             first step's: an optimizer serves one net.
 * @retval SFR_ERR_NOMEM       The moment buffers could not be allocated
 *                             (first step only).
 * @since 0.2.0
 */
SFR_API sfr_status sfr_adamw_step(sfr_adamw *opt, sfr_net *net);

/**
 * @brief Changes the learning rate for the following steps.
 *
 * The moments and the step count are kept (a schedule changes lr between
 * steps).
 *
 * @param[in,out] opt The optimizer.
 * @param[in]     lr  Learning rate, as at sfr_adamw_create(), with
 *                    lr * weight_decay <= 1.
 * @retval SFR_OK              The learning rate is set.
 * @retval SFR_ERR_INVALID_ARG opt is NULL, or lr is out of range.
 * @retval SFR_ERR_MISUSE      opt is not a live optimizer.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_adamw_set_lr(sfr_adamw *opt, double lr);

/**
 * @brief The number of steps taken (PyTorch's state "step").
 *
 * @param[in]  opt   The optimizer.
 * @param[out] steps Receives the count, 0 before the first step.
 * @retval SFR_OK              *steps holds the count.
 * @retval SFR_ERR_INVALID_ARG opt or steps is NULL.
 * @retval SFR_ERR_MISUSE      opt is not a live optimizer.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_adamw_steps(const sfr_adamw *opt, int64_t *steps);

/**
 * @brief Releases an optimizer and its moment buffers.
 *
 * @param[in] opt The optimizer; NULL is a no-op.
 * @since 0.2.0
 */
SFR_API void sfr_adamw_destroy(sfr_adamw *opt);

#ifdef __cplusplus
}
#endif

#endif /* SFR_ADAMW_H */
