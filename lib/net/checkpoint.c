/*
 * sfr_net_save and sfr_net_load, and their in-memory twins: the net's
 * parameters and batch norm running statistics in the format of
 * checkpoint_format.c, reached only through net_state.h, written
 * atomically by file_io.c.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "../common/common.h"
#include "../common/file_io.h"
#include "checkpoint.h"
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


/* A checkpoint holds finite values only (load refuses others): a diverged
 * net must not replace the last good one. */
sfr_status sfri_net_check_values(const sfr_net *net, const char *fn)
{
    float *params = NULL, *state = NULL;
    int64_t param_count = 0, state_count = 0;
    sfri_net_param_buffer(net, &params, &param_count);
    sfri_net_state_buffer(net, &state, &state_count);
    int64_t bad = sfri_first_nonfinite(params, param_count);
    if (bad >= 0)
        return sfri_fail(SFR_ERR_NONFINITE, fn, "parameter %lld is %g: nothing written",
                         (long long)bad, (double)params[bad]);
    bad = sfri_first_nonfinite(state, state_count);
    if (bad >= 0)
        return sfri_fail(SFR_ERR_NONFINITE, fn,
                         "batch norm running statistic %lld is %g: nothing written",
                         (long long)bad, (double)state[bad]);
    return SFR_OK;
}

/* The checkpoint's size for net, and the checkpoint itself into out. */
size_t sfri_net_checkpoint_size(const sfr_net *net)
{
    float *values;
    int64_t param_count = 0, state_count = 0;
    sfri_net_param_buffer(net, &values, &param_count);
    sfri_net_state_buffer(net, &values, &state_count);
    return sfri_ckpt_size(param_count, state_count);
}

void sfri_net_checkpoint_encode(const sfr_net *net, void *out)
{
    float *params = NULL, *state = NULL;
    int64_t param_count = 0, state_count = 0;
    sfri_net_param_buffer(net, &params, &param_count);
    sfri_net_state_buffer(net, &state, &state_count);
    sfri_ckpt_encode(out, sfri_net_arch_signature(net), sfr_version_number(), params,
                     param_count, state, state_count);
}

