/* The checkpoint handle: creation, the objects it holds, its metadata. */
#include "../common/common.h"
#include "checkpoint_impl.h"

SFR_API sfr_status sfr_checkpoint_create(sfr_checkpoint **out)
{
    static const char *const fn = "sfr_checkpoint_create";
    if (out == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "out is NULL");
    sfr_checkpoint *ck = sfri_calloc(1, sizeof *ck);
    if (ck == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    ck->magic = SFRI_MAGIC_CHECKPOINT;
    ck->ops[SFRI_SLOT_META] = &sfri_meta_section;
    ck->obj[SFRI_SLOT_META] = &ck->meta;
    *out = ck;
    return SFR_OK;
}

SFR_API void sfr_checkpoint_destroy(sfr_checkpoint *ck)
{
    if (ck == NULL || ck->magic != SFRI_MAGIC_CHECKPOINT)
        return;
    sfri_meta_clear(&ck->meta);
    ck->magic = SFRI_MAGIC_DEAD;
    sfri_free(ck);
}

/* Puts obj, a live handle of ops' kind, in an empty slot. */
static sfr_status add(sfr_checkpoint *ck, enum sfri_ckpt_slot slot,
                      const struct sfri_section_ops *ops, void *obj, const char *arg,
                      const char *fn)
{
    sfr_status st = sfri_check_handle(ck, SFRI_MAGIC_CHECKPOINT, fn, "ck");
    if (st == SFR_OK)
        st = sfri_check_handle(obj, ops->magic, fn, arg);
    if (st != SFR_OK)
        return st;
    if (ck->ops[slot] != NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "the checkpoint already holds its %s",
                         ck->ops[slot]->what);
    ck->ops[slot] = ops;
    ck->obj[slot] = obj;
    return SFR_OK;
}

SFR_API sfr_status sfr_checkpoint_add_net(sfr_checkpoint *ck, sfr_net *net)
{
    return add(ck, SFRI_SLOT_NET, &sfri_net_section, net, "net", "sfr_checkpoint_add_net");
}

SFR_API sfr_status sfr_checkpoint_add_sgd(sfr_checkpoint *ck, sfr_sgd *opt)
{
    return add(ck, SFRI_SLOT_OPTIMIZER, &sfri_sgd_section, opt, "opt", "sfr_checkpoint_add_sgd");
}

SFR_API sfr_status sfr_checkpoint_add_adamw(sfr_checkpoint *ck, sfr_adamw *opt)
{
    return add(ck, SFRI_SLOT_OPTIMIZER, &sfri_adamw_section, opt, "opt",
               "sfr_checkpoint_add_adamw");
}

SFR_API sfr_status sfr_checkpoint_add_reg(sfr_checkpoint *ck, sfr_reg *reg)
{
    return add(ck, SFRI_SLOT_REG, &sfri_reg_section, reg, "reg", "sfr_checkpoint_add_reg");
}

SFR_API sfr_status sfr_checkpoint_set_meta(sfr_checkpoint *ck, const char *key, const char *value)
{
    static const char *const fn = "sfr_checkpoint_set_meta";
    sfr_status st = sfri_check_handle(ck, SFRI_MAGIC_CHECKPOINT, fn, "ck");
    if (st != SFR_OK)
        return st;
    if (key == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "key is NULL");
    return sfri_meta_set(&ck->meta, key, value, fn);
}

SFR_API sfr_status sfr_checkpoint_get_meta(const sfr_checkpoint *ck, const char *key,
                                           const char **value)
{
    static const char *const fn = "sfr_checkpoint_get_meta";
    sfr_status st = sfri_check_handle(ck, SFRI_MAGIC_CHECKPOINT, fn, "ck");
    if (st != SFR_OK)
        return st;
    if (key == NULL || value == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "%s is NULL", key == NULL ? "key" : "value");
    *value = sfri_meta_get(&ck->meta, key);
    return SFR_OK;
}

SFR_API sfr_status sfr_checkpoint_meta_count(const sfr_checkpoint *ck, int *count)
{
    static const char *const fn = "sfr_checkpoint_meta_count";
    sfr_status st = sfri_check_handle(ck, SFRI_MAGIC_CHECKPOINT, fn, "ck");
    if (st != SFR_OK)
        return st;
    if (count == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "count is NULL");
    *count = ck->meta.count;
    return SFR_OK;
}

SFR_API sfr_status sfr_checkpoint_meta_at(const sfr_checkpoint *ck, int index, const char **key,
                                          const char **value)
{
    static const char *const fn = "sfr_checkpoint_meta_at";
    sfr_status st = sfri_check_handle(ck, SFRI_MAGIC_CHECKPOINT, fn, "ck");
    if (st != SFR_OK)
        return st;
    if (key == NULL || value == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "%s is NULL", key == NULL ? "key" : "value");
    if (index < 0 || index >= ck->meta.count)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "index %d is outside [0, %d)", index,
                         ck->meta.count);
    *key = ck->meta.entries[index].key;
    *value = ck->meta.entries[index].value;
    return SFR_OK;
}
