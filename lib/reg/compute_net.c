/*
 * sfr_reg_compute_net: sfr_reg_compute with the logits and their shape
 * taken from a net's output, so that a host cannot pass a K (or N) that
 * does not match the buffers. The net is read only through its public API.
 */
#include "common/common.h"
#include "reg_internal.h"
#include "sfr/net.h"

static const char *const fn = "sfr_reg_compute_net";

static sfr_status compute_net(sfr_reg *reg, sfr_net *net, const int32_t *labels, float *dlogits,
                              double *loss)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    const float *logits;
    int64_t dims[2];   // (N, K)
    if (sfr_net_output(net, &logits, dims) != SFR_OK)
        return sfri_fail(SFR_ERR_STATE, fn, "the net has no output: run sfr_net_forward first");
    return sfri_reg_compute_held(reg, logits, labels, dims[0], dims[1], dlogits, loss);
}

SFR_API sfr_status sfr_reg_compute_net(sfr_reg *reg, sfr_net *net, const int32_t *labels,
                                       float *dlogits, double *loss)
{
    sfr_status st = sfri_reg_enter(reg, fn);
    return st != SFR_OK ? st : sfri_reg_leave(reg, compute_net(reg, net, labels, dlogits, loss));
}
