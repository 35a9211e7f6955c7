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
 * in from for an add) to the input's diff. */
static void pass_to_input(sfr_net *net, const struct sfri_layer *l, int s, const float *from)
{
    struct sfri_layer *src = net->layers[l->in[s]];
    int64_t n = sfri_layer_numel(net, src);
    if (l->grad_mode[s] == SFRI_GRAD_WRITE && from != src->diff)
        memcpy(src->diff, from, (size_t)n * sizeof(float));
    else if (l->grad_mode[s] == SFRI_GRAD_ADD)
        sfri_add_into(src->diff, from, n);
}

SFR_API sfr_status sfr_net_backward(sfr_net *net, const float *dlogits)
{
    static const char *const fn = "sfr_net_backward";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
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

    for (int i = net->n_layers - 1; i >= 1; i--) {
        struct sfri_layer *l = net->layers[i];
        int64_t n = sfri_layer_numel(net, l);
        if (l->consumers == 0) {
            if (i == net->n_layers - 1)
                memcpy(l->diff, dlogits, (size_t)n * sizeof(float));
            else
                memset(l->diff, 0, (size_t)n * sizeof(float));
        }
        if (l->tap != NULL)
            sfri_add_into(l->diff, l->tap->grad, n);
        if (l->kind == SFRI_LAYER_ADD) {
            pass_to_input(net, l, 0, l->diff);
            pass_to_input(net, l, 1, l->diff);
            continue;
        }
        if (l->bwd.prim != NULL) {
            st = sfri_net_run(net, &l->bwd, fn);
            if (st == SFR_OK && l->grad_mode[0] == SFRI_GRAD_ADD) {
                dnnl_status_t ds = dnnl_stream_wait(net->stream);
                if (ds != dnnl_success)
                    return sfri_dnnl_fail(ds, fn, "stream wait");
                pass_to_input(net, l, 0, net->accum);
            }
        }
        if (st == SFR_OK && l->bwd_w.prim != NULL)
            st = sfri_net_run(net, &l->bwd_w, fn);
        if (st != SFR_OK)
            return st;
    }
    dnnl_status_t ds = dnnl_stream_wait(net->stream);
    return ds == dnnl_success ? SFR_OK : sfri_dnnl_fail(ds, fn, "stream wait");
}
