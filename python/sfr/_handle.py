"""The base of the handle classes: an owned C handle with an explicit
close(), use as a context manager, and release at collection."""

import ctypes
import gc


class Handle:
    """An owned C handle. Subclasses set _destroy (the C destroy function).

    A handle whose memory numpy views show (_arrays.view) is kept alive by
    them; close() then only closes it for use, and the C handle is destroyed
    with its last view."""

    _destroy = None

    def __init__(self):
        self._ptr = ctypes.c_void_p()
        self._closed = False
        self._views = {}

    @property
    def closed(self):
        return self._closed or not self._ptr

    def _live(self):
        if self.closed:
            raise ValueError("%s is closed" % type(self).__name__)
        return self._ptr

    def _view_born(self, kind):
        self._views[kind] = self._views.get(kind, 0) + 1

    def _view_gone(self, kind):
        self._views[kind] -= 1
        if self._closed and not any(self._views.values()):
            self._release()

    def _live_views(self, kind):
        """Views of that kind still alive, after a collection of garbage
        cycles that may hold some."""
        if self._views.get(kind):
            gc.collect()
        return self._views.get(kind, 0)

    def _release(self):
        if self._ptr:
            ptr, self._ptr = self._ptr, ctypes.c_void_p()
            type(self)._destroy(ptr)

    def close(self):
        """Closes the handle; its memory goes with the last view showing it."""
        self._closed = True
        if not any(self._views.values()):
            self._release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_ptr", None):
            try:
                self._release()
            except Exception:
                pass
