/*
 * The host's key/value metadata of a checkpoint (meta.c): an ordered list
 * of string pairs, and its section (tag "META").
 */
#ifndef SFR_LIB_CHECKPOINT_META_H
#define SFR_LIB_CHECKPOINT_META_H

#include "sfr/status.h"

#define SFRI_META_MAX_ENTRIES 1024
#define SFRI_META_MAX_KEY 255
#define SFRI_META_MAX_VALUE 65535

struct sfri_meta_entry {
    char *key, *value;          /* NUL-terminated, owned */
};

struct sfri_meta {
    struct sfri_meta_entry *entries;
    int count, cap;
};

/* Sets key to value (NULL: removes it), reported for func on failure,
 * when nothing changes. */
sfr_status sfri_meta_set(struct sfri_meta *meta, const char *key, const char *value,
                         const char *func);

/* The value of key, or NULL. */
const char *sfri_meta_get(const struct sfri_meta *meta, const char *key);

/* Releases every entry (the list is then empty and reusable). */
void sfri_meta_clear(struct sfri_meta *meta);

#endif /* SFR_LIB_CHECKPOINT_META_H */
