/* The reference networks of NETWORKS.md through the public builder. */
#include <stddef.h>

#include "reference_nets.h"

#define TRY(call)                      \
    do {                               \
        sfr_status st_ = (call);       \
        if (st_ != SFR_OK)             \
            return st_;                \
    } while (0)

sfr_status sfr_ref_basic_block(sfr_net *net, int in, int in_c, int out_c, int stride, int *out)
{
    int c1, b1, r1, c2, b2, shortcut = in, sum;
    TRY(sfr_net_conv2d(net, in, out_c, 3, stride, 1, 0, &c1));
    TRY(sfr_net_batchnorm(net, c1, &b1));
    TRY(sfr_net_relu(net, b1, &r1));
    TRY(sfr_net_conv2d(net, r1, out_c, 3, 1, 1, 0, &c2));
    TRY(sfr_net_batchnorm(net, c2, &b2));
    if (in_c != out_c || stride != 1) {
        int sc;
        TRY(sfr_net_conv2d(net, in, out_c, 1, stride, 0, 0, &sc));
        TRY(sfr_net_batchnorm(net, sc, &shortcut));
    }
    TRY(sfr_net_add(net, b2, shortcut, &sum));
    return sfr_net_relu(net, sum, out);
}

/* conv3x3(in_c -> c, pad 1, no bias) - BN - ReLU */
static sfr_status stem(sfr_net *net, int c_in, int hw, int c, int *out)
{
    int x, conv, bn;
    TRY(sfr_net_input(net, c_in, hw, hw, &x));
    TRY(sfr_net_conv2d(net, x, c, 3, 1, 1, 0, &conv));
    TRY(sfr_net_batchnorm(net, conv, &bn));
    return sfr_net_relu(net, bn, out);
}

static sfr_status head(sfr_net *net, int in, int classes)
{
    int gap, fc;
    TRY(sfr_net_global_avgpool(net, in, &gap));
    return sfr_net_linear(net, gap, classes, &fc);
}

sfr_status sfr_ref_fmnist_resnet(sfr_net *net, int stages[SFR_REF_STAGES])
{
    int ids[SFR_REF_STAGES];
    TRY(stem(net, 1, 28, 16, &ids[0]));
    TRY(sfr_ref_basic_block(net, ids[0], 16, 16, 1, &ids[1]));
    TRY(sfr_ref_basic_block(net, ids[1], 16, 32, 2, &ids[2]));
    TRY(sfr_ref_basic_block(net, ids[2], 32, 64, 2, &ids[3]));
    TRY(sfr_ref_basic_block(net, ids[3], 64, 128, 2, &ids[4]));
    TRY(head(net, ids[4], 10));
    for (int i = 0; stages != NULL && i < SFR_REF_STAGES; i++)
        stages[i] = ids[i];
    return SFR_OK;
}

sfr_status sfr_ref_cifar_resnet18(sfr_net *net, int stages[SFR_REF_STAGES])
{
    static const int widths[4] = {64, 128, 256, 512};
    int ids[SFR_REF_STAGES];
    TRY(stem(net, 3, 32, 64, &ids[0]));
    int cur = ids[0], c = 64;
    for (int s = 0; s < 4; s++) {
        int first;
        TRY(sfr_ref_basic_block(net, cur, c, widths[s], s == 0 ? 1 : 2, &first));
        TRY(sfr_ref_basic_block(net, first, widths[s], widths[s], 1, &cur));
        c = widths[s];
        ids[s + 1] = cur;
    }
    TRY(head(net, cur, 100));
    for (int i = 0; stages != NULL && i < SFR_REF_STAGES; i++)
        stages[i] = ids[i];
    return SFR_OK;
}
