"""libsfr from Python through ctypes: no compiled extension, numpy for buffers.

    import numpy as np, sfr
    with sfr.Net() as net:
        x = net.input(1, 28, 28)
        ...
        net.compile(64)

The library is found, in this order, at $SFR_LIBRARY, in the build directory
of the checkout this file lives in (../../build/libsfr.so.MAJOR), and by
ctypes.util.find_library("sfr") (an installed libsfr).

Every public C function is declared in _SIGNATURES below with its exact
argument and result types. A failing call raises SfrError carrying the status
code, its name and sfr_last_error(). Handles are wrapped by Net, Tap, Reg and
Sgd, each with an explicit close() and usable as a context manager.

Buffers are numpy arrays passed to the library without copies: they must be
C-contiguous and of the exact dtype (float32 for tensors, int32 for labels,
int64 for sample ids), and are checked for shape before the call. Arrays the
library owns (Net.output, Net.params, a net tap's data and grad) are returned
as numpy views of the library's memory: they are valid until the net is
compiled again, its layers change, or it is closed. Buffers wrapped by a Tap
are referenced by the Tap (and a Tap by every Reg holding it), so they live
as long as the library may read them.
"""

import ctypes
import ctypes.util
import enum
import os

import numpy as np

ABI_MAJOR = 0
# The oldest library with every function declared here.
MIN_VERSION_NUMBER = 100

_c_float_p = ctypes.POINTER(ctypes.c_float)
_c_int32_p = ctypes.POINTER(ctypes.c_int32)
_c_int64_p = ctypes.POINTER(ctypes.c_int64)
_c_int_p = ctypes.POINTER(ctypes.c_int)
_c_double_p = ctypes.POINTER(ctypes.c_double)
_handle = ctypes.c_void_p
_handle_p = ctypes.POINTER(ctypes.c_void_p)
_status = ctypes.c_int
# alloc.h's function types: a host allocator written in Python must be kept
# alive (referenced) for as long as libsfr may call it.
ALLOC_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p)
FREE_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)

