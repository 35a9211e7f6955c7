"""Reg: the SFR regularizer, and its option keys (reg.h)."""

import ctypes
import enum
import numbers

import numpy as np

from . import _arrays
from ._handle import Handle
from ._library import _c_int32_p, _c_int64_p, lib


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
    COOLDOWN = 302
    HEAD_MUTUAL = 303
    CLASSWISE = 304
    CLASSWISE_TEMPERATURE = 305
    LAST_BATCH = 306
    LAST_BATCH_TEMPERATURE = 307


MATCH_EMD, MATCH_L2 = 0, 1
NORM_RMS, NORM_NONE = 0, 1
LS_CONSTANT, LS_LINEAR, LS_COSINE = 0, 1, 2
LS_UNIFORM, LS_SELF, LS_PAST = 0, 1, 2

# Enum-valued keys also take their values' names, in the order of their values.
_CHOICES = {
    Param.MATCH: ("emd", "l2"),
    Param.NORM: ("rms", "none"),
    Param.LS_SCHEDULE: ("constant", "linear", "cosine"),
    Param.LS_SOURCE: ("uniform", "self", "past"),
}


def _key_names():
    return ", ".join(p.name.lower() for p in Param)


def param_key(key):
    """key as a Param: a Param, its name in any case ("sinkhorn_eps") or its number."""
    if isinstance(key, Param):
        return key
    if isinstance(key, str):
        try:
            return Param[key.upper()]
        except KeyError:
            raise ValueError("unknown parameter %r; the keys are %s" % (key, _key_names())) from None
    if isinstance(key, numbers.Integral) and not isinstance(key, bool):
        try:
            return Param(int(key))
        except ValueError:
            raise ValueError("unknown parameter key %d; the keys are %s"
                             % (key, _key_names())) from None
    raise TypeError("a parameter key is a Param, its name or its number, got %s"
                    % type(key).__name__)


def _param_value(key, value):
    if isinstance(value, str) and key in _CHOICES:
        try:
            return float(_CHOICES[key].index(value.lower()))
        except ValueError:
            raise ValueError("%s takes %s, got %r" % (key.name.lower(), ", ".join(_CHOICES[key]),
                                                      value)) from None
    if not isinstance(value, numbers.Real):
        raise TypeError("the value of %s must be a number, got %s"
                        % (key.name.lower(), type(value).__name__))
    return float(value)


