"""Sgd: SGD with PyTorch's semantics on a net's flat parameters (sgd.h)."""

import ctypes

from ._handle import Handle
from ._library import lib


class Sgd(Handle):
    _destroy = staticmethod(lib.sfr_sgd_destroy)

    def __init__(self, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__()
        lib.sfr_sgd_create(ctypes.byref(self._ptr), lr, momentum, weight_decay, int(nesterov))

    def step(self, net):
        lib.sfr_sgd_step(self._live(), net._live())

    def set_lr(self, lr):
        lib.sfr_sgd_set_lr(self._live(), lr)
