"""Full training state: a net, its optimizer, its regularizer and metadata,
saved and loaded together (checkpoint.h)."""

import ctypes
import os

from ._handle import Handle
from ._library import lib, sized_bytes
from .adamw import AdamW
from .net import Net
from .reg import Reg
from .sgd import Sgd


class Checkpoint(Handle):
    """Holds a run's objects; save() and load() take all of them at once.

    The objects added are kept open while the checkpoint is: closing one
    closes it for use, and its C handle goes when the checkpoint closes.
    Metadata is str -> str (UTF-8)."""

    _destroy = staticmethod(lib.sfr_checkpoint_destroy)

    def __init__(self, net=None, optimizer=None, reg=None):
        super().__init__()
        self._held = []
        lib.sfr_checkpoint_create(ctypes.byref(self._ptr))
        for obj in (net, optimizer, reg):
            if obj is not None:
                self.add(obj)

    def add(self, obj):
        """Adds a Net, an Sgd or AdamW optimizer, or a Reg."""
        adders = {Net: lib.sfr_checkpoint_add_net, Sgd: lib.sfr_checkpoint_add_sgd,
                  AdamW: lib.sfr_checkpoint_add_adamw, Reg: lib.sfr_checkpoint_add_reg}
        adder = next((f for cls, f in adders.items() if isinstance(obj, cls)), None)
        if adder is None:
            raise TypeError("Checkpoint.add takes a Net, Sgd, AdamW or Reg, not %s"
                            % type(obj).__name__)
        adder(self._live(), obj._live())
        obj._view_born("checkpoint")
        self._held.append(obj)

    def __setitem__(self, key, value):
        lib.sfr_checkpoint_set_meta(self._live(), key.encode(), str(value).encode())

    def __delitem__(self, key):
        if key not in self:
            raise KeyError(key)
        lib.sfr_checkpoint_set_meta(self._live(), key.encode(), None)

    def __getitem__(self, key):
        value = ctypes.c_char_p()
        lib.sfr_checkpoint_get_meta(self._live(), key.encode(), ctypes.byref(value))
        if value.value is None:
            raise KeyError(key)
        return value.value.decode()

    def __contains__(self, key):
        value = ctypes.c_char_p()
        lib.sfr_checkpoint_get_meta(self._live(), key.encode(), ctypes.byref(value))
        return value.value is not None

    def meta(self):
        """The metadata as a dict, in the order keys were first set."""
        count = ctypes.c_int()
        lib.sfr_checkpoint_meta_count(self._live(), ctypes.byref(count))
        out = {}
        for i in range(count.value):
            key, value = ctypes.c_char_p(), ctypes.c_char_p()
            lib.sfr_checkpoint_meta_at(self._live(), i, ctypes.byref(key), ctypes.byref(value))
            out[key.value.decode()] = value.value.decode()
        return out

    def save(self, path):
        lib.sfr_checkpoint_save(self._live(), os.fsencode(path))

    def load(self, path):
        lib.sfr_checkpoint_load(self._live(), os.fsencode(path))

    def save_bytes(self):
        """The checkpoint save() would write, as bytes."""
        return sized_bytes(lib.sfr_checkpoint_save_memory, self._live())

    def load_bytes(self, data):
        """Loads a checkpoint from bytes (save_bytes's, or a file's)."""
        data = bytes(data)
        lib.sfr_checkpoint_load_memory(self._live(), data, len(data))

    def _release(self):
        super()._release()
        held, self._held = self._held, []
        for obj in held:
            obj._view_gone("checkpoint")
