/*
 * Layer names and the tensors named after them: the parameters (PyTorch's
 * "<layer>.weight", "<layer>.bias") and the buffers, batch norm's running
 * statistics ("<layer>.running_mean", "<layer>.running_var"), which hosts
 * average across data-parallel ranks or move between frameworks (listed by
 * tensors.c).
 */
#include <stdio.h>
#include <string.h>

#include "net_impl.h"

void sfri_layer_set_names(struct sfri_layer *l, const char *name)
{
    snprintf(l->name, sizeof l->name, "%s", name);
    snprintf(l->weight_name, sizeof l->weight_name, "%s.weight", name);
    snprintf(l->bias_name, sizeof l->bias_name, "%s.bias", name);
    snprintf(l->mean_name, sizeof l->mean_name, "%s.running_mean", name);
    snprintf(l->var_name, sizeof l->var_name, "%s.running_var", name);
}

/* A name is 1 to SFRI_NAME_MAX letters, digits, '_', '.' or '-' (what
 * PyTorch's module paths and ONNX node names use). */
static int valid_name(const char *name)
{
    size_t n = strnlen(name, SFRI_NAME_MAX + 1);
    if (n == 0 || n > SFRI_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

static int find(const sfr_net *net, const char *name)
{
    for (int i = 0; i < net->n_layers; i++)
        if (strcmp(net->layers[i]->name, name) == 0)
            return i;
    return -1;
}

SFR_API sfr_status sfr_net_set_layer_name(sfr_net *net, int layer, const char *name)
{
    static const char *const fn = "sfr_net_set_layer_name";
    struct sfri_layer *l = NULL;
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st == SFR_OK)
        st = sfri_net_layer_arg(net, layer, fn, &l);
    if (st != SFR_OK)
        return st;
    if (name == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "name is NULL");
    if (!valid_name(name))
        return sfri_fail(SFR_ERR_INVALID_ARG, fn,
                         "a name is 1 to %d letters, digits, '_', '.' or '-'", SFRI_NAME_MAX);
    int other = find(net, name);
    if (other >= 0 && other != layer)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "layer %d is already called '%s'", other, name);
    sfri_layer_set_names(l, name);
    return SFR_OK;
}

SFR_API sfr_status sfr_net_layer_name(const sfr_net *net, int layer, const char **name)
{
    static const char *const fn = "sfr_net_layer_name";
    struct sfri_layer *l = NULL;
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st == SFR_OK)
        st = sfri_net_layer_arg(net, layer, fn, &l);
    if (st != SFR_OK)
        return st;
    if (name == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "name is NULL");
    *name = l->name;
    return SFR_OK;
}

SFR_API sfr_status sfr_net_find_layer(const sfr_net *net, const char *name, int *layer)
{
    static const char *const fn = "sfr_net_find_layer";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (name == NULL || layer == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "%s is NULL", name == NULL ? "name" : "layer");
    int id = find(net, name);
    if (id < 0)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "no layer is called '%.*s'", SFRI_NAME_MAX,
                         name);
    *layer = id;
    return SFR_OK;
}

SFR_API sfr_status sfr_net_buffers(sfr_net *net, float **values, int64_t *count)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, "sfr_net_buffers", "net");
    if (st != SFR_OK)
        return st;
    if (values != NULL)
        *values = net->state;
    if (count != NULL)
        *count = net->n_state;
    return SFR_OK;
}
