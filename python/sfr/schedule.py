"""LrSchedule: linear warm-up, then constant, cosine or step decay (schedule.h)."""

import ctypes

from ._handle import Handle
from ._library import lib

LR_CONSTANT, LR_COSINE, LR_STEP = 0, 1, 2


class LrSchedule(Handle):
    """The rate at each step; hand it to an optimizer's set_lr."""

    _destroy = staticmethod(lib.sfr_lr_schedule_destroy)

    def __init__(self, shape, base_lr, total_steps, warmup_steps=0, start_factor=1.0,
                 min_lr=0.0, milestones=(), gamma=1.0):
        super().__init__()
        lib.sfr_lr_schedule_create(ctypes.byref(self._ptr), shape, base_lr, total_steps)
        lib.sfr_lr_schedule_set_warmup(self._ptr, warmup_steps, start_factor)
        lib.sfr_lr_schedule_set_min_lr(self._ptr, min_lr)
        steps = (ctypes.c_int64 * max(len(milestones), 1))(*milestones)
        lib.sfr_lr_schedule_set_milestones(self._ptr, steps, len(milestones), gamma)

    def lr(self, step):
        out = ctypes.c_double()
        lib.sfr_lr_schedule_lr(self._live(), step, ctypes.byref(out))
        return out.value
