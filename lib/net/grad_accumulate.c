/*
 * Gradient accumulation over micro-batches: a backward that adds the new
 * parameter gradients to those already in the net's buffer, and the call
 * that zeroes them.
 *
 * oneDNN's backward-weights primitives overwrite their outputs, and some
 * reach the flat buffer through a reorder, others directly; so the
 * accumulating backward keeps the gradients held before it aside, runs the
 * ordinary backward, and adds them back: two passes over the parameters,
 * small next to the backward itself, and a buffer allocated once.
 */
#include <string.h>

#include "net_impl.h"

/* The buffer that holds the gradients across the backward, sized for the
 * net's current parameters (a builder call may have changed their count). */
static sfr_status reserve_grad_sum(sfr_net *net, const char *fn)
{
    if (net->grad_sum_count == net->n_params && net->grad_sum != NULL)
        return SFR_OK;
    float *buf = sfri_aligned_alloc(64, sfri_mul_size((size_t)net->n_params, sizeof(float)));
    if (buf == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory to hold %lld parameter gradients",
                         (long long)net->n_params);
    sfri_free(net->grad_sum);
    net->grad_sum = buf;
    net->grad_sum_count = net->n_params;
    return SFR_OK;
}

SFR_API sfr_status sfr_net_backward_accumulate(sfr_net *net, const float *dlogits)
{
    static const char *const fn = "sfr_net_backward_accumulate";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK || net->n_params == 0)
        return st != SFR_OK ? st : sfri_net_backward(net, dlogits, fn);
    if ((st = reserve_grad_sum(net, fn)) != SFR_OK)
        return st;
    size_t bytes = (size_t)net->n_params * sizeof(float);
    memcpy(net->grad_sum, net->grads, bytes);
    st = sfri_net_backward(net, dlogits, fn);
    if (st != SFR_OK) {
        /* A failure inside oneDNN may have written part of the gradients:
         * put back what the host had accumulated. */
        memcpy(net->grads, net->grad_sum, bytes);
        return st;
    }
    sfri_add_into(net->grads, net->grad_sum, net->n_params);
    return SFR_OK;
}

SFR_API sfr_status sfr_net_zero_grads(sfr_net *net)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, "sfr_net_zero_grads", "net");
    if (st == SFR_OK && net->n_params > 0)
        memset(net->grads, 0, (size_t)net->n_params * sizeof(float));
    return st;
}