SFR_API sfr_status sfr_net_save(const sfr_net *net, const char *path)
{
    static const char *const fn = "sfr_net_save";
    sfr_status st = check_args(net, path, fn);
    if (st == SFR_OK)
        st = sfri_net_check_values(net, fn);
    if (st != SFR_OK)
        return st;
    size_t size = sfri_net_checkpoint_size(net);
    unsigned char *buf = sfri_malloc(size);
    if (buf == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory for a checkpoint of %zu bytes", size);
    sfri_net_checkpoint_encode(net, buf);
    st = sfri_write_file_atomic(path, buf, size, fn);
    sfri_free(buf);
    return st;
}

SFR_API sfr_status sfr_net_save_memory(const sfr_net *net, void *buf, size_t capacity,
                                       size_t *size)
{
    static const char *const fn = "sfr_net_save_memory";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (size == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "size is NULL");
    size_t need = sfri_net_checkpoint_size(net);
    if (buf == NULL) { /* a query */
        *size = need;
        return SFR_OK;
    }
    if (capacity < need)
        return sfri_fail(SFR_ERR_SHAPE, fn,
                         "the checkpoint takes %zu bytes, the buffer holds %zu: nothing written",
                         need, capacity);
    if ((st = sfri_net_check_values(net, fn)) != SFR_OK)
        return st;
    sfri_net_checkpoint_encode(net, buf);
    *size = need;
    return SFR_OK;
}

sfr_status sfri_net_checkpoint_prepare(const sfr_net *net, const unsigned char *data,
                                       size_t size, float **new_state, const char *fn)
{
    float *params = NULL, *state = NULL;
    int64_t param_count = 0, state_count = 0;
    sfri_net_param_buffer(net, &params, &param_count);
    sfri_net_state_buffer(net, &state, &state_count);
    sfr_status st = sfri_ckpt_verify(data, size, sfri_net_arch_signature(net), param_count,
                                     state_count, fn);
    if (st != SFR_OK)
        return st;
    float *fresh = sfri_malloc(sfri_mul_size((size_t)state_count + 1, sizeof *fresh));
    if (fresh == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory for %lld running statistics",
                         (long long)state_count);
    sfri_ckpt_read(data, NULL, param_count, fresh, state_count);
    int64_t bad = sfri_net_bad_variance(net, fresh);
    if (bad >= 0) {
        st = sfri_fail(SFR_ERR_FORMAT, fn,
                       "state value %lld, a batch norm running variance, is negative (%g)",
                       (long long)bad, (double)fresh[bad]);
        sfri_free(fresh);
        return st;
    }
    *new_state = fresh;
    return SFR_OK;
}

void sfri_net_checkpoint_commit(sfr_net *net, const unsigned char *data, float *new_state)
{
    float *params = NULL, *state = NULL;
    int64_t param_count = 0, state_count = 0;
    sfri_net_param_buffer(net, &params, &param_count);
    sfri_net_state_buffer(net, &state, &state_count);
    sfri_ckpt_read(data, params, param_count, NULL, state_count);
    if (state_count > 0)
        memcpy(state, new_state, (size_t)state_count * sizeof *state);
    sfri_free(new_state);
}

/* A whole checkpoint in memory, checked, then the net's update. */
static sfr_status apply(sfr_net *net, const unsigned char *data, size_t size, const char *fn)
{
    float *new_state = NULL;
    sfr_status st = sfri_net_checkpoint_prepare(net, data, size, &new_state, fn);
    if (st == SFR_OK)
        sfri_net_checkpoint_commit(net, data, new_state);
    return st;
}

/*
 * A checkpoint file: the header first (so that a file of another kind or
 * size is refused before anything more is read or allocated: the net knows
 * the size its checkpoint has), then the whole file, then apply.
 */
static sfr_status load_from(sfr_net *net, int fd, uint64_t file_size, const char *path,
                            const char *fn)
{
    float *values;
    int64_t param_count = 0, state_count = 0;
    sfri_net_param_buffer(net, &values, &param_count);
    sfri_net_state_buffer(net, &values, &state_count);
    unsigned char header[SFRI_CKPT_HEADER_BYTES];
    size_t head = file_size < sizeof header ? (size_t)file_size : sizeof header;
    sfr_status st = sfri_read_at(fd, header, head, 0, path, fn);
    if (st == SFR_OK)
        st = sfri_ckpt_check_header(header, file_size, param_count, state_count, fn);
    if (st != SFR_OK)
        return st;
    size_t size = (size_t)file_size; /* sfri_ckpt_size(param_count, state_count) */
    unsigned char *data = sfri_malloc(size);
    if (data == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory to read '%s' (%zu bytes)", path, size);
    st = sfri_read_at(fd, data, size, 0, path, fn);
    if (st == SFR_OK)
        st = apply(net, data, size, fn);
    sfri_free(data);
    return st;
}

SFR_API sfr_status sfr_net_load(sfr_net *net, const char *path)
{
    static const char *const fn = "sfr_net_load";
    sfr_status st = check_args(net, path, fn);
    if (st != SFR_OK)
        return st;
    int fd = -1;
    uint64_t file_size = 0;
    st = sfri_open_regular(path, &fd, &file_size, fn);
    if (st != SFR_OK)
        return st;
    st = load_from(net, fd, file_size, path, fn);
    close(fd);
    return st;
}

SFR_API sfr_status sfr_net_load_memory(sfr_net *net, const void *buf, size_t size)
{
    static const char *const fn = "sfr_net_load_memory";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (buf == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "buf is NULL");
    float *values;
    int64_t param_count = 0, state_count = 0;
    sfri_net_param_buffer(net, &values, &param_count);
    sfri_net_state_buffer(net, &values, &state_count);
    st = sfri_ckpt_check_header(buf, size, param_count, state_count, fn);
    return st == SFR_OK ? apply(net, buf, size, fn) : st;
}
