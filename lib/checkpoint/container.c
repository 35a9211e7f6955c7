/*
 * Training-state container, version 1. Little-endian throughout:
 *
 *   offset  size  field
 *        0     8  magic "SFRSTAT\n"
 *        8     4  container version (1), u32
 *       12     4  version of the library that wrote it, u32 (informative)
 *       16     4  section count S, u32 (at most 16)
 *       20     4  reserved, 0
 *       24        S sections, each: 4-byte ASCII tag, u32 section version,
 *                 u64 payload size L, then L payload bytes
 *      end     8  FNV-1a 64 of every byte before it, u64
 */
#include <inttypes.h>
#include <string.h>

#include "../common/common.h"
#include "../net/checkpoint_format.h"
#include "container.h"
#include "sfr/version.h"

#define HEADER_BYTES 24
#define SECTION_HEADER_BYTES 16
#define TRAILER_BYTES 8

void sfri_state_put_header(struct sfri_writer *w, uint32_t count)
{
    sfri_put_bytes(w, SFRI_STATE_MAGIC, 8);
    sfri_put_u32(w, SFRI_STATE_VERSION);
    sfri_put_u32(w, (uint32_t)sfr_version_number());
    sfri_put_u32(w, count);
    sfri_put_u32(w, 0);
}

void sfri_state_put_section(struct sfri_writer *w, const char tag[4], uint32_t version,
                            uint64_t size)
{
    sfri_put_bytes(w, tag, 4);
    sfri_put_u32(w, version);
    sfri_put_u64(w, size);
}

void sfri_state_put_trailer(struct sfri_writer *w)
{
    sfri_put_u64(w, w->p != NULL ? sfri_fnv1a64(w->p, w->size) : 0);
}

static int printable_tag(const unsigned char *t)
{
    for (int i = 0; i < 4; i++)
        if (t[i] < 0x20 || t[i] > 0x7e)
            return 0;
    return 1;
}

sfr_status sfri_state_parse(const void *data, size_t size, struct sfri_section *sections,
                            int max, int *count, const char *func)
{
    const unsigned char *p = data;
    if (size >= 8 && memcmp(p, SFRI_CKPT_MAGIC, 8) == 0) {
        sections[0] = (struct sfri_section){{'N', 'E', 'T', ' '}, 0, p, size};
        *count = 1;
        return SFR_OK;
    }
    if (size < HEADER_BYTES + TRAILER_BYTES)
        return sfri_fail(SFR_ERR_FORMAT, func, "%zu bytes is shorter than any checkpoint", size);
    if (memcmp(p, SFRI_STATE_MAGIC, 8) != 0)
        return sfri_fail(SFR_ERR_FORMAT, func, "not a libsfr checkpoint (wrong magic)");
    uint32_t version = sfri_le_get_u32(p + 8);
    if (version != SFRI_STATE_VERSION)
        return sfri_fail(SFR_ERR_FORMAT, func, "training-state format version %" PRIu32
                         ", this library reads version %u", version, SFRI_STATE_VERSION);
    size_t body = size - TRAILER_BYTES;
    uint64_t stored = sfri_le_get_u64(p + body), computed = sfri_fnv1a64(p, body);
    if (stored != computed)
        return sfri_fail(SFR_ERR_FORMAT, func, "checksum mismatch (stored 0x%016" PRIx64
                         ", computed 0x%016" PRIx64 "): the file is damaged", stored, computed);
    uint32_t n = sfri_le_get_u32(p + 16);
    if (n > (uint32_t)max || sfri_le_get_u32(p + 20) != 0)
        return sfri_fail(SFR_ERR_FORMAT, func, "%" PRIu32 " sections (at most %d) or a reserved "
                         "field not 0", n, max);
    struct sfri_reader r = {p + HEADER_BYTES, body - HEADER_BYTES};
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *tag, *payload;
        uint32_t section_version;
        uint64_t len;
        if (!sfri_get_bytes(&r, &tag, 4) || !sfri_get_u32(&r, &section_version) ||
            !sfri_get_u64(&r, &len) || len > r.left || !sfri_get_bytes(&r, &payload, len))
            return sfri_fail(SFR_ERR_FORMAT, func, "section %" PRIu32 " runs past the end", i);
        if (!printable_tag(tag))
            return sfri_fail(SFR_ERR_FORMAT, func, "section %" PRIu32 " has no valid tag", i);
        for (uint32_t j = 0; j < i; j++)
            if (memcmp(sections[j].tag, tag, 4) == 0)
                return sfri_fail(SFR_ERR_FORMAT, func, "section '%.4s' appears twice",
                                 (const char *)tag);
        sections[i] = (struct sfri_section){{0}, section_version, payload, (size_t)len};
        memcpy(sections[i].tag, tag, 4);
    }
    if (r.left != 0)
        return sfri_fail(SFR_ERR_FORMAT, func, "%zu bytes after the last section", r.left);
    *count = (int)n;
    return SFR_OK;
}
