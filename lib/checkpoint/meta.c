/*
 * The host's metadata and its section of a training-state checkpoint (tag
 * "META", version 1; docs/checkpoint-format.md):
 *
 *   u32 count, then count times: u32 key bytes, the key, u32 value bytes, the value
 *
 * Keys are 1 to 255 bytes, values 0 to 65535, neither holding a NUL byte;
 * keys are distinct; at most 1024 entries.
 */
#include <string.h>

#include "../common/common.h"
#include "meta.h"
#include "section.h"

static int find(const struct sfri_meta *meta, const char *key, size_t len)
{
    for (int i = 0; i < meta->count; i++)
        if (strlen(meta->entries[i].key) == len && memcmp(meta->entries[i].key, key, len) == 0)
            return i;
    return -1;
}

static char *copy(const char *s, size_t len)
{
    char *c = sfri_malloc(len + 1);
    if (c != NULL) {
        memcpy(c, s, len);
        c[len] = '\0';
    }
    return c;
}

/* Appends a new (key, value), copied; 0 when memory runs out. */
static int append(struct sfri_meta *meta, const char *key, size_t key_len, const char *value,
                  size_t value_len)
{
    if (meta->count == meta->cap) {
        int cap = meta->cap ? 2 * meta->cap : 8;
        struct sfri_meta_entry *e = sfri_malloc(sfri_mul_size((size_t)cap, sizeof *e));
        if (e == NULL)
            return 0;
        if (meta->count > 0)
            memcpy(e, meta->entries, (size_t)meta->count * sizeof *e);
        sfri_free(meta->entries);
        meta->entries = e;
        meta->cap = cap;
    }
    char *k = copy(key, key_len), *v = copy(value, value_len);
    if (k == NULL || v == NULL) {
        sfri_free(k);
        sfri_free(v);
        return 0;
    }
    meta->entries[meta->count++] = (struct sfri_meta_entry){k, v};
    return 1;
}

sfr_status sfri_meta_set(struct sfri_meta *meta, const char *key, const char *value,
                         const char *func)
{
    size_t key_len = strlen(key);
    if (key_len == 0 || key_len > SFRI_META_MAX_KEY)
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "a key is 1 to %d bytes, this one %zu",
                         SFRI_META_MAX_KEY, key_len);
    int at = find(meta, key, key_len);
    if (value == NULL) {
        if (at >= 0) {
            sfri_free(meta->entries[at].key);
            sfri_free(meta->entries[at].value);
            memmove(&meta->entries[at], &meta->entries[at + 1],
                    (size_t)(meta->count - at - 1) * sizeof meta->entries[0]);
            meta->count--;
        }
        return SFR_OK;
    }
    size_t value_len = strlen(value);
    if (value_len > SFRI_META_MAX_VALUE)
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "a value is at most %d bytes, this one %zu",
                         SFRI_META_MAX_VALUE, value_len);
    if (at >= 0) {
        char *v = copy(value, value_len);
        if (v == NULL)
            return sfri_fail(SFR_ERR_NOMEM, func, "no memory for a value of %zu bytes", value_len);
        sfri_free(meta->entries[at].value);
        meta->entries[at].value = v;
        return SFR_OK;
    }
    if (meta->count == SFRI_META_MAX_ENTRIES)
        return sfri_fail(SFR_ERR_INVALID_ARG, func, "a checkpoint holds %d metadata entries at "
                         "most", SFRI_META_MAX_ENTRIES);
    if (!append(meta, key, key_len, value, value_len))
        return sfri_fail(SFR_ERR_NOMEM, func, "no memory for a metadata entry");
    return SFR_OK;
}

const char *sfri_meta_get(const struct sfri_meta *meta, const char *key)
{
    int at = find(meta, key, strlen(key));
    return at >= 0 ? meta->entries[at].value : NULL;
}

void sfri_meta_clear(struct sfri_meta *meta)
{
    for (int i = 0; i < meta->count; i++) {
        sfri_free(meta->entries[i].key);
        sfri_free(meta->entries[i].value);
    }
    sfri_free(meta->entries);
    *meta = (struct sfri_meta){0};
}

static sfr_status check(const void *obj, const char *fn)
{
    (void)obj;
    (void)fn;
    return SFR_OK;
}

static void write_section(const void *obj, struct sfri_writer *w)
{
    const struct sfri_meta *meta = obj;
    sfri_put_u32(w, (uint32_t)meta->count);
    for (int i = 0; i < meta->count; i++) {
        const char *s[2] = {meta->entries[i].key, meta->entries[i].value};
        for (int j = 0; j < 2; j++) {
            size_t len = strlen(s[j]);
            sfri_put_u32(w, (uint32_t)len);
            sfri_put_bytes(w, s[j], len);
        }
    }
}

/* One string of at most max bytes (at least min), without a NUL byte. */
static int read_string(struct sfri_reader *r, size_t min, size_t max, const char **s,
                       size_t *len)
{
    uint32_t n;
    const unsigned char *at;
    if (!sfri_get_u32(r, &n) || n < min || n > max || !sfri_get_bytes(r, &at, n) ||
        memchr(at, '\0', n) != NULL)
        return 0;
    *s = (const char *)at;
    *len = n;
    return 1;
}

static void discard(void *pending)
{
    sfri_meta_clear(pending);
    sfri_free(pending);
}

static sfr_status prepare(const void *obj, const struct sfri_section *s, int64_t net_params,
                          void **out, const char *fn)
{
    (void)obj;
    (void)net_params;
    struct sfri_reader r = {s->payload, s->size};
    uint32_t count;
    if (!sfri_get_u32(&r, &count) || count > SFRI_META_MAX_ENTRIES)
        return sfri_fail(SFR_ERR_FORMAT, fn, "the metadata section is truncated or holds more "
                         "than %d entries", SFRI_META_MAX_ENTRIES);
    struct sfri_meta *meta = sfri_calloc(1, sizeof *meta);
    if (meta == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory for the metadata");
    sfr_status st = SFR_OK;
    for (uint32_t i = 0; i < count && st == SFR_OK; i++) {
        const char *key, *value;
        size_t key_len, value_len;
        if (!read_string(&r, 1, SFRI_META_MAX_KEY, &key, &key_len) ||
            !read_string(&r, 0, SFRI_META_MAX_VALUE, &value, &value_len))
            st = sfri_fail(SFR_ERR_FORMAT, fn, "metadata entry %u is truncated or malformed", i);
        else if (find(meta, key, key_len) >= 0)
            st = sfri_fail(SFR_ERR_FORMAT, fn, "metadata entry %u repeats its key", i);
        else if (!append(meta, key, key_len, value, value_len))
            st = sfri_fail(SFR_ERR_NOMEM, fn, "no memory for the metadata");
    }
    if (st == SFR_OK && r.left != 0)
        st = sfri_fail(SFR_ERR_FORMAT, fn, "the metadata section has %zu bytes too many", r.left);
    if (st != SFR_OK) {
        discard(meta);
        return st;
    }
    *out = meta;
    return SFR_OK;
}

static void apply(void *obj, void *pending)
{
    sfri_meta_clear(obj);
    *(struct sfri_meta *)obj = *(struct sfri_meta *)pending;
    sfri_free(pending);
}

const struct sfri_section_ops sfri_meta_section = {
    .tag = {'M', 'E', 'T', 'A'},
    .version = 1,
    .what = "metadata",
    .magic = 0,
    .check = check,
    .write = write_section,
    .prepare = prepare,
    .apply = apply,
    .discard = discard,
};
