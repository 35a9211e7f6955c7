/* sfr_net_tap: the net's taps on its layer outputs, and their plain copies. */
#include "../tap/tap.h"
#include "net_impl.h"

static int tap_has_output(const sfr_tap *tap)
{
    return sfri_net_has_output(tap->owner);
}

/* Makes the plain copy of a net tap's data current (a blocked tap skips it
 * after a forward while the host has not asked for it). */
static sfr_status make_plain(sfr_tap *tap, const char *func)
{
    sfr_net *net = tap->owner;
    if (tap->plain_fresh || !sfri_net_has_output(net))
        return SFR_OK;
    sfr_status st = sfri_net_run(net, &net->layers[tap->layer]->to_plain, func);
    if (st != SFR_OK)
        return st;
    dnnl_status_t ds = dnnl_stream_wait(net->stream);
    if (ds != dnnl_success)
        return sfri_dnnl_fail(ds, func, "stream wait");
    tap->plain_fresh = 1;
    return SFR_OK;
}

/* The host reads the data: from now on every forward copies it. */
static sfr_status tap_prepare_read(sfr_tap *tap, const char *func)
{
    if (tap->blocked == NULL)
        return SFR_OK;
    sfr_status st = make_plain(tap, func);
    if (st == SFR_OK)
        tap->host_data = 1;
    return st;
}

static const struct sfri_tap_owner_ops net_tap_ops = {tap_has_output, tap_prepare_read};

SFR_API sfr_status sfr_net_tap(sfr_net *net, int layer, sfr_tap **out)
{
    static const char *const fn = "sfr_net_tap";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (out == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "out is NULL");
    struct sfri_layer *l = NULL;
    if ((st = sfri_net_layer_arg(net, layer, fn, &l)) != SFR_OK)
        return st;
    if (l->tap == NULL) {
        sfr_tap *tap = sfri_tap_new_owned(net, layer);
        if (tap == NULL)
            return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
        tap->ops = &net_tap_ops;
        l->tap = tap;
        if (net->phase != SFRI_PHASE_BUILDING) {
            /* Only the full plan gets the tap; a partial one is compiled
             * again, with it, when next asked for. */
            sfri_net_drop_partial(net);
            /* A fusion hid this output, or its gradient buffer is shared:
             * compile again without that. */
            int64_t batch = net->batch;
            int recompile = l->hidden || sfri_net_shares_diff(net, layer);
            st = recompile ? sfri_net_recompile(net, batch, fn)
                           : sfri_net_blame_layer(net, layer, sfri_net_bind_tap(net, tap, fn), fn);
            if (st != SFR_OK) {
                l->tap = NULL;
                sfri_tap_free_owned(tap);
                /* The failed compile left the net uncompiled: back to its
                 * compile without the tap (only if that fails too does it
                 * stay uncompiled, with that failure's message). */
                if (recompile)
                    sfri_net_recompile(net, batch, fn);
                return st;
            }
        }
    }
    *out = l->tap;
    return SFR_OK;
}

int sfri_net_plain_deferred(const sfr_net *net, int layer)
{
    const sfr_tap *tap = net->layers[layer]->tap;
    return tap != NULL && tap->blocked != NULL && !tap->host_data && layer != net->n_layers - 1;
}
