/*
 * The general convolution's builder (sfr_net_conv): the geometry a caller
 * compiled against an older or newer sfr_conv_params, and its checks. The
 * convolution's steps are compile_ops.c's, shared with sfr_net_conv2d and
 * the inner product.
 */
#include <stddef.h>
#include <string.h>

#include "net_impl.h"

/* The 0.2.0 struct ends with bias: a caller's struct must reach it. */
#define CONV_PARAMS_0_2_SIZE (offsetof(sfr_conv_params, bias) + sizeof(int))

/* Output size along one axis: the window is the dilated kernel. */
static sfr_status axis_out(int size, int kernel, int dilation, int stride, int lo, int hi,
                           const char *axis, const char *fn, int *out)
{
    if (kernel < 1 || dilation < 1)
        return sfri_fail(SFR_ERR_SHAPE, fn, "%s kernel %d, dilation %d: both must be >= 1", axis,
                         kernel, dilation);
    int64_t window = (int64_t)dilation * (kernel - 1) + 1;
    /* Padding is at most the input on each side: a longer window never fits. */
    if (window > 3 * (int64_t)size)
        return sfri_fail(SFR_ERR_SHAPE, fn, "%s: dilated kernel %lld is larger than the padded input",
                         axis, (long long)window);
    sfr_status st = sfri_window_out(size, (int)window, stride, lo, hi, (int)window - 1, fn, out);
    return st == SFR_OK ? st : sfri_fail_context(st, fn, "%s: ", axis);
}

SFR_API sfr_status sfr_net_conv(sfr_net *net, int in, int out_c, const sfr_conv_params *p,
                                int *id)
{
    static const char *const fn = "sfr_net_conv";
    const struct sfri_layer *src = NULL;
    sfr_status st = sfri_build_on(net, id, fn, in, &src);
    if (st != SFR_OK)
        return st;
    if (p == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "p is NULL");
    if (p->size < CONV_PARAMS_0_2_SIZE)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn,
                         "p->size is %zu: it must be at least %zu (set it with "
                         "SFR_CONV_PARAMS_INIT)",
                         p->size, (size_t)CONV_PARAMS_0_2_SIZE);
    /* The caller's fields, defaults for those its struct does not have. */
    sfr_conv_params q = SFR_CONV_PARAMS_INIT;
    memcpy(&q, p, p->size < sizeof q ? p->size : sizeof q);
    if (q.bias != 0 && q.bias != 1)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "bias is %d: it must be 0 or 1", q.bias);
    if (out_c < 1)
        return sfri_fail(SFR_ERR_SHAPE, fn, "out_c %d must be >= 1", out_c);
    if (q.groups < 1 || src->c % q.groups != 0 || out_c % q.groups != 0)
        return sfri_fail(SFR_ERR_SHAPE, fn,
                         "groups %d must be >= 1 and divide the %d input and %d output channels",
                         q.groups, src->c, out_c);
    int oh, ow;
    st = axis_out(src->h, q.kernel_h, q.dilation_h, q.stride_h, q.pad_top, q.pad_bottom,
                  "height", fn, &oh);
    if (st == SFR_OK)
        st = axis_out(src->w, q.kernel_w, q.dilation_w, q.stride_w, q.pad_left, q.pad_right,
                      "width", fn, &ow);
    if (st != SFR_OK)
        return st;
    if (sfri_elems_within_limit(1, out_c, oh, ow) < 0)
        return sfri_fail(SFR_ERR_SHAPE, fn, "output %d x %d x %d is too large", out_c, oh, ow);
    int64_t weights = sfri_elems_within_limit(out_c, src->c / q.groups, q.kernel_h, q.kernel_w);
    if (weights < 0)
        return sfri_fail(SFR_ERR_SHAPE, fn, "weight %d x %d x %d x %d is too large", out_c,
                         src->c / q.groups, q.kernel_h, q.kernel_w);
    struct sfri_layer l = sfri_layer_proto(SFRI_LAYER_CONV, in, -1, out_c, oh, ow);
    l.general = 1;
    l.kh = q.kernel_h;
    l.kw = q.kernel_w;
    l.sh = q.stride_h;
    l.sw = q.stride_w;
    l.pad_t = q.pad_top;
    l.pad_l = q.pad_left;
    l.pad_b = q.pad_bottom;
    l.pad_r = q.pad_right;
    l.dil_h = q.dilation_h;
    l.dil_w = q.dilation_w;
    l.groups = q.groups;
    /* kernel, stride, pad: what sfr_net_conv2d would have, where it would */
    l.kernel = q.kernel_h == q.kernel_w ? q.kernel_h : 0;
    l.stride = q.stride_h == q.stride_w ? q.stride_h : 0;
    l.bias = q.bias;
    l.weight_size = weights;
    l.bias_size = q.bias ? out_c : 0;
    return sfri_build_append(net, &l, id, fn);
}
