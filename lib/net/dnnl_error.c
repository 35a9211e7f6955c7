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
    dnnl_status_t st = dnnl_primitive_execute(s->prim, net->stream, s->nargs, s->args);
    return st == dnnl_success ? SFR_OK : sfri_dnnl_fail(st, func, "primitive execution");
}
