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

/* fmnist-resnet up to stage 4: ids receives the stem and the four stages. */
static sfr_status fmnist_stages(sfr_net *net, int ids[SFR_REF_STAGES])
{
    TRY(stem(net, 1, 28, 16, &ids[0]));
    TRY(sfr_ref_basic_block(net, ids[0], 16, 16, 1, &ids[1]));
    TRY(sfr_ref_basic_block(net, ids[1], 16, 32, 2, &ids[2]));
    TRY(sfr_ref_basic_block(net, ids[2], 32, 64, 2, &ids[3]));
    return sfr_ref_basic_block(net, ids[3], 64, 128, 2, &ids[4]);
}

sfr_status sfr_ref_fmnist_resnet(sfr_net *net, int stages[SFR_REF_STAGES])
{
    int ids[SFR_REF_STAGES];
    TRY(fmnist_stages(net, ids));
    TRY(head(net, ids[4], 10));
    for (int i = 0; stages != NULL && i < SFR_REF_STAGES; i++)
        stages[i] = ids[i];
    return SFR_OK;
}

/* avgpool(f, f) when f > 1, then conv1x1(-> c, no bias) - BN, and ReLU when relu. */
static sfr_status pooled_conv_bn(sfr_net *net, int in, int f, int c, int relu, int *out)
{
    int id = in;
    if (f > 1)
        TRY(sfr_net_avgpool(net, in, f, f, 0, &id));
    TRY(sfr_net_conv2d(net, id, c, 1, 1, 0, 0, &id));
    TRY(sfr_net_batchnorm(net, id, relu ? &id : out));
    return relu ? sfr_net_relu(net, id, out) : SFR_OK;
}

sfr_status sfr_ref_fmnist_resnet_branched(sfr_net *net, const struct sfr_ref_branches *br,
                                          int stages[SFR_REF_STAGES], int students[3],
                                          int heads[3])
{
    static const int sides[3] = {28, 14, 7};
    int ids[SFR_REF_STAGES];
    TRY(fmnist_stages(net, ids));
    for (int s = 0; s < 3; s++) {
        students[s] = ids[s + 1];
        heads[s] = -1;
        if (br->adapters[s])
            TRY(pooled_conv_bn(net, ids[s + 1], sides[s] / 4, 128, 0, &students[s]));
        if (br->heads[s]) {
            int id;
            TRY(pooled_conv_bn(net, ids[s + 1], sides[s] / 7, br->head_width, 1, &id));
            TRY(sfr_net_global_avgpool(net, id, &id));
            TRY(sfr_net_linear(net, id, 10, &heads[s]));
        }
    }
    TRY(head(net, ids[4], 10));
    for (int i = 0; i < SFR_REF_STAGES; i++)
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

/* ---- fmnist-mobilenet (docs/fmnist-mobilenet.md) ---- */

/* One inverted residual block's shape: channels in, expanded, out; the
 * depthwise kernel and stride; squeeze-and-excitation; hard-swish (else ReLU). */
struct mb_block {
    int in, expand, out, kernel, stride, se, hswish;
};

static const struct mb_block mobilenet_blocks[6] = {
    {16, 16, 16, 3, 1, 0, 0},  {16, 64, 24, 3, 2, 0, 0},   {24, 72, 24, 3, 1, 0, 0},
    {24, 96, 40, 3, 2, 1, 1},  {40, 120, 40, 3, 1, 1, 1},  {40, 160, 64, 3, 1, 1, 1},
};

/* The block's activation after a batch norm. */
static sfr_status mb_act(sfr_net *net, int in, int hswish, int *out)
{
    return hswish ? sfr_net_activation(net, in, SFR_ACT_HARDSWISH, out) : sfr_net_relu(net, in, out);
}

/* conv (p) - BN - activation (none when act < 0). */
static sfr_status mb_conv_bn(sfr_net *net, int in, int out_c, const sfr_conv_params *p, int act,
                             int *out)
{
    int id;
    TRY(sfr_net_conv(net, in, out_c, p, &id));
    TRY(sfr_net_batchnorm(net, id, act < 0 ? out : &id));
    return act < 0 ? SFR_OK : mb_act(net, id, act, out);
}

/* x * hardsigmoid(linear(relu(linear(gap(x))))), the squeeze to a quarter. */
static sfr_status mb_squeeze_excite(sfr_net *net, int in, int c, int *out)
{
    int s;
    TRY(sfr_net_global_avgpool(net, in, &s));
    TRY(sfr_net_linear(net, s, c / 4, &s));
    TRY(sfr_net_relu(net, s, &s));
    TRY(sfr_net_linear(net, s, c, &s));
    TRY(sfr_net_activation(net, s, SFR_ACT_HARDSIGMOID, &s));
    return sfr_net_mul(net, in, s, out);
}

static sfr_status mb_inverted_residual(sfr_net *net, int in, const struct mb_block *b, int *out)
{
    sfr_conv_params pointwise = SFR_CONV_PARAMS_INIT, depthwise = SFR_CONV_PARAMS_INIT;
    depthwise.kernel_h = depthwise.kernel_w = b->kernel;
    depthwise.stride_h = depthwise.stride_w = b->stride;
    depthwise.pad_top = depthwise.pad_left = depthwise.pad_bottom = depthwise.pad_right =
        b->kernel / 2;
    depthwise.groups = b->expand;
    int x = in;
    if (b->expand != b->in)
        TRY(mb_conv_bn(net, x, b->expand, &pointwise, b->hswish, &x));
    TRY(mb_conv_bn(net, x, b->expand, &depthwise, b->hswish, &x));
    if (b->se)
        TRY(mb_squeeze_excite(net, x, b->expand, &x));
    int residual = b->stride == 1 && b->in == b->out;
    TRY(mb_conv_bn(net, x, b->out, &pointwise, -1, residual ? &x : out));
    return residual ? sfr_net_add(net, x, in, out) : SFR_OK;
}

sfr_status sfr_ref_fmnist_mobilenet(sfr_net *net, double dropout, int stages[SFR_REF_STAGES])
{
    sfr_conv_params stem = SFR_CONV_PARAMS_INIT, head1x1 = SFR_CONV_PARAMS_INIT;
    stem.kernel_h = stem.kernel_w = 3;
    stem.pad_top = stem.pad_left = stem.pad_bottom = stem.pad_right = 1;
    int ids[SFR_REF_STAGES], x;
    TRY(sfr_net_input(net, 1, 28, 28, &x));
    TRY(mb_conv_bn(net, x, 16, &stem, 1, &ids[0]));
    x = ids[0];
    for (int i = 0; i < 6; i++) {
        TRY(mb_inverted_residual(net, x, &mobilenet_blocks[i], &x));
        if (i == 0 || i == 2 || i == 4)
            ids[1 + i / 2] = x;
    }
    TRY(mb_conv_bn(net, x, 256, &head1x1, 1, &ids[4]));
    TRY(sfr_net_global_avgpool(net, ids[4], &x));
    TRY(sfr_net_dropout(net, x, dropout, &x));
    TRY(sfr_net_linear(net, x, 10, &x));
    for (int i = 0; stages != NULL && i < SFR_REF_STAGES; i++)
        stages[i] = ids[i];
    return SFR_OK;
}
