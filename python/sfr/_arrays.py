"""numpy arrays in and out of the library.

In: an array the library only reads during the call (an input batch,
logits, labels, sample ids) is converted to the dtype and C order it needs,
without a copy when it already has them. A buffer the library keeps or
writes (a wrapped tap's data and gradient, dlogits) must already be of the
exact dtype, C-contiguous (and writable): a converted copy would not be the
host's array.

Out: an array of the library's memory is a numpy view whose base is a
_Memory, which holds the object owning that memory (numpy's base chain
keeps it alive as long as any view or slice of it) and counts itself among
the owner's live views of that kind, so that the owner can refuse to free
memory a view still shows.
"""

import ctypes

import numpy as np

_FLOAT32 = np.dtype(np.float32)


def _describe(a):
    return "%s %s" % (a.dtype, a.shape) if isinstance(a, np.ndarray) else type(a).__name__


def converted(a, dtype, what, shape=None, ndim=None):
    """a as a C-contiguous array of dtype for reading (a copy only if needed).
    Integer targets take any integer array whose values fit, nothing else."""
    dtype = np.dtype(dtype)
    source = np.asarray(a)
    if dtype.kind == "i" and source.size and source.dtype != dtype:
        if source.dtype.kind not in "iub":
            raise TypeError("%s must hold integers, got %s" % (what, source.dtype))
        info = np.iinfo(dtype)
        low, high = source.min(), source.max()
        if low < info.min or high > info.max:
            raise ValueError("%s holds %d, outside %s" % (what, low if low < info.min else high,
                                                        dtype))
    elif dtype.kind == "f" and source.dtype.kind not in "fiub":
        raise TypeError("%s must hold real numbers, got %s" % (what, source.dtype))
    out = np.ascontiguousarray(source, dtype=dtype)
    _check_shape(out, what, shape, ndim)
    return out


def exact(a, dtype, what, shape=None, ndim=None, writable=False):
    """Checks that a is an array the library may keep or write in place."""
    if not isinstance(a, np.ndarray):
        raise TypeError("%s must be a numpy array, got %s" % (what, type(a).__name__))
    if a.dtype != np.dtype(dtype):
        raise TypeError("%s must have dtype %s (the library uses it in place), got %s"
                        % (what, np.dtype(dtype), a.dtype))
    if not a.flags.c_contiguous:
        raise ValueError("%s must be C-contiguous (use np.ascontiguousarray)" % what)
    if writable and not a.flags.writeable:
        raise ValueError("%s must be writable" % what)
    _check_shape(a, what, shape, ndim)
    return a


def _check_shape(a, what, shape, ndim):
    if shape is not None and a.shape != tuple(shape):
        raise ValueError("%s must have shape %s, got %s" % (what, tuple(shape), a.shape))
    if ndim is not None and a.ndim != ndim:
        raise ValueError("%s must have %d dimensions, got shape %s" % (what, ndim, a.shape))


def floats(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


class _Memory:
    """The base of a view of library memory (see the module's comment)."""

    __slots__ = ("owner", "kind", "__array_interface__", "__weakref__")

    def __init__(self, owner, kind, address, shape, writable):
        self.owner = owner
        self.kind = kind
        self.__array_interface__ = {"version": 3, "typestr": _FLOAT32.str,
                                    "data": (address, not writable), "shape": shape}
        owner._view_born(kind)

    def __del__(self):
        self.owner._view_gone(self.kind)


def view(owner, kind, pointer, shape, writable):
    """A float32 numpy view of library memory at pointer (None for NULL)."""
    address = ctypes.cast(pointer, ctypes.c_void_p).value
    if not address:
        return None
    shape = tuple(int(d) for d in shape)
    return np.asarray(_Memory(owner, kind, address, shape, writable))
