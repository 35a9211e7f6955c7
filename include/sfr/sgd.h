/**
 * @file sfr/sgd.h
 * @brief Stochastic gradient descent on a net's flat parameter buffer.
 *
 * PyTorch's torch.optim.SGD semantics (dampening 0), in float:
 *
 *     g = grad + weight_decay * param
 *     buf = g on the first step, else momentum * buf + g
 *     g = nesterov ? g + momentum * buf : buf      (when momentum != 0)
 *     param -= lr * g
 *
 * An optimizer serves one net (its momentum buffer matches that net's
 * parameters) and is used by one thread at a time, together with its net.
 *
 * @since 0.1.0
 */
#ifndef SFR_SGD_H
#define SFR_SGD_H

#include "export.h"
#include "net.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Opaque handle of an SGD optimizer.
 * @since 0.1.0
 */
typedef struct sfr_sgd sfr_sgd;

/**
 * @brief Creates an optimizer.
 *
 * The update runs in float, as PyTorch's does for float32 parameters, so
 * every hyper-parameter must also be finite as a float.
 *
 * @param[out] out          Receives the optimizer, to release with
 *                          sfr_sgd_destroy().
 * @param[in]  lr           Learning rate, finite, > 0 and not rounding to 0
 *                          as a float.
 * @param[in]  momentum     Momentum, finite and >= 0 (0: plain SGD).
 * @param[in]  weight_decay L2 penalty added to the gradient, finite and >= 0.
 * @param[in]  nesterov     0, or 1 for Nesterov momentum (needs a momentum
 *                          that is > 0 as a float).
 * @retval SFR_OK              *out holds the optimizer.
 * @retval SFR_ERR_INVALID_ARG out is NULL, or a value is out of range.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_sgd_create(sfr_sgd **out, double lr, double momentum,
                                  double weight_decay, int nesterov);

/**
 * @brief Updates a net's parameters in place from their gradients.
 *
 * Uses the buffers of sfr_net_params(), with the gradients as
 * sfr_net_backward() left them. The first step allocates the momentum
 * buffer (when momentum > 0) for the net's parameter count; later steps
 * allocate nothing. Gradients are used as they are: a NaN in them reaches
 * the parameters, as in PyTorch. The parameters are unchanged on any error.
 *
 * @param[in,out] opt The optimizer.
 * @param[in,out] net The net it serves (the same net at every step).
 * @retval SFR_OK              The parameters are updated.
 * @retval SFR_ERR_INVALID_ARG opt or net is NULL.
 * @retval SFR_ERR_MISUSE      opt or net is not a live handle of its kind.
 * @retval SFR_ERR_SHAPE       The net's parameter count differs from the
 *                             first step's: an optimizer serves one net.
 * @retval SFR_ERR_NOMEM       The momentum buffer could not be allocated
 *                             (first step only).
 * @since 0.1.0
 */
SFR_API sfr_status sfr_sgd_step(sfr_sgd *opt, sfr_net *net);

/**
 * @brief Changes the learning rate for the following steps.
 *
 * The momentum buffer is kept (a schedule changes lr between steps).
 *
 * @param[in,out] opt The optimizer.
 * @param[in]     lr  Learning rate, finite, > 0 and not rounding to 0 as a float.
 * @retval SFR_OK              The learning rate is set.
 * @retval SFR_ERR_INVALID_ARG opt is NULL, or lr is out of range.
 * @retval SFR_ERR_MISUSE      opt is not a live optimizer.
 * @since 0.1.0
 */
SFR_API sfr_status sfr_sgd_set_lr(sfr_sgd *opt, double lr);

/**
 * @brief Releases an optimizer and its momentum buffer.
 *
 * @param[in] opt The optimizer; NULL is a no-op.
 * @since 0.1.0
 */
SFR_API void sfr_sgd_destroy(sfr_sgd *opt);

#ifdef __cplusplus
}
#endif

#endif /* SFR_SGD_H */
