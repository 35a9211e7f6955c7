/*
 * The named tensors of a net's two flat buffers, in layer order: the
 * parameters (each layer's "<layer>.weight", then "<layer>.bias") and the
 * buffers (each batch norm's "<layer>.running_mean", "<layer>.running_var").
 * One walk serves both lists, their counts and their entries.
 */
#include "net_impl.h"

/* Which flat buffer a list describes. */
enum tensor_list { PARAM_LIST, BUFFER_LIST };

struct tensor {
    const char *name;
    int64_t offset, size;
};

/* The tensors of layer l in a list: up to two, written to t; their number. */
static int layer_tensors(const struct sfri_layer *l, enum tensor_list list, struct tensor t[2])
{
    int n = 0;
    if (list == BUFFER_LIST) {
        if (l->kind == SFRI_LAYER_BN) {
            t[n++] = (struct tensor){l->mean_name, l->state_off, l->c};
            t[n++] = (struct tensor){l->var_name, l->state_off + l->c, l->c};
        }
        return n;
    }
    if (l->weight_size > 0)
        t[n++] = (struct tensor){l->weight_name, l->param_off, l->weight_size};
    if (l->bias_size > 0)
        t[n++] = (struct tensor){l->bias_name, l->param_off + l->weight_size, l->bias_size};
    return n;
}

/* The length of a list; with i in [0, length), its entry i in *out. */
static int walk(const sfr_net *net, enum tensor_list list, int i, struct tensor *out)
{
    int seen = 0;
    for (int li = 0; li < net->n_layers; li++) {
        struct tensor t[2];
        int n = layer_tensors(net->layers[li], list, t);
        if (i >= seen && i < seen + n)
            *out = t[i - seen];
        seen += n;
    }
    return seen;
}

static sfr_status tensor_count(const sfr_net *net, enum tensor_list list, int *count,
                               const char *fn)
{
    sfr_status st = sfri_net_count_args(net, count, fn);
    if (st == SFR_OK)
        *count = walk(net, list, -1, NULL);
    return st;
}

static sfr_status tensor_info(const sfr_net *net, enum tensor_list list, int i, const char **name,
                              int64_t *offset, int64_t *size, const char *fn)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    struct tensor t = {NULL, 0, 0};
    int total = walk(net, list, i, &t);
    if (i < 0 || i >= total)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "tensor index %d is out of range [0, %d)", i,
                         total);
    if (name != NULL)
        *name = t.name;
    if (offset != NULL)
        *offset = t.offset;
    if (size != NULL)
        *size = t.size;
    return SFR_OK;
}

SFR_API sfr_status sfr_net_param_tensors(const sfr_net *net, int *count)
{
    return tensor_count(net, PARAM_LIST, count, "sfr_net_param_tensors");
}

SFR_API sfr_status sfr_net_param_info(const sfr_net *net, int i, const char **name,
                                      int64_t *offset, int64_t *size)
{
    return tensor_info(net, PARAM_LIST, i, name, offset, size, "sfr_net_param_info");
}

SFR_API sfr_status sfr_net_buffer_tensors(const sfr_net *net, int *count)
{
    return tensor_count(net, BUFFER_LIST, count, "sfr_net_buffer_tensors");
}

SFR_API sfr_status sfr_net_buffer_info(const sfr_net *net, int i, const char **name,
                                       int64_t *offset, int64_t *size)
{
    return tensor_info(net, BUFFER_LIST, i, name, offset, size, "sfr_net_buffer_info");
}
