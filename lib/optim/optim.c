/* The checks every optimizer step makes (optim.h). */
#include "optim.h"

#include "../common/common.h"

sfr_status sfri_optim_buffers(const void *opt, uint32_t magic, sfr_net *net, const char *func,
                              float **values, float **grads, int64_t *count)
{
    sfr_status st = sfri_check_handle(opt, magic, func, "opt");
    if (st == SFR_OK)
        st = sfri_check_handle(net, SFRI_MAGIC_NET, func, "net");
    return st == SFR_OK ? sfr_net_params(net, values, grads, count) : st;
}

sfr_status sfri_optim_check(int64_t first, const float *values, const float *grads,
                            int64_t count, const char *func)
{
    if (count < 0 || (count > 0 && (values == NULL || grads == NULL)))
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "no parameter buffers for %lld parameters",
                         (long long)count);
    if (first >= 0 && count != first)
        return sfri_fail(SFR_ERR_SHAPE, func,
                         "the net has %lld parameters, the optimizer's first step had %lld: "
                         "an optimizer serves one net",
                         (long long)count, (long long)first);
    return SFR_OK;
}
