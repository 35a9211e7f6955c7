/*
 * libsfr: stochastic gradient descent on a net's flat parameter buffer,
 * with PyTorch's torch.optim.SGD semantics (dampening 0):
 *
 *     g = grad + weight_decay * param
 *     buf = g on the first step, else momentum * buf + g
 *     g = nesterov ? g + momentum * buf : buf      (when momentum != 0)
 *     param -= lr * g
 *
 * An optimizer serves one net (its momentum buffer matches that net's
 * parameters) and is used by one thread at a time.
 */
#ifndef SFR_SGD_H
#define SFR_SGD_H

#include "export.h"
#include "net.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sfr_sgd sfr_sgd;

/*
 * Creates an optimizer. lr > 0, momentum >= 0, weight_decay >= 0, all finite
 * and finite as floats (the update runs in float, as PyTorch's does for
 * float32 parameters; an lr that rounds to 0 is refused); nesterov is 0 or
 * 1 and needs momentum > 0. Errors: SFR_ERR_INVALID_ARG (out NULL or a
 * value out of range), SFR_ERR_NOMEM. Since 0.1.0.
 */
SFR_API sfr_status sfr_sgd_create(sfr_sgd **out, double lr, double momentum,
                                  double weight_decay, int nesterov);

/*
 * Updates net's parameters in place from their gradients (as left by
 * sfr_net_backward), through sfr_net_params. The first step allocates the
 * momentum buffer (when momentum > 0) for the net's parameter count; later
 * steps allocate nothing. Gradients are used as they are: a NaN in them
 * reaches the parameters, as in PyTorch. Errors: SFR_ERR_INVALID_ARG (opt or
 * net NULL), SFR_ERR_MISUSE (not a live optimizer or net), SFR_ERR_SHAPE
 * (the net's parameter count differs from the first step's: an optimizer
 * serves one net), SFR_ERR_NOMEM (first step only); the parameters are
 * unchanged on any error. Since 0.1.0.
 */
SFR_API sfr_status sfr_sgd_step(sfr_sgd *opt, sfr_net *net);

/* Changes the learning rate (lr > 0, finite as a float) for the following
 * steps; the momentum buffer is kept. Errors: SFR_ERR_INVALID_ARG (opt NULL
 * or lr out of range), SFR_ERR_MISUSE. Since 0.1.0. */
SFR_API sfr_status sfr_sgd_set_lr(sfr_sgd *opt, double lr);

/* Releases an optimizer. NULL is a no-op. Since 0.1.0. */
SFR_API void sfr_sgd_destroy(sfr_sgd *opt);

#ifdef __cplusplus
}
#endif

#endif /* SFR_SGD_H */
