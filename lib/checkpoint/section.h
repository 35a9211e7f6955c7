/*
 * One kind of object's part of a training-state checkpoint (a "section"):
 * how the checkpoint code (checkpoint.c) writes it and loads it without
 * knowing the object's insides. Each kind's codec lives beside the kind
 * (lib/net/net_section.c, lib/sgd/sgd_section.c, ...).
 *
 * A load is all or nothing: prepare checks a section's bytes against its
 * object and builds everything the object will hold (allocations included)
 * without touching it; only once every section has been prepared does
 * apply hand each pending state over, and apply cannot fail.
 */
#ifndef SFR_LIB_CHECKPOINT_SECTION_H
#define SFR_LIB_CHECKPOINT_SECTION_H

#include <stddef.h>
#include <stdint.h>

#include "../common/bytes.h"
#include "sfr/status.h"

/* A section as a checkpoint holds it: the bytes stay the caller's. */
struct sfri_section {
    char tag[4];                    /* four ASCII bytes, e.g. "SGD " */
    uint32_t version;               /* of the section's payload layout */
    const unsigned char *payload;
    size_t size;
};

struct sfri_section_ops {
    char tag[4];
    uint32_t version;               /* the one written; prepare may accept older ones */
    const char *what;               /* for messages: "net", "SGD optimizer", ... */
    uint32_t magic;                 /* of the object's handle, 0: not a public handle */
    /* What keeps the object from being saved (a NaN, say), as a status
     * reported for fn; SFR_OK when it can be. */
    sfr_status (*check)(const void *obj, const char *fn);
    /* The payload, into w (which may only count). */
    void (*write)(const void *obj, struct sfri_writer *w);
    /* Checks the section against obj; on success *pending holds what apply
     * needs. net_params: the parameter count of the checkpoint's net, -1
     * when it holds none. SFR_ERR_FORMAT (or NOMEM) for fn on failure. */
    sfr_status (*prepare)(const void *obj, const struct sfri_section *s, int64_t net_params,
                          void **pending, const char *fn);
    /* Gives obj the prepared state, and releases pending. */
    void (*apply)(void *obj, void *pending);
    /* Releases a prepared state that will not be applied. */
    void (*discard)(void *pending);
};

extern const struct sfri_section_ops sfri_net_section;
extern const struct sfri_section_ops sfri_sgd_section;
extern const struct sfri_section_ops sfri_adamw_section;
extern const struct sfri_section_ops sfri_reg_section;
extern const struct sfri_section_ops sfri_meta_section;

/* The parameter count of a net, for prepare's net_params (net_section.c). */
int64_t sfri_net_section_params(const void *net);

#endif /* SFR_LIB_CHECKPOINT_SECTION_H */
