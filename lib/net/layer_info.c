/* What a host may ask of a net's layers beyond their names: how many, and their shapes. */
#include "../common/common.h"
#include "net_impl.h"

sfr_status sfri_net_count_args(const sfr_net *net, const int *count, const char *fn)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (count == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "count is NULL");
    return SFR_OK;
}

SFR_API sfr_status sfr_net_layer_count(const sfr_net *net, int *count)
{
    sfr_status st = sfri_net_count_args(net, count, "sfr_net_layer_count");
    if (st == SFR_OK)
        *count = net->n_layers;
    return st;
}

sfr_status sfri_net_layer_arg(const sfr_net *net, int id, const char *fn,
                              struct sfri_layer **out)
{
    struct sfri_layer *l = sfri_net_layer(net, id);
    if (l == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "layer id %d is unknown (the net has %d layers)",
                         id, net->n_layers);
    *out = l;
    return SFR_OK;
}

SFR_API sfr_status sfr_net_layer_dims(const sfr_net *net, int layer, int dims[3])
{
    static const char *const fn = "sfr_net_layer_dims";
    struct sfri_layer *l = NULL;
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st == SFR_OK)
        st = sfri_net_layer_arg(net, layer, fn, &l);
    if (st != SFR_OK)
        return st;
    if (dims == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "dims is NULL");
    dims[0] = l->c;
    dims[1] = l->h;
    dims[2] = l->w;
    return SFR_OK;
}
