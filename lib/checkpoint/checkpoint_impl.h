/*
 * The checkpoint handle (handle.c) as save_load.c sees it: one slot per
 * kind of object, each with the codec of the object it holds.
 */
#ifndef SFR_LIB_CHECKPOINT_IMPL_H
#define SFR_LIB_CHECKPOINT_IMPL_H

#include <stdint.h>

#include "meta.h"
#include "section.h"
#include "sfr/checkpoint.h"

/* Slots in the order their sections are written. */
enum sfri_ckpt_slot { SFRI_SLOT_NET, SFRI_SLOT_OPTIMIZER, SFRI_SLOT_REG, SFRI_SLOT_META,
                      SFRI_SLOT_COUNT };

struct sfr_checkpoint {
    uint32_t magic;                                     /* SFRI_MAGIC_CHECKPOINT while live */
    const struct sfri_section_ops *ops[SFRI_SLOT_COUNT]; /* NULL: the slot is empty */
    void *obj[SFRI_SLOT_COUNT];
    struct sfri_meta meta;                              /* the META slot's object */
};

#endif /* SFR_LIB_CHECKPOINT_IMPL_H */
