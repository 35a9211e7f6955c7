/*
 * sfr_checkpoint_save and sfr_checkpoint_load, and their in-memory twins:
 * every held object's section in a container (container.c), written
 * atomically by file_io.c; a load prepares every section before it applies
 * any, so that it changes all or nothing.
 */
#include <stdint.h>
#include <string.h>

#include "../common/common.h"
#include "../common/file_io.h"
#include "checkpoint_impl.h"
#include "container.h"

/* Every codec a checkpoint may hold a section of. */
static const struct sfri_section_ops *const known[] = {
    &sfri_net_section, &sfri_sgd_section, &sfri_adamw_section, &sfri_reg_section,
    &sfri_meta_section,
};
#define N_KNOWN ((int)(sizeof known / sizeof known[0]))

/* The handle, and every object it holds, live. */
static sfr_status check_handles(const sfr_checkpoint *ck, const char *fn)
{
    sfr_status st = sfri_check_handle(ck, SFRI_MAGIC_CHECKPOINT, fn, "ck");
    for (int s = 0; st == SFR_OK && s < SFRI_SLOT_COUNT; s++)
        if (ck->ops[s] != NULL && ck->ops[s]->magic != 0)
            st = sfri_check_handle(ck->obj[s], ck->ops[s]->magic, fn, ck->ops[s]->what);
    return st;
}

/* The whole checkpoint into w (which may only count). */
static void encode(const sfr_checkpoint *ck, struct sfri_writer *w)
{
    uint32_t count = 0;
    for (int s = 0; s < SFRI_SLOT_COUNT; s++)
        count += ck->ops[s] != NULL;
    sfri_state_put_header(w, count);
    for (int s = 0; s < SFRI_SLOT_COUNT; s++) {
        const struct sfri_section_ops *ops = ck->ops[s];
        if (ops == NULL)
            continue;
        struct sfri_writer size = {NULL, 0};
        ops->write(ck->obj[s], &size);
        sfri_state_put_section(w, ops->tag, ops->version, size.size);
        ops->write(ck->obj[s], w);
    }
    sfri_state_put_trailer(w);
}

/* The checks of the values before a save (the handles are checked), then
 * the checkpoint's size. */
static sfr_status measure(const sfr_checkpoint *ck, size_t *size, const char *fn)
{
    sfr_status st = SFR_OK;
    for (int s = 0; st == SFR_OK && s < SFRI_SLOT_COUNT; s++)
        if (ck->ops[s] != NULL)
            st = ck->ops[s]->check(ck->obj[s], fn);
    if (st != SFR_OK)
        return st;
    struct sfri_writer w = {NULL, 0};
    encode(ck, &w);
    *size = w.size;
    return SFR_OK;
}

SFR_API sfr_status sfr_checkpoint_save(const sfr_checkpoint *ck, const char *path)
{
    static const char *const fn = "sfr_checkpoint_save";
    size_t size = 0;
    sfr_status st = check_handles(ck, fn);
    if (st == SFR_OK)
        st = measure(ck, &size, fn);
    if (st != SFR_OK)
        return st;
    if (path == NULL || path[0] == '\0')
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "path is %s", path == NULL ? "NULL" : "empty");
    struct sfri_writer w = {sfri_malloc(size), 0};
    if (w.p == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "no memory for a checkpoint of %zu bytes", size);
    encode(ck, &w);
    st = sfri_write_file_atomic(path, w.p, w.size, fn);
    sfri_free(w.p);
    return st;
}

SFR_API sfr_status sfr_checkpoint_save_memory(const sfr_checkpoint *ck, void *buf,
                                              size_t capacity, size_t *size)
{
    static const char *const fn = "sfr_checkpoint_save_memory";
    size_t need = 0;
    sfr_status st = check_handles(ck, fn);
    if (st != SFR_OK)
        return st;
    if (size == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "size is NULL");
    if ((st = measure(ck, &need, fn)) != SFR_OK)
        return st;
    if (buf != NULL && capacity < need)
        return sfri_fail(SFR_ERR_SHAPE, fn, "the checkpoint takes %zu bytes, the buffer holds "
                         "%zu: nothing written", need, capacity);
    if (buf != NULL) {
        struct sfri_writer w = {buf, 0};
        encode(ck, &w);
    }
    *size = need;
    return SFR_OK;
}

/* The section of the file with tag, or NULL. */
static const struct sfri_section *find(const struct sfri_section *sections, int n,
                                       const char tag[4])
{
    for (int i = 0; i < n; i++)
        if (memcmp(sections[i].tag, tag, 4) == 0)
            return &sections[i];
    return NULL;
}

