/*
 * Checkpoint format, version 1. Every integer and float is little-endian,
 * whatever the host, so a file moves between machines:
 *
 *   offset  size  field
 *        0     8  magic "SFRCKPT\n"
 *        8     4  format version (1), u32
 *       12     4  version of the library that wrote it, u32
 *                 (MAJOR*10000 + MINOR*100 + PATCH; informative, not checked)
 *       16     8  architecture signature of the net, u64
 *       24     8  parameter count P, u64
 *       32     8  state count S (batch norm running statistics), u64
 *       40  4P+4S the P parameters then the S state values, IEEE-754
 *                 binary32 bit patterns
 *   40+4P+4S   8  FNV-1a 64 of every byte before it, u64
 *
 * The file's size is exactly 48 + 4P + 4S bytes, and every value is a
 * finite float. A reader rejects a file whose magic, version, counts,
 * size, checksum or signature does not match, or that holds a NaN or an
 * infinity, before it changes anything; the header alone (first 40 bytes
 * and the file's size) decides whether the rest is worth reading.
 */
#include <inttypes.h>
#include <string.h>

#include "../common/bytes.h"
#include "../common/common.h"
#include "checkpoint_format.h"

#define OFF_MAGIC 0
#define OFF_VERSION 8
#define OFF_LIBRARY 12
#define OFF_SIGNATURE 16
#define OFF_PARAMS 24
#define OFF_STATE 32

uint64_t sfri_fnv1a64(const void *data, size_t size)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Size for counts read from a file (u64), SIZE_MAX when it cannot exist. */
static size_t size_for(uint64_t params, uint64_t state)
{
    const uint64_t fixed = SFRI_CKPT_HEADER_BYTES + SFRI_CKPT_TRAILER_BYTES;
    const uint64_t max_floats = (SIZE_MAX - fixed) / 4;
    if (params > max_floats || state > max_floats - params)
        return SIZE_MAX;
    return (size_t)(fixed + 4 * (params + state));
}

size_t sfri_ckpt_size(int64_t param_count, int64_t state_count)
{
    if (param_count < 0 || state_count < 0)
        return SIZE_MAX;
    return size_for((uint64_t)param_count, (uint64_t)state_count);
}

void sfri_ckpt_encode(void *out, uint64_t signature, uint32_t library_version,
                      const float *params, int64_t param_count, const float *state,
                      int64_t state_count)
{
    unsigned char *p = out;
    memcpy(p + OFF_MAGIC, SFRI_CKPT_MAGIC, 8);
    sfri_le_put_u32(p + OFF_VERSION, SFRI_CKPT_VERSION);
    sfri_le_put_u32(p + OFF_LIBRARY, library_version);
    sfri_le_put_u64(p + OFF_SIGNATURE, signature);
    sfri_le_put_u64(p + OFF_PARAMS, (uint64_t)param_count);
    sfri_le_put_u64(p + OFF_STATE, (uint64_t)state_count);
    struct sfri_writer body = {p + SFRI_CKPT_HEADER_BYTES, 0};
    sfri_put_f32s(&body, params, param_count);
    sfri_put_f32s(&body, state, state_count);
    size_t checked = SFRI_CKPT_HEADER_BYTES + body.size;
    sfri_le_put_u64(p + checked, sfri_fnv1a64(p, checked));
}

