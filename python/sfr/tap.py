"""Tap: a feature map (N, C, H, W) float32 and an optional gradient buffer (tap.h)."""

import ctypes

import numpy as np

from . import _arrays
from ._handle import Handle
from ._library import _c_float_p, lib


class Tap(Handle):
    """Tap.wrap(data, grad) wraps host arrays, kept referenced by the Tap;
    Net.tap(layer) gives a net's tap, owned by the net (close() only drops
    the Python object). A Tap held by an open Reg cannot be closed."""

    _destroy = staticmethod(lib.sfr_tap_destroy)

    def __init__(self, _net=None):
        super().__init__()
        self._net = _net
        self._data = self._grad = None
        self._pairs = 0

    @classmethod
    def wrap(cls, data, grad=None):
        """data: (N, C, H, W) float32, C-contiguous; grad: None or the same
        shape, writable. Neither is copied: the library reads data and adds
        into grad whenever a Reg computes."""
        _arrays.exact(data, np.float32, "data", ndim=4)
        if grad is not None:
            _arrays.exact(grad, np.float32, "grad", data.shape, writable=True)
        tap = cls()
        dims = (ctypes.c_int64 * 4)(*data.shape)
        lib.sfr_tap_wrap(dims, _arrays.floats(data),
                         None if grad is None else _arrays.floats(grad), ctypes.byref(tap._ptr))
        tap._data, tap._grad = data, grad
        return tap

    def rebind(self, data, grad=None):
        """Points a wrapped tap at new arrays of the same shape."""
        _arrays.exact(data, np.float32, "data", self.dims())
        if grad is not None:
            _arrays.exact(grad, np.float32, "grad", data.shape, writable=True)
        lib.sfr_tap_rebind(self._live(), _arrays.floats(data),
                           None if grad is None else _arrays.floats(grad))
        self._data, self._grad = data, grad

    def dims(self):
        dims = (ctypes.c_int64 * 4)()
        lib.sfr_tap_dims(self._live(), dims)
        return tuple(dims)

    def _net_buffer(self, func, writable):
        pointer = _c_float_p()
        func(self._live(), ctypes.byref(pointer))
        return self._net._compiled_view(pointer, self.dims(), writable)

    def data(self):
        """The feature map: the wrapped array, or a read-only view of the
        net's memory holding the layer's output of the last forward
        (StateError before the first forward after a compile)."""
        if self._net is None:
            self._live()
            return self._data
        return self._net_buffer(lib.sfr_tap_data, writable=False)

    def grad(self):
        """The gradient buffer: the wrapped array (None without one), or a
        writable view of the net's memory, added into backward."""
        if self._net is None:
            self._live()
            return self._grad
        return self._net_buffer(lib.sfr_tap_grad, writable=True)

    def close(self):
        if self._pairs > 0:
            raise RuntimeError("Tap.close: the tap is still in %d pair(s) of an open Reg"
                               % self._pairs)
        if self._net is not None:
            self._ptr = ctypes.c_void_p()  # the net frees its own taps
            self._closed = True
        else:
            super().close()
            self._data = self._grad = None
