/* Failures attributed to one layer: its id and kind lead the message. */
#include "net_impl.h"

const char *sfri_layer_kind_name(int kind)
{
    static const char *const names[] = {"?",       "input",   "conv", "bn",     "relu",
                                        "maxpool", "avgpool", "gap",  "linear", "add",
                                        "act",     "mul",     "concat",  "dropout"};
    return kind >= 0 && kind < (int)(sizeof names / sizeof names[0]) ? names[kind] : "?";
}

sfr_status sfri_net_blame_layer(const sfr_net *net, int id, sfr_status st, const char *func)
{
    if (st == SFR_OK || id < 0 || id >= net->n_layers)
        return st;
    return sfri_fail_context(st, func, "layer %d (%s): ", id,
                             sfri_layer_kind_name(net->layers[id]->kind));
}
