/*
 * sfr_net_backward. Layers are visited from the last to the first; when a
 * layer is reached every layer that consumes it has already contributed to
 * its diff, so diff is complete once the tap's gradient is added.
 */
#include <math.h>
#include <string.h>

#include "../tap/tap.h"
#include "net_impl.h"

/* Hands a gradient w.r.t. input slot s of l (already in place for a write,
 * in from for an add; in the input's layout) to the input's diff. */
static void pass_to_input(sfr_net *net, const struct sfri_layer *l, int s, const float *from)
{
    struct sfri_layer *src = net->layers[l->in[s]];
    if (l->grad_mode[s] == SFRI_GRAD_WRITE && from != src->diff)
        memcpy(src->diff, from, src->bytes);
    else if (l->grad_mode[s] == SFRI_GRAD_ADD)
        sfri_add_into(src->diff, from, (int64_t)(src->bytes / sizeof(float)));
}

/* The gradient w.r.t. input 1 of a kind that computes it in a step of its
 * own (not the residual add): written, or summed through the accumulation
 * buffer, which input 0 no longer needs. */
static sfr_status input1_gradient(sfr_net *net, const struct sfri_layer *l, const char *fn)
{
    sfr_status st = sfri_net_run(net, &l->bwd1_pre, fn);
    if (st == SFR_OK)
        st = sfri_net_run(net, &l->bwd1, fn);
    if (st != SFR_OK || l->grad_mode[1] != SFRI_GRAD_ADD)
        return st;
    dnnl_status_t ds = dnnl_stream_wait(net->stream);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "stream wait");
    pass_to_input(net, l, 1, net->accum);
    return SFR_OK;
}

/* The gradient reaching layer i's output from outside the net: dlogits for
 * the output layer, zero for an unused one, plus the tap's. */
static sfr_status seed_gradient(sfr_net *net, int i, const float *dlogits, const char *fn)
{
    struct sfri_layer *l = net->layers[i];
    sfr_status st = SFR_OK;
    if (l->consumers == 0 && i == net->n_layers - 1 && l->plain_md) {
        memcpy(l->diff, dlogits, l->bytes);
    } else if (l->consumers == 0 && i == net->n_layers - 1) {
        dnnl_status_t ds = dnnl_memory_set_data_handle(net->logits_mem, (void *)dlogits);
        if (ds != dnnl_success)
            return sfri_dnnl_fail(ds, fn, "dlogits binding");
        st = sfri_net_run(net, &net->logits_in, fn);
    } else if (l->consumers == 0) {
        memset(l->diff, 0, l->bytes);
    }
    if (st != SFR_OK || l->tap == NULL)
        return st;
    /* The regularizer's gradient in the layer's own layout. */
    if (l->tap->blocked_grad_live)
        sfri_add_into(l->diff, l->tap->blocked_grad, sfri_tap_numel(l->tap));
    /* A tap the host gave no gradient (a step without SFR pairs on it) stays
     * zero: skipping its add saves a layout conversion of the whole tensor,
     * and a scan that finds a nonzero value stops at once. A blocked tap's
     * plain gradient is only written once the host has asked for it. */
    if ((l->tap->blocked != NULL && !l->tap->host_grad) ||
        sfri_all_zero(l->tap->grad, sfri_tap_numel(l->tap)))
        return st;
    if (l->plain_md)
        sfri_add_into(l->diff, l->tap->grad, sfri_tap_numel(l->tap));
    else
        st = sfri_net_run(net, &l->tap_in, fn);
    return st;
}

/* The tap gradients seed_gradient will add, checked before backward writes
 * anything: a NaN there would spread into every parameter gradient. */