sfr_status sfri_ckpt_check_header(const void *header, uint64_t file_size, int64_t param_count,
                                  int64_t state_count, const char *func)
{
    const unsigned char *p = header;
    if (file_size < SFRI_CKPT_HEADER_BYTES + SFRI_CKPT_TRAILER_BYTES)
        return sfri_fail(SFR_ERR_FORMAT, func,
                         "%" PRIu64 " bytes is shorter than any checkpoint (%d bytes at least)",
                         file_size, SFRI_CKPT_HEADER_BYTES + SFRI_CKPT_TRAILER_BYTES);
    if (memcmp(p + OFF_MAGIC, SFRI_CKPT_MAGIC, 8) != 0)
        return sfri_fail(SFR_ERR_FORMAT, func, "not a libsfr checkpoint (wrong magic)");
    uint32_t version = sfri_le_get_u32(p + OFF_VERSION);
    if (version != SFRI_CKPT_VERSION)
        return sfri_fail(SFR_ERR_FORMAT, func,
                         "checkpoint format version %" PRIu32 ", this library reads version %u",
                         version, SFRI_CKPT_VERSION);
    uint64_t file_params = sfri_le_get_u64(p + OFF_PARAMS);
    uint64_t file_state = sfri_le_get_u64(p + OFF_STATE);
    size_t expect = size_for(file_params, file_state);
    if (file_size != expect)
        return sfri_fail(SFR_ERR_FORMAT, func,
                         "%" PRIu64 " bytes, but the header's counts (%" PRIu64 " parameters, %" PRIu64
                         " state values) need %zu: truncated or damaged",
                         file_size, file_params, file_state, expect);
    if (file_params != (uint64_t)param_count || file_state != (uint64_t)state_count)
        return sfri_fail(SFR_ERR_FORMAT, func,
                         "the checkpoint holds %" PRIu64 " parameters and %" PRIu64
                         " state values, this net %lld and %lld",
                         file_params, file_state, (long long)param_count, (long long)state_count);
    return SFR_OK;
}

sfr_status sfri_ckpt_verify(const void *data, size_t size, uint64_t signature, int64_t param_count,
                            int64_t state_count, const char *func)
{
    const unsigned char *p = data;
    sfr_status st = sfri_ckpt_check_header(data, size, param_count, state_count, func);
    if (st != SFR_OK)
        return st;
    size_t checked = size - SFRI_CKPT_TRAILER_BYTES;
    uint64_t stored = sfri_le_get_u64(p + checked), computed = sfri_fnv1a64(p, checked);
    if (stored != computed)
        return sfri_fail(SFR_ERR_FORMAT, func,
                         "checksum mismatch (stored 0x%016" PRIx64 ", computed 0x%016" PRIx64
                         "): the file is damaged",
                         stored, computed);
    uint64_t file_signature = sfri_le_get_u64(p + OFF_SIGNATURE);
    if (file_signature != signature)
        return sfri_fail(SFR_ERR_FORMAT, func,
                         "the checkpoint is of another network (architecture signature 0x%016" PRIx64
                         ", this net 0x%016" PRIx64 ")",
                         file_signature, signature);
    const unsigned char *body = p + SFRI_CKPT_HEADER_BYTES;
    int64_t i = sfri_le_first_nonfinite(body, param_count + state_count);
    if (i >= 0) {
        uint32_t bits = sfri_le_get_u32(body + 4 * i);
        return sfri_fail(SFR_ERR_FORMAT, func,
                         "%s %lld is not a finite number (bits 0x%08" PRIx32 ")",
                         i < param_count ? "parameter" : "state value",
                         (long long)(i < param_count ? i : i - param_count), bits);
    }
    return SFR_OK;
}

void sfri_ckpt_read(const void *data, float *params, int64_t param_count, float *state,
                    int64_t state_count)
{
    const unsigned char *body = (const unsigned char *)data + SFRI_CKPT_HEADER_BYTES;
    if (params != NULL)
        sfri_le_get_f32s(params, body, param_count);
    if (state != NULL)
        sfri_le_get_f32s(state, body + 4 * param_count, state_count);
}

sfr_status sfri_ckpt_decode(const void *data, size_t size, uint64_t signature, float *params,
                            int64_t param_count, float *state, int64_t state_count,
                            const char *func)
{
    sfr_status st = sfri_ckpt_verify(data, size, signature, param_count, state_count, func);
    if (st == SFR_OK)
        sfri_ckpt_read(data, params, param_count, state, state_count);
    return st;
}