/* Every section is one this library knows, of a version it reads. */
static sfr_status check_known(const struct sfri_section *sections, int n, const char *fn)
{
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < N_KNOWN && memcmp(known[k]->tag, sections[i].tag, 4) != 0)
            k++;
        if (k == N_KNOWN)
            return sfri_fail(SFR_ERR_FORMAT, fn, "unknown section '%.4s' (written by a newer "
                             "library?)", sections[i].tag);
        if (sections[i].version > known[k]->version)
            return sfri_fail(SFR_ERR_FORMAT, fn, "section '%.4s' is of version %u, this library "
                             "reads up to %u", sections[i].tag, sections[i].version,
                             known[k]->version);
    }
    return SFR_OK;
}

/* What a missing section means, in words, for a slot's object. */
static sfr_status missing(const struct sfri_section_ops *ops, const struct sfri_section *sections,
                          int n, const char *fn)
{
    const struct sfri_section_ops *other =
        ops == &sfri_sgd_section ? &sfri_adamw_section :
        ops == &sfri_adamw_section ? &sfri_sgd_section : NULL;
    if (other != NULL && find(sections, n, other->tag) != NULL)
        return sfri_fail(SFR_ERR_FORMAT, fn, "the checkpoint holds the state of an %s, this "
                         "one has an %s", other->what, ops->what);
    return sfri_fail(SFR_ERR_FORMAT, fn, "the checkpoint holds no %s state", ops->what);
}

/* A checkpoint in memory: parse, prepare every held object's section, apply. */
static sfr_status load_bytes(sfr_checkpoint *ck, const unsigned char *data, size_t size,
                             const char *fn)
{
    struct sfri_section sections[SFRI_STATE_MAX_SECTIONS];
    int n = 0;
    sfr_status st = sfri_state_parse(data, size, sections, SFRI_STATE_MAX_SECTIONS, &n, fn);
    if (st == SFR_OK)
        st = check_known(sections, n, fn);
    if (st != SFR_OK)
        return st;
    /* A file without metadata (one sfr_net_save wrote) leaves none. */
    static const unsigned char no_entries[4] = {0};
    const struct sfri_section empty_meta = {{'M', 'E', 'T', 'A'}, 1, no_entries, 4};
    int64_t net_params = ck->ops[SFRI_SLOT_NET] != NULL ?
                             sfri_net_section_params(ck->obj[SFRI_SLOT_NET]) : -1;
    void *pending[SFRI_SLOT_COUNT] = {0};
    int s = 0;
    for (; st == SFR_OK && s < SFRI_SLOT_COUNT; s++) {
        const struct sfri_section_ops *ops = ck->ops[s];
        if (ops == NULL)
            continue;
        const struct sfri_section *section = find(sections, n, ops->tag);
        if (section == NULL && ops == &sfri_meta_section)
            section = &empty_meta;
        st = section == NULL ? missing(ops, sections, n, fn) :
                               ops->prepare(ck->obj[s], section, net_params, &pending[s], fn);
    }
    for (int i = 0; i < SFRI_SLOT_COUNT; i++) {
        if (pending[i] == NULL)
            continue;
        if (st == SFR_OK)
            ck->ops[i]->apply(ck->obj[i], pending[i]);
        else
            ck->ops[i]->discard(pending[i]);
    }
    return st;
}

SFR_API sfr_status sfr_checkpoint_load_memory(sfr_checkpoint *ck, const void *buf, size_t size)
{
    static const char *const fn = "sfr_checkpoint_load_memory";
    sfr_status st = check_handles(ck, fn);
    if (st != SFR_OK)
        return st;
    if (buf == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "buf is NULL");
    return load_bytes(ck, buf, size, fn);
}

SFR_API sfr_status sfr_checkpoint_load(sfr_checkpoint *ck, const char *path)
{
    static const char *const fn = "sfr_checkpoint_load";
    sfr_status st = check_handles(ck, fn);
    if (st != SFR_OK)
        return st;
    if (path == NULL || path[0] == '\0')
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "path is %s", path == NULL ? "NULL" : "empty");
    unsigned char *data = NULL;
    size_t size = 0;
    if ((st = sfri_read_file(path, &data, &size, fn)) != SFR_OK)
        return st;
    st = load_bytes(ck, data, size, fn);
    sfri_free(data);
    return st;
}
