"""The exceptions of a failing libsfr call.

Every status has its class, a subclass of SfrError and of the Python
exception that means the same, so that callers may catch either:

    status                  class              also a
    SFR_ERR_INVALID_ARG     InvalidArgError    ValueError
    SFR_ERR_SHAPE           ShapeError         ValueError
    SFR_ERR_NONFINITE       NonFiniteError     ValueError
    SFR_ERR_NOMEM           NoMemError         MemoryError
    SFR_ERR_STATE           StateError         RuntimeError
    SFR_ERR_IO              IoError            OSError
    SFR_ERR_FORMAT          FormatError        ValueError
    SFR_ERR_BACKEND         BackendError       RuntimeError
    SFR_ERR_UNSUPPORTED     UnsupportedError   NotImplementedError
    SFR_ERR_MISUSE          MisuseError        ValueError
"""

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


class SfrError(Exception):
    """A libsfr call failed: status (negative int), name ("SFR_ERR_SHAPE"),
    function (the C function called) and message (sfr_last_error(), which
    starts with the function's name)."""

    def __init__(self, status, function, message):
        self.status = status
        self.name = STATUS_NAMES.get(status, "unknown status %d" % status)
        self.function = function
        self.message = message
        if not message:
            text = function
        elif message.startswith(function + ":"):
            text = message
        else:
            text = "%s: %s" % (function, message)
        super().__init__("%s (%s)" % (text, self.name))


class InvalidArgError(SfrError, ValueError):
    """SFR_ERR_INVALID_ARG: a NULL pointer, a value out of range, a bad label or id."""


class ShapeError(SfrError, ValueError):
    """SFR_ERR_SHAPE: dimensions that do not fit."""


class NonFiniteError(SfrError, ValueError):
    """SFR_ERR_NONFINITE: a NaN or an infinity in an input."""


class NoMemError(SfrError, MemoryError):
    """SFR_ERR_NOMEM: an allocation failed."""


class StateError(SfrError, RuntimeError):
    """SFR_ERR_STATE: a call out of order (forward before compile, ...)."""


class IoError(SfrError, OSError):
    """SFR_ERR_IO: a file that cannot be read or written."""


class FormatError(SfrError, ValueError):
    """SFR_ERR_FORMAT: a corrupt or incompatible file."""


class BackendError(SfrError, RuntimeError):
    """SFR_ERR_BACKEND: oneDNN failed."""


class UnsupportedError(SfrError, NotImplementedError):
    """SFR_ERR_UNSUPPORTED."""


class MisuseError(SfrError, ValueError):
    """SFR_ERR_MISUSE: not a live handle of that kind."""


_BY_STATUS = {
    -1: InvalidArgError,
    -2: ShapeError,
    -3: NonFiniteError,
    -4: NoMemError,
    -5: StateError,
    -6: IoError,
    -7: FormatError,
    -8: BackendError,
    -9: UnsupportedError,
    -10: MisuseError,
}


def error_for(status, function, message):
    """The exception for a failed call (SfrError itself for an unknown status)."""
    return _BY_STATUS.get(status, SfrError)(status, function, message)
