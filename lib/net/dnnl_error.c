/* oneDNN failures as libsfr statuses, with the oneDNN status named. */
#include <dnnl_debug.h>

#include "net_impl.h"

sfr_status sfri_dnnl_fail(dnnl_status_t st, const char *func, const char *what)
{
    sfr_status code = st == dnnl_out_of_memory ? SFR_ERR_NOMEM : SFR_ERR_BACKEND;
    return sfri_fail(code, func, "oneDNN %s failed: %s (%d)", what, dnnl_status2str(st), (int)st);
}

sfr_status sfri_net_run(sfr_net *net, const struct sfri_step *s, const char *func)
{
    return sfri_net_run_on(net, net->stream, s, func);
}

sfr_status sfri_net_run_on(sfr_net *net, dnnl_stream_t stream, const struct sfri_step *s,
                           const char *func)
{
    if (s->run != NULL) {
        dnnl_status_t ws = dnnl_stream_wait(stream);
        if (ws != dnnl_success)
            return sfri_dnnl_fail(ws, func, "stream wait");
        double t0 = sfri_prof_start(net);
        sfr_status st = s->run(net, s->layer, func);
        sfri_prof_stop(net, s->layer, s->pass, t0);
        return st;
    }
    if (s->prim == NULL)
        return SFR_OK;
    double t0 = sfri_prof_start(net);
    dnnl_status_t st = dnnl_primitive_execute(s->prim, stream, s->nargs, s->args);
    if (st == dnnl_success && net->profile != NULL)
        st = dnnl_stream_wait(stream);
    sfri_prof_stop(net, s->layer, s->pass, t0);
    return st == dnnl_success ? SFR_OK : sfri_dnnl_fail(st, func, "primitive execution");
}