# name: (restype, argtypes), in the order of include/sfr/*.h. A test checks
# that these names are exactly tests/abi/symbols.txt and that every argument
# count matches the headers.
_SIGNATURES = {
    # version.h
    "sfr_version_number": (ctypes.c_uint, []),
    "sfr_version_string": (ctypes.c_char_p, []),
    # status.h
    "sfr_status_string": (ctypes.c_char_p, [_status]),
    "sfr_last_error": (ctypes.c_char_p, []),
    "sfr_set_num_threads": (_status, [ctypes.c_int]),
    # alloc.h
    "sfr_set_allocator": (_status, [ALLOC_FN, FREE_FN, ctypes.c_void_p]),
    # tap.h
    "sfr_tap_wrap": (_status, [_c_int64_p, _c_float_p, _c_float_p, _handle_p]),
    "sfr_tap_rebind": (_status, [_handle, _c_float_p, _c_float_p]),
    "sfr_tap_dims": (_status, [_handle, _c_int64_p]),
    "sfr_tap_data": (_status, [_handle, ctypes.POINTER(_c_float_p)]),
    "sfr_tap_grad": (_status, [_handle, ctypes.POINTER(_c_float_p)]),
    "sfr_tap_destroy": (None, [_handle]),
    # reg.h
    "sfr_reg_create": (_status, [_handle_p]),
    "sfr_reg_destroy": (None, [_handle]),
    "sfr_reg_set_param": (_status, [_handle, ctypes.c_int, ctypes.c_double]),
    "sfr_reg_get_param": (_status, [_handle, ctypes.c_int, _c_double_p]),
    "sfr_reg_add_pair": (_status, [_handle, _handle, _handle, ctypes.c_double, _c_int_p]),
    "sfr_reg_set_progress": (_status, [_handle, ctypes.c_double]),
    "sfr_reg_set_sample_ids": (_status, [_handle, _c_int64_p, ctypes.c_int64]),
    "sfr_reg_compute": (_status, [_handle, _c_float_p, _c_int32_p, ctypes.c_int64,
                                  ctypes.c_int64, _c_float_p, _c_double_p]),
    "sfr_reg_compute_net": (_status, [_handle, _handle, _c_int32_p, _c_float_p, _c_double_p]),
    "sfr_reg_pair_loss": (_status, [_handle, ctypes.c_int, _c_double_p]),
    "sfr_reg_label_loss": (_status, [_handle, _c_double_p]),
    "sfr_reg_pair_stats": (_status, [_handle, ctypes.c_int, _c_int_p, _c_double_p]),
    "sfr_reg_add_head": (_status, [_handle, _handle, ctypes.c_double, ctypes.c_double, _c_int_p]),
    "sfr_reg_head_loss": (_status, [_handle, ctypes.c_int, _c_double_p, _c_double_p]),
    "sfr_reg_pair_solves": (_status, [_handle, ctypes.c_int, _c_int64_p, _c_int64_p]),
    # net.h
    "sfr_net_create": (_status, [_handle_p]),
    "sfr_net_destroy": (None, [_handle]),
    "sfr_net_input": (_status, [_handle, ctypes.c_int, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_conv2d": (_status, [_handle, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_batchnorm": (_status, [_handle, ctypes.c_int, _c_int_p]),
    "sfr_net_relu": (_status, [_handle, ctypes.c_int, _c_int_p]),
    "sfr_net_maxpool": (_status, [_handle, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_int, _c_int_p]),
    "sfr_net_avgpool": (_status, [_handle, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_int, _c_int_p]),
    "sfr_net_global_avgpool": (_status, [_handle, ctypes.c_int, _c_int_p]),
    "sfr_net_linear": (_status, [_handle, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_add": (_status, [_handle, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_compile": (_status, [_handle, ctypes.c_int64]),
    "sfr_net_init_params": (_status, [_handle, ctypes.c_uint64]),
    "sfr_net_forward": (_status, [_handle, _c_float_p, ctypes.c_int]),
    "sfr_net_output": (_status, [_handle, ctypes.POINTER(_c_float_p), _c_int64_p]),
    "sfr_net_backward": (_status, [_handle, _c_float_p]),
    "sfr_net_tap": (_status, [_handle, ctypes.c_int, _handle_p]),
    "sfr_net_params": (_status, [_handle, ctypes.POINTER(_c_float_p),
                                 ctypes.POINTER(_c_float_p), _c_int64_p]),
    "sfr_net_param_tensors": (_status, [_handle, _c_int_p]),
    "sfr_net_param_info": (_status, [_handle, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                                     _c_int64_p, _c_int64_p]),
    "sfr_net_save": (_status, [_handle, ctypes.c_char_p]),
    "sfr_net_load": (_status, [_handle, ctypes.c_char_p]),
    # sgd.h
    "sfr_sgd_create": (_status, [_handle_p, ctypes.c_double, ctypes.c_double,
                                 ctypes.c_double, ctypes.c_int]),
    "sfr_sgd_step": (_status, [_handle, _handle]),
    "sfr_sgd_set_lr": (_status, [_handle, ctypes.c_double]),
    "sfr_sgd_destroy": (None, [_handle]),
}

STATUS_NAMES = {
    0: "SFR_OK",
    -1: "SFR_ERR_INVALID_ARG",
    -2: "SFR_ERR_SHAPE",
    -3: "SFR_ERR_NONFINITE",
    -4: "SFR_ERR_NOMEM",
    -5: "SFR_ERR_STATE",
    -6: "SFR_ERR_IO",
    -7: "SFR_ERR_FORMAT",
    -8: "SFR_ERR_BACKEND",
    -9: "SFR_ERR_UNSUPPORTED",
    -10: "SFR_ERR_MISUSE",
}


class Param(enum.IntEnum):
    """Option keys of Reg.set_param / Reg.get_param (sfr_param in reg.h)."""
    SINKHORN_EPS = 100
    MAX_ITER = 101
    TOL = 102
    MATCH = 103
    NORM = 104
    DELTA = 105
    TEACHER_GRAD = 106
    GRID_H = 107
    GRID_W = 108
    TEACHER_GRID_H = 109
    TEACHER_GRID_W = 110
    EPS_RELATIVE = 111
    EPS_SCALING = 112
    DEBIAS = 113
    LS_SCHEDULE = 200
    LS_EPS_START = 201
    LS_EPS_END = 202
    LS_SOURCE = 203
    LS_TEMPERATURE = 204
    LS_BANK_SIZE = 205
    GAMMA = 206
    WARMUP = 300
    HEAD_TEMPERATURE = 301


MATCH_EMD, MATCH_L2 = 0, 1
NORM_RMS, NORM_NONE = 0, 1
LS_CONSTANT, LS_LINEAR, LS_COSINE = 0, 1, 2
LS_UNIFORM, LS_SELF, LS_PAST = 0, 1, 2


class SfrError(Exception):
    """A libsfr call failed: status (negative int), name ("SFR_ERR_SHAPE"),
    function (the C function called) and message (sfr_last_error())."""

    def __init__(self, status, function, message):
        self.status = status
        self.name = STATUS_NAMES.get(status, "unknown status %d" % status)
        self.function = function
        self.message = message
        super().__init__("%s: %s (%s)" % (function, self.name, message))


def _library_path():
    path = os.environ.get("SFR_LIBRARY")
    if path:
        return path
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "..", "..", "build", "libsfr.so.%d" % ABI_MAJOR)
    if os.path.exists(built):
        return os.path.normpath(built)
    found = ctypes.util.find_library("sfr")
    if found is None:
        raise OSError("libsfr not found: set SFR_LIBRARY, run make, or install libsfr")
    return found


def _errcheck(result, func, args):
    if result != 0:
        message = _lib.sfr_last_error().decode("utf-8", "replace")
        raise SfrError(result, func.__name__, message)
    return result


def _load():
    lib = ctypes.CDLL(_library_path())
    for name, (restype, argtypes) in _SIGNATURES.items():
        func = getattr(lib, name)
        func.restype = restype
        func.argtypes = argtypes
        if restype is _status:
            func.errcheck = _errcheck
    number = lib.sfr_version_number()
    if number // 10000 != ABI_MAJOR or number < MIN_VERSION_NUMBER:
        raise OSError("libsfr %s is not compatible with this module (ABI %d, at least %d)"
                      % (lib.sfr_version_string().decode(), ABI_MAJOR, MIN_VERSION_NUMBER))
    return lib


_lib = _load()


def declared_functions():
    """The C functions this module declares (for the drift test)."""
    return set(_SIGNATURES)


def version():
    return _lib.sfr_version_string().decode()


def version_number():
    return _lib.sfr_version_number()


def status_string(code):
    return _lib.sfr_status_string(code).decode()


def last_error():
    return _lib.sfr_last_error().decode("utf-8", "replace")


def set_num_threads(n):
    _lib.sfr_set_num_threads(n)


def _array(a, dtype, what, shape=None, writable=False):
    """Checks that a is a numpy array the library may use in place."""
    if not isinstance(a, np.ndarray):
        raise TypeError("%s must be a numpy array, got %s" % (what, type(a).__name__))
    if a.dtype != dtype:
        raise TypeError("%s must have dtype %s, got %s" % (what, np.dtype(dtype), a.dtype))
    if not a.flags.c_contiguous:
        raise ValueError("%s must be C-contiguous (use np.ascontiguousarray)" % what)
    if writable and not a.flags.writeable:
        raise ValueError("%s must be writable" % what)
    if shape is not None and a.shape != tuple(shape):
        raise ValueError("%s must have shape %s, got %s" % (what, tuple(shape), a.shape))
    return a


def _floats(a):
    return a.ctypes.data_as(_c_float_p)


def _view(pointer, shape):
    """A numpy view of float memory the library owns."""
    if not pointer:
        return None
    return np.ctypeslib.as_array(pointer, shape=tuple(int(d) for d in shape))


class _Handle:
    """An owned C handle: explicit close(), context manager, close at collection."""

    _destroy = None

    def __init__(self):
        self._ptr = ctypes.c_void_p()

    @property
    def closed(self):
        return not self._ptr

    def _live(self):
        if not self._ptr:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._ptr

    def close(self):
        if self._ptr:
            type(self)._destroy(self._ptr)
            self._ptr = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_ptr", None):
            try:
                self.close()
            except Exception:
                pass


class Tap(_Handle):
    """A feature map (N, C, H, W) float32 and an optional gradient buffer.

    Tap.wrap(data, grad) wraps host arrays (kept referenced by the Tap);
    Net.tap(layer) gives a net's tap, owned by the net (close() only drops
    the Python object). A Tap held by an open Reg cannot be closed."""

    _destroy = staticmethod(_lib.sfr_tap_destroy)

    def __init__(self, _net=None):
        super().__init__()
        self._net = _net
        self._data = self._grad = None
        self._pairs = 0

    @classmethod
    def wrap(cls, data, grad=None):
        _array(data, np.float32, "data")
        if data.ndim != 4:
            raise ValueError("data must be (N, C, H, W), got shape %s" % (data.shape,))
        if grad is not None:
            _array(grad, np.float32, "grad", data.shape, writable=True)
        tap = cls()
        dims = (ctypes.c_int64 * 4)(*data.shape)
        _lib.sfr_tap_wrap(dims, _floats(data), None if grad is None else _floats(grad),
                          ctypes.byref(tap._ptr))
        tap._data, tap._grad = data, grad
        return tap

    def rebind(self, data, grad=None):
        """Points a wrapped tap at new arrays of the same shape."""
        _array(data, np.float32, "data", self.dims())
        if grad is not None:
            _array(grad, np.float32, "grad", data.shape, writable=True)
        _lib.sfr_tap_rebind(self._live(), _floats(data),
                            None if grad is None else _floats(grad))
        self._data, self._grad = data, grad

    def dims(self):
        dims = (ctypes.c_int64 * 4)()
        _lib.sfr_tap_dims(self._live(), dims)
        return tuple(dims)

    def data(self):
        """The feature map: the wrapped array, or a view of the net's memory."""
        if self._net is None:
            self._live()
            return self._data
        pointer = _c_float_p()
        _lib.sfr_tap_data(self._live(), ctypes.byref(pointer))
        return _view(pointer, self.dims())

    def grad(self):
        """The gradient buffer (None for a wrapped tap without one)."""
        if self._net is None:
            self._live()
            return self._grad
        pointer = _c_float_p()
        _lib.sfr_tap_grad(self._live(), ctypes.byref(pointer))
        return _view(pointer, self.dims())

    def close(self):
        if self._pairs > 0:
            raise RuntimeError("Tap.close: the tap is still in %d pair(s) of an open Reg"
                               % self._pairs)
        if self._net is not None:
            self._ptr = ctypes.c_void_p()  # the net frees its own taps
        else:
            super().close()
            self._data = self._grad = None


class Net(_Handle):
    """A network built layer by layer, compiled for a batch size (net.h)."""

    _destroy = staticmethod(_lib.sfr_net_destroy)

    def __init__(self):
        super().__init__()
        _lib.sfr_net_create(ctypes.byref(self._ptr))
        self._taps = {}
        self._input_shape = None  # (C, H, W)
        self._batch = None

    def _layer(self, func, *args):
        layer = ctypes.c_int()
        func(self._live(), *args, ctypes.byref(layer))
        return layer.value

    def input(self, c, h, w):
        layer = self._layer(_lib.sfr_net_input, c, h, w)
        self._input_shape = (c, h, w)
        return layer

    def conv2d(self, x, out_c, kernel, stride=1, pad=0, bias=False):
        return self._layer(_lib.sfr_net_conv2d, x, out_c, kernel, stride, pad, int(bias))

    def batchnorm(self, x):
        return self._layer(_lib.sfr_net_batchnorm, x)

    def relu(self, x):
        return self._layer(_lib.sfr_net_relu, x)

    def maxpool(self, x, kernel, stride, pad=0):
        return self._layer(_lib.sfr_net_maxpool, x, kernel, stride, pad)

    def avgpool(self, x, kernel, stride, pad=0):
        return self._layer(_lib.sfr_net_avgpool, x, kernel, stride, pad)

    def global_avgpool(self, x):
        return self._layer(_lib.sfr_net_global_avgpool, x)

    def linear(self, x, out_features):
        return self._layer(_lib.sfr_net_linear, x, out_features)

    def add(self, a, b):
        return self._layer(_lib.sfr_net_add, a, b)

    def compile(self, batch):
        self._batch = None
        _lib.sfr_net_compile(self._live(), batch)
        self._batch = batch

    def init_params(self, seed):
        _lib.sfr_net_init_params(self._live(), seed)

    def forward(self, x, training=True):
        """x: (batch, C, H, W) float32 of the compiled batch size."""
        if self._batch is None:
            shape = None  # the library reports the missing compile
        else:
            shape = (self._batch,) + self._input_shape
        _array(x, np.float32, "input", shape)
        _lib.sfr_net_forward(self._live(), _floats(x), int(training))

    def output(self):
        """The logits of the last forward, (batch, K), a view of the net's memory."""
        pointer = _c_float_p()
        dims = (ctypes.c_int64 * 2)()
        _lib.sfr_net_output(self._live(), ctypes.byref(pointer), dims)
        return _view(pointer, dims)

    def backward(self, dlogits):
        """dlogits: (batch, K) float32, the gradient of the loss by the logits."""
        shape = self.output().shape
        _array(dlogits, np.float32, "dlogits", shape)
        _lib.sfr_net_backward(self._live(), _floats(dlogits))

    def tap(self, layer):
        if layer not in self._taps:
            tap = Tap(_net=self)
            _lib.sfr_net_tap(self._live(), layer, ctypes.byref(tap._ptr))
            self._taps[layer] = tap
        return self._taps[layer]

    def params(self):
        """(values, grads): views of the flat parameter and gradient buffers."""
        values, grads = _c_float_p(), _c_float_p()
        count = ctypes.c_int64()
        _lib.sfr_net_params(self._live(), ctypes.byref(values), ctypes.byref(grads),
                            ctypes.byref(count))
        return _view(values, (count.value,)), _view(grads, (count.value,))

    def param_tensors(self):
        count = ctypes.c_int()
        _lib.sfr_net_param_tensors(self._live(), ctypes.byref(count))
        return count.value

    def param_info(self, i):
        """(name, offset, size) of parameter tensor i in the flat buffers."""
        name = ctypes.c_char_p()
        offset, size = ctypes.c_int64(), ctypes.c_int64()
        _lib.sfr_net_param_info(self._live(), i, ctypes.byref(name), ctypes.byref(offset),
                                ctypes.byref(size))
        return name.value.decode(), offset.value, size.value

    def save(self, path):
        _lib.sfr_net_save(self._live(), os.fsencode(path))

    def load(self, path):
        _lib.sfr_net_load(self._live(), os.fsencode(path))

    def close(self):
        held = sum(tap._pairs for tap in self._taps.values())
        if held:
            raise RuntimeError("Net.close: %d of its taps' pairs belong to an open Reg" % held)
        for tap in self._taps.values():
            tap.close()
        self._taps = {}
        super().close()


class Reg(_Handle):
    """The SFR regularizer (reg.h). It keeps every Tap of its pairs alive."""

    _destroy = staticmethod(_lib.sfr_reg_destroy)

    def __init__(self, **params):
        """Reg(SINKHORN_EPS=0.1, MATCH=sfr.MATCH_L2, ...) sets options by Param name."""
        super().__init__()
        self._taps = []
        _lib.sfr_reg_create(ctypes.byref(self._ptr))
        try:
            for key, value in params.items():
                self.set_param(Param[key], value)
        except BaseException:
            self.close()
            raise

    def set_param(self, key, value):
        _lib.sfr_reg_set_param(self._live(), int(key), float(value))

    def get_param(self, key):
        value = ctypes.c_double()
        _lib.sfr_reg_get_param(self._live(), int(key), ctypes.byref(value))
        return value.value

    def add_pair(self, student, teacher, beta=1.0):
        """Adds (student, teacher, beta); returns the pair's index."""
        index = ctypes.c_int()
        _lib.sfr_reg_add_pair(self._live(), student._live(), teacher._live(), float(beta),
                              ctypes.byref(index))
        for tap in (student, teacher):
            tap._pairs += 1
            self._taps.append(tap)
        return index.value

    def set_progress(self, t):
        _lib.sfr_reg_set_progress(self._live(), float(t))

    def set_sample_ids(self, ids):
        """ids: (n,) int64 dataset indices of the next compute's samples."""
        _array(ids, np.int64, "ids")
        if ids.ndim != 1:
            raise ValueError("ids must be one-dimensional, got shape %s" % (ids.shape,))
        _lib.sfr_reg_set_sample_ids(self._live(), ids.ctypes.data_as(_c_int64_p), ids.size)

    def compute(self, logits=None, labels=None, dlogits=None, n=None):
        """The SFR objective. logits (n, K) float32, labels (n,) int32 and dlogits
        (n, K) float32, overwritten with dL/dlogits; or no logits (and n, the
        batch size of the taps) for the feature terms alone. Feature gradients
        are added to the taps' gradient buffers. Returns the loss."""
        loss = ctypes.c_double()
        if logits is None:
            if labels is not None or dlogits is not None or n is None:
                raise ValueError("without logits give n only (no labels, no dlogits)")
            _lib.sfr_reg_compute(self._live(), None, None, n, 0, None, ctypes.byref(loss))
            return loss.value
        _array(logits, np.float32, "logits")
        if logits.ndim != 2:
            raise ValueError("logits must be (n, K), got shape %s" % (logits.shape,))
        rows, k = logits.shape
        _array(labels, np.int32, "labels", (rows,))
        _array(dlogits, np.float32, "dlogits", logits.shape, writable=True)
        _lib.sfr_reg_compute(self._live(), _floats(logits), labels.ctypes.data_as(_c_int32_p),
                             rows, k, _floats(dlogits), ctypes.byref(loss))
        return loss.value

    def pair_loss(self, index):
        value = ctypes.c_double()
        _lib.sfr_reg_pair_loss(self._live(), index, ctypes.byref(value))
        return value.value

    def label_loss(self):
        value = ctypes.c_double()
        _lib.sfr_reg_label_loss(self._live(), ctypes.byref(value))
        return value.value

    def pair_stats(self, index):
        """(largest Sinkhorn iteration count, largest row-marginal error)."""
        iterations, error = ctypes.c_int(), ctypes.c_double()
        _lib.sfr_reg_pair_stats(self._live(), index, ctypes.byref(iterations),
                                ctypes.byref(error))
        return iterations.value, error.value

    def add_head(self, head, ce_weight=1.0, kl_weight=1.0):
        """Adds a self-distillation head (a tap of shape (N, K, 1, 1)); returns its index."""
        index = ctypes.c_int()
        _lib.sfr_reg_add_head(self._live(), head._live(), float(ce_weight), float(kl_weight),
                              ctypes.byref(index))
        head._pairs += 1
        self._taps.append(head)
        return index.value

    def head_loss(self, index):
        """(weighted cross-entropy part, weighted KL part) of a head's last loss."""
        ce, kl = ctypes.c_double(), ctypes.c_double()
        _lib.sfr_reg_head_loss(self._live(), index, ctypes.byref(ce), ctypes.byref(kl))
        return ce.value, kl.value

    def pair_solves(self, index):
        """(Sinkhorn solves of the last compute, how many stopped at max_iter)."""
        solves, capped = ctypes.c_int64(), ctypes.c_int64()
        _lib.sfr_reg_pair_solves(self._live(), index, ctypes.byref(solves), ctypes.byref(capped))
        return solves.value, capped.value

    def close(self):
        super().close()
        for tap in self._taps:
            tap._pairs -= 1
        self._taps = []


class Sgd(_Handle):
    """SGD with PyTorch's semantics on a net's flat parameters (sgd.h)."""

    _destroy = staticmethod(_lib.sfr_sgd_destroy)

    def __init__(self, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__()
        _lib.sfr_sgd_create(ctypes.byref(self._ptr), lr, momentum, weight_decay,
                            int(nesterov))

    def step(self, net):
        _lib.sfr_sgd_step(self._live(), net._live())

    def set_lr(self, lr):
        _lib.sfr_sgd_set_lr(self._live(), lr)
