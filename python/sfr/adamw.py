"""AdamW: torch.optim.AdamW's update on a net's flat parameters (adamw.h)."""

import ctypes

from ._handle import Handle
from ._library import lib


class AdamW(Handle):
    """PyTorch's defaults; the results equal torch.optim.AdamW's bit for bit."""

    _destroy = staticmethod(lib.sfr_adamw_destroy)

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__()
        beta1, beta2 = betas
        lib.sfr_adamw_create(ctypes.byref(self._ptr), lr, beta1, beta2, eps, weight_decay)

    def step(self, net):
        lib.sfr_adamw_step(self._live(), net._live())

    def set_lr(self, lr):
        lib.sfr_adamw_set_lr(self._live(), lr)

    @property
    def steps(self):
        """Steps taken so far (PyTorch's state "step")."""
        out = ctypes.c_int64()
        lib.sfr_adamw_steps(self._live(), ctypes.byref(out))
        return out.value