static sfr_status check_tap_grads(const sfr_net *net, const char *fn)
{
    for (int i = 1; i < net->n_layers; i++) {
        const sfr_tap *tap = net->layers[i]->tap;
        if (tap == NULL)
            continue;
        const int64_t n = sfri_tap_numel(tap);
        const int plain_used = tap->blocked == NULL || tap->host_grad;
        if ((tap->blocked_grad_live && !sfri_all_finite(tap->blocked_grad, n)) ||
            (plain_used && !sfri_all_finite(tap->grad, n)))
            return sfri_fail(SFR_ERR_NONFINITE, fn, "the gradient of the tap on layer %d holds "
                             "NaN or infinity", i);
    }
    return SFR_OK;
}

sfr_status sfri_net_backward(sfr_net *net, const float *dlogits, const char *fn)
{
    sfr_status st;
    if (dlogits == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "dlogits is NULL");
    if (net->phase != SFRI_PHASE_TRAINED)
        return sfri_fail(SFR_ERR_STATE, fn, "%s",
                         net->phase == SFRI_PHASE_EVALUATED
                             ? "the last forward was an eval forward: backward needs a training forward"
                             : "no training forward since the net was compiled");
    const struct sfri_layer *out = net->layers[net->n_layers - 1];
    int64_t n_out = sfri_layer_numel(net, out);
    for (int64_t i = 0; i < n_out; i++) {
        if (!isfinite(dlogits[i]))
            return sfri_fail(SFR_ERR_NONFINITE, fn, "dlogits[%lld] is not finite", (long long)i);
    }
    if ((st = check_tap_grads(net, fn)) != SFR_OK)
        return st;

    for (int i = net->n_layers - 1; i >= 1; i--) {
        struct sfri_layer *l = net->layers[i];
        double t0 = sfri_prof_start(net);
        st = seed_gradient(net, i, dlogits, fn);
        if (st != SFR_OK)
            return st;
        /* The residual add and the concatenation hand their gradient on
         * themselves: copied, converted or cut in parts by pass_on. */
        if (l->kind == SFRI_LAYER_ADD || l->kind == SFRI_LAYER_CONCAT) {
            for (int s = 0; s < 2 && st == SFR_OK; s++) {
                if (l->pass_on[s].prim != NULL)
                    st = sfri_net_run(net, &l->pass_on[s], fn);
                else
                    pass_to_input(net, l, s, l->diff);
            }
            sfri_prof_stop(net, i, SFRI_PASS_LAYOUT, t0);
            if (st != SFR_OK)
                return st;
            continue;
        }
        sfri_prof_stop(net, i, SFRI_PASS_LAYOUT, t0);
        st = sfri_net_run(net, &l->bwd_pre, fn);
        if (st == SFR_OK)
            st = sfri_net_run(net, &l->bwd, fn);
        if (st == SFR_OK && sfri_step_exists(&l->bwd) && l->grad_mode[0] == SFRI_GRAD_ADD) {
            dnnl_status_t ds = dnnl_stream_wait(net->stream);
            if (ds != dnnl_success)
                return sfri_dnnl_fail(ds, fn, "stream wait");
            t0 = sfri_prof_start(net);
            pass_to_input(net, l, 0, net->accum);
            sfri_prof_stop(net, i, SFRI_PASS_LAYOUT, t0);
        }
        if (st == SFR_OK)
            st = sfri_net_run(net, &l->bwd_w, fn);
        if (st == SFR_OK && (sfri_step_exists(&l->bwd1) || sfri_step_exists(&l->bwd1_pre)))
            st = input1_gradient(net, l, fn);
        if (st != SFR_OK)
            return st;
    }
    dnnl_status_t ds = dnnl_stream_wait(net->stream);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, fn, "stream wait");
    st = sfri_net_weight_reorders(net, 1, 0, fn);
    if (st != SFR_OK)
        return st;
    sfri_prof_count(net, 1);
    return SFR_OK;
}

SFR_API sfr_status sfr_net_backward(sfr_net *net, const float *dlogits)
{
    static const char *const fn = "sfr_net_backward";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    return st != SFR_OK ? st : sfri_net_backward(net, dlogits, fn);
}
