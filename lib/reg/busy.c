/*
 * The rule that a regularizer is used by one thread at a time, checked.
 * Every call that changes a regularizer holds its busy flag for its
 * duration, so a second thread that enters one meanwhile is refused with
 * SFR_ERR_MISUSE before it reads or writes anything, instead of both
 * computes mixing their workspaces into wrong results reported as OK. One
 * atomic exchange per call: nothing to notice next to a compute.
 */
#include "common/common.h"
#include "reg_internal.h"

sfr_status sfri_reg_enter(sfr_reg *reg, const char *func)
{
    sfr_status st = sfri_check_handle(reg, SFRI_MAGIC_REG, func, "reg");
    if (st != SFR_OK)
        return st;
    if (atomic_exchange_explicit(&reg->busy, 1, memory_order_acquire) != 0)
        return sfri_fail(SFR_ERR_MISUSE, func, "the regularizer is in use by another call: a "
                         "regularizer is used by one thread at a time");
    return SFR_OK;
}

sfr_status sfri_reg_leave(sfr_reg *reg, sfr_status st)
{
    atomic_store_explicit(&reg->busy, 0, memory_order_release);
    return st;
}