class Reg(Handle):
    """The SFR regularizer (reg.h). It keeps every Tap of its pairs alive."""

    _destroy = staticmethod(lib.sfr_reg_destroy)

    def __init__(self, **params):
        """Reg(sinkhorn_eps=0.1, match="l2", ...) sets options by Param name
        (any case)."""
        super().__init__()
        self._taps = []
        lib.sfr_reg_create(ctypes.byref(self._ptr))
        try:
            for key, value in params.items():
                self.set_param(key, value)
        except BaseException:
            self.close()
            raise

    def set_param(self, key, value):
        """key: a Param, its name or number; value: a number (an enum key
        also takes its value's name, e.g. match="l2")."""
        key = param_key(key)
        lib.sfr_reg_set_param(self._live(), int(key), _param_value(key, value))

    def get_param(self, key):
        value = ctypes.c_double()
        lib.sfr_reg_get_param(self._live(), int(param_key(key)), ctypes.byref(value))
        return value.value

    def add_pair(self, student, teacher, beta=1.0):
        """Adds (student, teacher, beta); returns the pair's index."""
        index = ctypes.c_int()
        lib.sfr_reg_add_pair(self._live(), student._live(), teacher._live(), float(beta),
                             ctypes.byref(index))
        for tap in (student, teacher):
            tap._pairs += 1
            self._taps.append(tap)
        return index.value

    def set_progress(self, t):
        lib.sfr_reg_set_progress(self._live(), float(t))

    def set_sample_ids(self, ids):
        """ids: (n,) dataset indices of the next compute's samples (any
        integer dtype; no copy for C-contiguous int64)."""
        ids = _arrays.converted(ids, np.int64, "ids", ndim=1)
        lib.sfr_reg_set_sample_ids(self._live(), ids.ctypes.data_as(_c_int64_p), ids.size)

    def compute(self, logits=None, labels=None, dlogits=None, n=None):
        """The SFR objective. logits (n, K) and labels (n,) (converted to
        float32 and int32 as needed, no copy when they already are) and
        dlogits (n, K) float32, C-contiguous, overwritten with dL/dlogits;
        or no logits (and n, the batch size of the taps) for the feature
        terms alone. Feature gradients are added to the taps' gradient
        buffers. Returns the loss."""
        loss = ctypes.c_double()
        if logits is None:
            if labels is not None or dlogits is not None or n is None:
                raise ValueError("without logits give n only (no labels, no dlogits)")
            lib.sfr_reg_compute(self._live(), None, None, n, 0, None, ctypes.byref(loss))
            return loss.value
        logits = _arrays.converted(logits, np.float32, "logits", ndim=2)
        rows, k = logits.shape
        if labels is None or dlogits is None:
            raise ValueError("logits need labels and dlogits")
        labels = _arrays.converted(labels, np.int32, "labels", (rows,))
        _arrays.exact(dlogits, np.float32, "dlogits", logits.shape, writable=True)
        lib.sfr_reg_compute(self._live(), _arrays.floats(logits),
                            labels.ctypes.data_as(_c_int32_p), rows, k, _arrays.floats(dlogits),
                            ctypes.byref(loss))
        return loss.value

    def pair_loss(self, index):
        value = ctypes.c_double()
        lib.sfr_reg_pair_loss(self._live(), index, ctypes.byref(value))
        return value.value

    def label_loss(self):
        value = ctypes.c_double()
        lib.sfr_reg_label_loss(self._live(), ctypes.byref(value))
        return value.value

    def classwise_loss(self):
        """The last compute's class-wise term (Param.CLASSWISE), weights included."""
        value = ctypes.c_double()
        lib.sfr_reg_classwise_loss(self._live(), ctypes.byref(value))
        return value.value

    def last_batch_loss(self):
        """The last compute's last-batch term (Param.LAST_BATCH), weights included."""
        value = ctypes.c_double()
        lib.sfr_reg_last_batch_loss(self._live(), ctypes.byref(value))
        return value.value

    def pair_stats(self, index):
        """(largest Sinkhorn iteration count, largest row-marginal error)."""
        iterations, error = ctypes.c_int(), ctypes.c_double()
        lib.sfr_reg_pair_stats(self._live(), index, ctypes.byref(iterations),
                               ctypes.byref(error))
        return iterations.value, error.value

    def add_head(self, head, ce_weight=1.0, kl_weight=1.0):
        """Adds a self-distillation head (a tap of shape (N, K, 1, 1)); returns its index."""
        index = ctypes.c_int()
        lib.sfr_reg_add_head(self._live(), head._live(), float(ce_weight), float(kl_weight),
                             ctypes.byref(index))
        head._pairs += 1
        self._taps.append(head)
        return index.value

    def head_loss(self, index):
        """(weighted cross-entropy part, weighted KL part) of a head's last loss."""
        ce, kl = ctypes.c_double(), ctypes.c_double()
        lib.sfr_reg_head_loss(self._live(), index, ctypes.byref(ce), ctypes.byref(kl))
        return ce.value, kl.value

    def pair_solves(self, index):
        """(Sinkhorn solves of the last compute, how many stopped at max_iter)."""
        solves, capped = ctypes.c_int64(), ctypes.c_int64()
        lib.sfr_reg_pair_solves(self._live(), index, ctypes.byref(solves), ctypes.byref(capped))
        return solves.value, capped.value

    def close(self):
        super().close()
        for tap in self._taps:
            tap._pairs -= 1
        self._taps = []
