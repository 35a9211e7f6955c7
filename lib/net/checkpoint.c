/*
 * sfr_net_save and sfr_net_load: the net's parameters and batch norm
 * running statistics in the format of checkpoint_format.c, reached only
 * through net_state.h, written atomically by file_io.c.
 */
#include <stdint.h>

#include "../common/common.h"
#include "../common/file_io.h"
#include "checkpoint_format.h"
#include "net_state.h"
#include "sfr/net.h"
#include "sfr/version.h"

/* The handle and path checks both functions start with. */
static sfr_status check_args(const sfr_net *net, const char *path, const char *func)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, func, "net");
    if (st != SFR_OK)
        return st;
    if (path == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "path is NULL");
    if (path[0] == '\0')
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "path is empty");
    return SFR_OK;
}

SFR_API sfr_status sfr_net_save(const sfr_net *net, const char *path)
{
    static const char *const fn = "sfr_net_save";
    sfr_status st = check_args(net, path, fn);
    if (st != SFR_OK)
        return st;
    float *params = NULL, *state = NULL;
    int64_t param_count = 0, state_count = 0;
    sfri_net_param_buffer(net, &params, &param_count);
    sfri_net_state_buffer(net, &state, &state_count);
    size_t size = sfri_ckpt_size(param_count, state_count);
    unsigned char *buf = sfri_malloc(size);
    if (buf == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory for a checkpoint of %lld floats",
                         (long long)(param_count + state_count));
    sfri_ckpt_encode(buf, sfri_net_arch_signature(net), sfr_version_number(), params,
                     param_count, state, state_count);
    st = sfri_write_file_atomic(path, buf, size, fn);
    sfri_free(buf);
    return st;
}

SFR_API sfr_status sfr_net_load(sfr_net *net, const char *path)
{
    static const char *const fn = "sfr_net_load";
    sfr_status st = check_args(net, path, fn);
    if (st != SFR_OK)
        return st;
    void *data = NULL;
    size_t size = 0;
    st = sfri_read_file(path, &data, &size, fn);
    if (st != SFR_OK)
        return st;
    float *params = NULL, *state = NULL;
    int64_t param_count = 0, state_count = 0;
    sfri_net_param_buffer(net, &params, &param_count);
    sfri_net_state_buffer(net, &state, &state_count);
    st = sfri_ckpt_decode(data, size, sfri_net_arch_signature(net), params, param_count, state,
                          state_count, fn);
    sfri_free(data);
    return st;
}
