"""libsfr from Python through ctypes: no compiled extension, numpy for buffers.

    import numpy as np, sfr
    with sfr.Net() as net:
        x = net.input(1, 28, 28)
        ...
        net.compile(64)

How the library is found: sfr._library (an installed package uses the
library `make install` put beside it; no environment variable is needed).
Handles are wrapped by Net, Tap, Reg, Sgd, AdamW, LrSchedule and Checkpoint, each with an explicit close()
and usable as a context manager. A failing call raises the subclass of
SfrError for its status, which is also the matching Python exception
(ValueError, MemoryError, OSError, ...; see sfr.errors). Buffers and the
arrays the library hands out: sfr._arrays and the classes' docstrings.
"""

from . import _library
from ._library import ALLOC_FN, FREE_FN, ABI_MAJOR, MIN_VERSION_NUMBER
from ._version import __version__
from .adamw import AdamW
from .checkpoint import Checkpoint
from .errors import (STATUS_NAMES, BackendError, FormatError, InvalidArgError, IoError,
                     MisuseError, NoMemError, NonFiniteError, SfrError, ShapeError, StateError,
                     UnsupportedError)
from .net import (ACT_GELU, ACT_GELU_TANH, ACT_HARDSIGMOID, ACT_HARDSWISH, ACT_SIGMOID,
                  ACT_SILU, PRECISION_BF16, PRECISION_FP32, Net, precision_supported)
from .reg import (LS_CONSTANT, LS_COSINE, LS_LINEAR, LS_PAST, LS_SELF, LS_UNIFORM, MATCH_EMD,
                  MATCH_L2, NORM_NONE, NORM_RMS, Param, Reg)
from .schedule import LR_CONSTANT, LR_COSINE, LR_STEP, LrSchedule
from .sgd import Sgd
from .tap import Tap

__all__ = [
    "ABI_MAJOR", "ALLOC_FN", "FREE_FN", "MIN_VERSION_NUMBER", "STATUS_NAMES", "__version__",
    "SfrError", "InvalidArgError", "ShapeError", "NonFiniteError", "NoMemError", "StateError",
    "IoError", "FormatError", "BackendError", "UnsupportedError", "MisuseError",
    "Net", "Tap", "Reg", "Sgd", "AdamW", "LrSchedule", "Checkpoint", "Param",
    "LR_CONSTANT", "LR_COSINE", "LR_STEP", "ACT_SIGMOID", "ACT_SILU", "ACT_HARDSWISH",
    "ACT_HARDSIGMOID", "ACT_GELU", "ACT_GELU_TANH", "PRECISION_FP32", "PRECISION_BF16",
    "precision_supported",
    "MATCH_EMD", "MATCH_L2", "NORM_RMS", "NORM_NONE", "LS_CONSTANT", "LS_LINEAR", "LS_COSINE",
    "LS_UNIFORM", "LS_SELF", "LS_PAST",
    "library_path", "declared_functions", "version", "version_number", "status_string",
    "last_error", "set_num_threads",
]


def library_path():
    """The path libsfr was loaded from."""
    return _library.path


def declared_functions():
    """The C functions this package declares (for the drift test)."""
    return set(_library._SIGNATURES)


def version():
    """The loaded library's version string."""
    return _library.lib.sfr_version_string().decode()


def version_number():
    return _library.lib.sfr_version_number()


def status_string(code):
    return _library.lib.sfr_status_string(code).decode()


def last_error():
    return _library.lib.sfr_last_error().decode("utf-8", "replace")


def set_num_threads(n):
    _library.lib.sfr_set_num_threads(n)
