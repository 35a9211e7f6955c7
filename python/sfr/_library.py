"""Finding, loading and declaring libsfr.

The library is looked for, in this order:
  1. $SFR_LIBRARY, when set (nothing else is tried then);
  2. the path `make install` recorded beside this package (sfr/_install.py);
  3. the build directory of the checkout this package lives in
     (python/../build/libsfr.so.MAJOR), when run from the source tree;
  4. ctypes.util.find_library("sfr"), then the dynamic loader's own search
     for libsfr.so.MAJOR (a libsfr installed on the loader's path).

Every public C function is declared in _SIGNATURES with its exact argument
and result types; one returning sfr_status raises the matching subclass of
SfrError (errors.py) when it fails.
"""

import ctypes
import ctypes.util
import os

from .errors import error_for

ABI_MAJOR = 0
# The oldest library with every function declared here (0.2.0: AdamW,
# checkpoints, ONNX).
MIN_VERSION_NUMBER = 200
SONAME = "libsfr.so.%d" % ABI_MAJOR

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
    "sfr_reg_pair_loss": (_status, [_handle, ctypes.c_int, _c_double_p]),
    "sfr_reg_label_loss": (_status, [_handle, _c_double_p]),
    "sfr_reg_pair_stats": (_status, [_handle, ctypes.c_int, _c_int_p, _c_double_p]),
    "sfr_reg_add_head": (_status, [_handle, _handle, ctypes.c_double, ctypes.c_double, _c_int_p]),
    "sfr_reg_head_loss": (_status, [_handle, ctypes.c_int, _c_double_p, _c_double_p]),
    "sfr_reg_classwise_loss": (_status, [_handle, _c_double_p]),
    "sfr_reg_last_batch_loss": (_status, [_handle, _c_double_p]),
    "sfr_reg_pair_solves": (_status, [_handle, ctypes.c_int, _c_int64_p, _c_int64_p]),
    "sfr_reg_compute_net": (_status, [_handle, _handle, _c_int32_p, _c_float_p, _c_double_p]),
    # net.h
    "sfr_net_create": (_status, [_handle_p]),
    "sfr_net_destroy": (None, [_handle]),
    "sfr_net_input": (_status, [_handle, ctypes.c_int, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_conv2d": (_status, [_handle, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_batchnorm": (_status, [_handle, ctypes.c_int, _c_int_p]),
    "sfr_net_relu": (_status, [_handle, ctypes.c_int, _c_int_p]),
    "sfr_net_conv": (_status, [_handle, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, _c_int_p]),
    "sfr_net_activation": (_status, [_handle, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_maxpool": (_status, [_handle, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_int, _c_int_p]),
    "sfr_net_avgpool": (_status, [_handle, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                  ctypes.c_int, _c_int_p]),
    "sfr_net_global_avgpool": (_status, [_handle, ctypes.c_int, _c_int_p]),
    "sfr_net_linear": (_status, [_handle, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_add": (_status, [_handle, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_mul": (_status, [_handle, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_concat": (_status, [_handle, ctypes.c_int, ctypes.c_int, _c_int_p]),
    "sfr_net_dropout": (_status, [_handle, ctypes.c_int, ctypes.c_double, _c_int_p]),
    "sfr_net_compile": (_status, [_handle, ctypes.c_int64]),
    "sfr_net_init_params": (_status, [_handle, ctypes.c_uint64]),
    "sfr_net_forward": (_status, [_handle, _c_float_p, ctypes.c_int]),
    "sfr_net_forward_batch": (_status, [_handle, _c_float_p, ctypes.c_int64, ctypes.c_int]),
    "sfr_net_output": (_status, [_handle, ctypes.POINTER(_c_float_p), _c_int64_p]),
    "sfr_net_backward": (_status, [_handle, _c_float_p]),
    "sfr_net_backward_accumulate": (_status, [_handle, _c_float_p]),
    "sfr_net_zero_grads": (_status, [_handle]),
    "sfr_net_tap": (_status, [_handle, ctypes.c_int, _handle_p]),
    "sfr_net_params": (_status, [_handle, ctypes.POINTER(_c_float_p),
                                 ctypes.POINTER(_c_float_p), _c_int64_p]),
    "sfr_net_param_tensors": (_status, [_handle, _c_int_p]),
    "sfr_net_param_info": (_status, [_handle, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                                     _c_int64_p, _c_int64_p]),
    "sfr_net_set_layer_name": (_status, [_handle, ctypes.c_int, ctypes.c_char_p]),
    "sfr_net_layer_name": (_status, [_handle, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]),
    "sfr_net_find_layer": (_status, [_handle, ctypes.c_char_p, _c_int_p]),
    "sfr_precision_supported": (_status, [ctypes.c_int, _c_int_p]),
    "sfr_net_set_precision": (_status, [_handle, ctypes.c_int]),
    "sfr_net_get_precision": (_status, [_handle, _c_int_p]),
    "sfr_net_layer_count": (_status, [_handle, _c_int_p]),
    "sfr_net_layer_dims": (_status, [_handle, ctypes.c_int, _c_int_p]),
    "sfr_net_buffers": (_status, [_handle, ctypes.POINTER(_c_float_p), _c_int64_p]),
    "sfr_net_buffer_tensors": (_status, [_handle, _c_int_p]),
    "sfr_net_buffer_info": (_status, [_handle, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                                      _c_int64_p, _c_int64_p]),
    "sfr_net_save": (_status, [_handle, ctypes.c_char_p]),
    "sfr_net_load": (_status, [_handle, ctypes.c_char_p]),
    "sfr_net_save_memory": (_status, [_handle, ctypes.c_void_p, ctypes.c_size_t,
                                      ctypes.POINTER(ctypes.c_size_t)]),
    "sfr_net_load_memory": (_status, [_handle, ctypes.c_char_p, ctypes.c_size_t]),
    # sgd.h
    "sfr_sgd_create": (_status, [_handle_p, ctypes.c_double, ctypes.c_double,
                                 ctypes.c_double, ctypes.c_int]),
    "sfr_sgd_step": (_status, [_handle, _handle]),
    "sfr_sgd_set_lr": (_status, [_handle, ctypes.c_double]),
    "sfr_sgd_destroy": (None, [_handle]),
    # adamw.h
    "sfr_adamw_create": (_status, [_handle_p, ctypes.c_double, ctypes.c_double,
                                   ctypes.c_double, ctypes.c_double, ctypes.c_double]),
    "sfr_adamw_step": (_status, [_handle, _handle]),
    "sfr_adamw_set_lr": (_status, [_handle, ctypes.c_double]),
    "sfr_adamw_steps": (_status, [_handle, _c_int64_p]),
    "sfr_adamw_destroy": (None, [_handle]),
    # schedule.h
    "sfr_lr_schedule_create": (_status, [_handle_p, ctypes.c_int, ctypes.c_double,
                                         ctypes.c_int64]),
    "sfr_lr_schedule_set_warmup": (_status, [_handle, ctypes.c_int64, ctypes.c_double]),
    "sfr_lr_schedule_set_min_lr": (_status, [_handle, ctypes.c_double]),
    "sfr_lr_schedule_set_milestones": (_status, [_handle, _c_int64_p, ctypes.c_int,
                                                 ctypes.c_double]),
    "sfr_lr_schedule_lr": (_status, [_handle, ctypes.c_int64, ctypes.POINTER(ctypes.c_double)]),
    "sfr_lr_schedule_destroy": (None, [_handle]),
    # onnx.h
    "sfr_net_export_onnx": (_status, [_handle, ctypes.c_char_p]),
    "sfr_net_export_onnx_memory": (_status, [_handle, ctypes.c_void_p, ctypes.c_size_t,
                                             ctypes.POINTER(ctypes.c_size_t)]),
    "sfr_net_import_onnx": (_status, [_handle_p, ctypes.c_char_p]),
    "sfr_net_import_onnx_memory": (_status, [_handle_p, ctypes.c_char_p, ctypes.c_size_t]),
    # checkpoint.h
    "sfr_checkpoint_create": (_status, [_handle_p]),
    "sfr_checkpoint_destroy": (None, [_handle]),
    "sfr_checkpoint_add_net": (_status, [_handle, _handle]),
    "sfr_checkpoint_add_sgd": (_status, [_handle, _handle]),
    "sfr_checkpoint_add_adamw": (_status, [_handle, _handle]),
    "sfr_checkpoint_add_reg": (_status, [_handle, _handle]),
    "sfr_checkpoint_set_meta": (_status, [_handle, ctypes.c_char_p, ctypes.c_char_p]),
    "sfr_checkpoint_get_meta": (_status, [_handle, ctypes.c_char_p,
                                          ctypes.POINTER(ctypes.c_char_p)]),
    "sfr_checkpoint_meta_count": (_status, [_handle, _c_int_p]),
    "sfr_checkpoint_meta_at": (_status, [_handle, ctypes.c_int, ctypes.POINTER(ctypes.c_char_p),
                                         ctypes.POINTER(ctypes.c_char_p)]),
    "sfr_checkpoint_save": (_status, [_handle, ctypes.c_char_p]),
    "sfr_checkpoint_save_memory": (_status, [_handle, ctypes.c_void_p, ctypes.c_size_t,
                                             ctypes.POINTER(ctypes.c_size_t)]),
    "sfr_checkpoint_load": (_status, [_handle, ctypes.c_char_p]),
    "sfr_checkpoint_load_memory": (_status, [_handle, ctypes.c_char_p, ctypes.c_size_t]),
}


def _candidates():
    """(path, why) pairs to try, in order."""
    try:
        from ._install import LIBRARY
    except ImportError:
        LIBRARY = None
    if LIBRARY:
        yield LIBRARY, "recorded by make install"
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.normpath(os.path.join(here, "..", "..", "build", SONAME)), "the source tree's build"
    found = ctypes.util.find_library("sfr")
    if found:
        yield found, "ctypes.util.find_library"
    yield SONAME, "the dynamic loader's search"


def _open():
    """The loaded library and the path it was loaded from."""
    path = os.environ.get("SFR_LIBRARY")
    if path:
        return ctypes.CDLL(path), path
    tried = []
    for path, why in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append("%s (%s): no such file" % (path, why))
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s): %s" % (path, why, e))
    raise OSError("libsfr not found; tried " + "; ".join(tried) +
                  ". Install libsfr (make install), run make in the source tree, "
                  "or set SFR_LIBRARY to the library's path")


def sized_bytes(func, handle):
    """The bytes a *_save_memory-style function writes for handle: its size
    asked for first (no buffer), then a buffer of that size filled."""
    size = ctypes.c_size_t()
    func(handle, None, 0, ctypes.byref(size))
    buf = ctypes.create_string_buffer(size.value)
    func(handle, buf, size.value, ctypes.byref(size))
    return buf.raw[:size.value]


def _errcheck(result, func, args):
    if result != 0:
        raise error_for(result, func.__name__, lib.sfr_last_error().decode("utf-8", "replace"))
    return result


def _load():
    library, path = _open()
    # The version first: an older library lacks functions declared below.
    library.sfr_version_number.restype = ctypes.c_uint
    library.sfr_version_string.restype = ctypes.c_char_p
    number = library.sfr_version_number()
    if number // 10000 != ABI_MAJOR or number < MIN_VERSION_NUMBER:
        raise OSError("libsfr %s at %s is not compatible with this module (ABI %d, at least %d)"
                      % (library.sfr_version_string().decode(), path, ABI_MAJOR,
                         MIN_VERSION_NUMBER))
    for name, (restype, argtypes) in _SIGNATURES.items():
        func = getattr(library, name)
        func.restype = restype
        func.argtypes = argtypes
        if restype is _status:
            func.errcheck = _errcheck
    return library, path


lib, path = _load()
