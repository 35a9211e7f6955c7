"""Net: a network built layer by layer, compiled for a batch size (net.h)."""

import ctypes
import os

import numpy as np

from . import _arrays
from ._handle import Handle
from ._library import _c_float_p, lib, sized_bytes
from .tap import Tap

PRECISION_FP32 = 0
PRECISION_BF16 = 1


def precision_supported(precision):
    """Whether this CPU runs precision natively (bf16 needs AVX512_BF16)."""
    out = ctypes.c_int()
    lib.sfr_precision_supported(precision, ctypes.byref(out))
    return bool(out.value)


class ConvParams(ctypes.Structure):
    """sfr_conv_params (net.h), the 0.2.0 fields."""
    _fields_ = [("size", ctypes.c_size_t)] + [(name, ctypes.c_int) for name in (
        "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_top", "pad_left", "pad_bottom",
        "pad_right", "dilation_h", "dilation_w", "groups", "bias")]


# sfr_activation (net.h)
ACT_SIGMOID, ACT_SILU, ACT_HARDSWISH, ACT_HARDSIGMOID, ACT_GELU, ACT_GELU_TANH = range(1, 7)

# Kinds of views of a net's memory, by what frees that memory: the
# compile's buffers (output, taps' data and gradients) go with the next
# compile, the parameter buffers (which grow) with the next builder call.
_COMPILED, _PARAMS = "compiled", "params"


class Net(Handle):
    """A network (net.h). Its arrays (output(), params(), its taps' data()
    and grad()) are numpy views of the library's memory that keep the Net
    alive; what would free the memory they show raises RuntimeError while
    any of them is alive: compile() and a new tap() after compile (which may
    compile again) for output and tap views, a builder call for parameter
    views. close() leaves them readable: the memory goes with the last one."""

    _destroy = staticmethod(lib.sfr_net_destroy)

    def __init__(self):
        super().__init__()
        lib.sfr_net_create(ctypes.byref(self._ptr))
        self._taps = {}
        self._input_shape = None  # (C, H, W)
        self._batch = None

    @classmethod
    def from_onnx(cls, path):
        """A net built from an ONNX model file (sfr_net_import_onnx), not compiled."""
        return cls._imported(lib.sfr_net_import_onnx, os.fsencode(path))

    @classmethod
    def from_onnx_bytes(cls, data):
        """A net built from an ONNX model's bytes (sfr_net_import_onnx_memory)."""
        data = bytes(data)
        return cls._imported(lib.sfr_net_import_onnx_memory, data, len(data))

    @classmethod
    def _imported(cls, func, *args):
        net = cls.__new__(cls)
        Handle.__init__(net)
        net._taps = {}
        net._batch = None
        func(ctypes.byref(net._ptr), *args)
        net._input_shape = net.layer_dims(0)
        return net

    def export_onnx(self, path):
        """Writes the net as an ONNX model for inference (sfr_net_export_onnx)."""
        lib.sfr_net_export_onnx(self._live(), os.fsencode(path))

    def export_onnx_bytes(self):
        """The ONNX model export_onnx would write, as bytes."""
        return sized_bytes(lib.sfr_net_export_onnx_memory, self._live())

    @property
    def precision(self):
        """PRECISION_FP32 or PRECISION_BF16: what the next compile() uses."""
        out = ctypes.c_int()
        lib.sfr_net_get_precision(self._live(), ctypes.byref(out))
        return out.value

    @precision.setter
    def precision(self, value):
        lib.sfr_net_set_precision(self._live(), value)

    @property
    def layer_count(self):
        count = ctypes.c_int()
        lib.sfr_net_layer_count(self._live(), ctypes.byref(count))
        return count.value

    def layer_dims(self, layer):
        """A layer's (C, H, W) per sample; layer 0 is the input."""
        dims = (ctypes.c_int * 3)()
        lib.sfr_net_layer_dims(self._live(), layer, dims)
        return tuple(dims)

    def _refuse_views(self, kind, action):
        alive = self._live_views(kind)
        if alive:
            shown = "output() or tap arrays" if kind == _COMPILED else "params() arrays"
            raise RuntimeError("Net.%s may free the memory %d view(s) from %s still show: "
                               "delete them (keep .copy()s instead) first" % (action, alive, shown))

    def _compiled_view(self, pointer, shape, writable):
        return _arrays.view(self, _COMPILED, pointer, shape, writable)

    def _layer(self, func, *args):
        self._refuse_views(_PARAMS, "adding a layer")
        layer = ctypes.c_int()
        func(self._live(), *args, ctypes.byref(layer))
        return layer.value

    def input(self, c, h, w):
        layer = self._layer(lib.sfr_net_input, c, h, w)
        self._input_shape = (c, h, w)
        return layer

    def conv2d(self, x, out_c, kernel, stride=1, pad=0, bias=False):
        return self._layer(lib.sfr_net_conv2d, x, out_c, kernel, stride, pad, int(bias))

    def batchnorm(self, x):
        return self._layer(lib.sfr_net_batchnorm, x)

    def relu(self, x):
        return self._layer(lib.sfr_net_relu, x)

    def conv(self, x, out_c, kernel, stride=1, padding=0, dilation=1, groups=1, bias=False):
        """A general convolution (sfr_net_conv): kernel, stride and dilation an
        int or (h, w); padding an int, (h, w) or (top, left, bottom, right)."""
        def pair(v):
            return (v, v) if isinstance(v, int) else tuple(v)
        if isinstance(padding, int):
            padding = (padding,) * 4
        elif len(padding) == 2:
            padding = (padding[0], padding[1], padding[0], padding[1])
        p = ConvParams()
        p.size = ctypes.sizeof(ConvParams)
        p.kernel_h, p.kernel_w = pair(kernel)
        p.stride_h, p.stride_w = pair(stride)
        p.pad_top, p.pad_left, p.pad_bottom, p.pad_right = padding
        p.dilation_h, p.dilation_w = pair(dilation)
        p.groups, p.bias = groups, int(bias)
        return self._layer(lib.sfr_net_conv, x, out_c, ctypes.byref(p))

    def activation(self, x, kind):
        """kind: one of sfr.ACT_SIGMOID, ACT_SILU, ACT_HARDSWISH, ACT_HARDSIGMOID,
        ACT_GELU, ACT_GELU_TANH (PyTorch's modules of those names)."""
        return self._layer(lib.sfr_net_activation, x, kind)

    def maxpool(self, x, kernel, stride, pad=0):
        return self._layer(lib.sfr_net_maxpool, x, kernel, stride, pad)

    def avgpool(self, x, kernel, stride, pad=0):
        return self._layer(lib.sfr_net_avgpool, x, kernel, stride, pad)

    def global_avgpool(self, x):
        return self._layer(lib.sfr_net_global_avgpool, x)

    def linear(self, x, out_features):
        return self._layer(lib.sfr_net_linear, x, out_features)

    def add(self, a, b):
        return self._layer(lib.sfr_net_add, a, b)

    def dropout(self, x, p):
        """torch.nn.Dropout(p): random zeros in training, the identity in eval."""
        return self._layer(lib.sfr_net_dropout, x, p)

    def concat(self, a, b):
        """a's channels, then b's (torch.cat([a, b], 1))."""
        return self._layer(lib.sfr_net_concat, a, b)

    def mul(self, a, b):
        """a * b; b of a's shape or C x 1 x 1 (broadcast over a's map)."""
        return self._layer(lib.sfr_net_mul, a, b)

    def compile(self, batch):
        self._refuse_views(_COMPILED, "compile")
        self._batch = None
        lib.sfr_net_compile(self._live(), batch)
        self._batch = batch

    def init_params(self, seed):
        lib.sfr_net_init_params(self._live(), seed)

    def forward(self, x, training=True):
        """x: (n, C, H, W), n from 1 to the compiled batch size (fewer rows
        run as sfr_net_forward_batch: outputs, taps and backward then hold n
        samples), converted to float32 (no copy when it already is,
        C-contiguous)."""
        shape = None
        if self._batch is not None:
            rows = np.shape(x)[0] if np.ndim(x) == 4 else self._batch
            if not 1 <= rows <= self._batch:
                raise ValueError("input has %d samples; the net is compiled for 1 to %d"
                                 % (rows, self._batch))
            shape = (rows,) + self._input_shape
        x = _arrays.converted(x, np.float32, "input", shape)
        if shape is not None and shape[0] < self._batch:
            lib.sfr_net_forward_batch(self._live(), _arrays.floats(x), shape[0], int(training))
        else:
            lib.sfr_net_forward(self._live(), _arrays.floats(x), int(training))

    def output(self):
        """The logits of the last forward, (batch, K): a read-only view."""
        pointer = _c_float_p()
        dims = (ctypes.c_int64 * 2)()
        lib.sfr_net_output(self._live(), ctypes.byref(pointer), dims)
        return self._compiled_view(pointer, dims, writable=False)

    def backward(self, dlogits, accumulate=False):
        """dlogits: (batch, K), the gradient of the loss by the logits
        (converted to float32 like forward's input). With accumulate, the
        parameter gradients are added to those already held (micro-batches;
        zero_grads() starts a sum) instead of overwritten."""
        pointer = _c_float_p()
        dims = (ctypes.c_int64 * 2)()
        lib.sfr_net_output(self._live(), ctypes.byref(pointer), dims)
        dlogits = _arrays.converted(dlogits, np.float32, "dlogits", tuple(dims))
        run = lib.sfr_net_backward_accumulate if accumulate else lib.sfr_net_backward
        run(self._live(), _arrays.floats(dlogits))

    def zero_grads(self):
        """Sets every parameter gradient to 0."""
        lib.sfr_net_zero_grads(self._live())

    def tap(self, layer):
        """The net's Tap on a layer's output (the same Tap when asked again)."""
        if layer not in self._taps:
            if self._batch is not None:
                self._refuse_views(_COMPILED, "tap of a new layer after compile")
            tap = Tap(_net=self)
            lib.sfr_net_tap(self._live(), layer, ctypes.byref(tap._ptr))
            self._taps[layer] = tap
        return self._taps[layer]

    def params(self):
        """(values, grads): writable views of the flat parameter and
        gradient buffers (None, None for a net without parameters)."""
        values, grads = _c_float_p(), _c_float_p()
        count = ctypes.c_int64()
        lib.sfr_net_params(self._live(), ctypes.byref(values), ctypes.byref(grads),
                           ctypes.byref(count))
        shape = (count.value,)
        return (_arrays.view(self, _PARAMS, values, shape, writable=True),
                _arrays.view(self, _PARAMS, grads, shape, writable=True))

    def param_tensors(self):
        count = ctypes.c_int()
        lib.sfr_net_param_tensors(self._live(), ctypes.byref(count))
        return count.value

    def param_info(self, i):
        """(name, offset, size) of parameter tensor i in the flat buffers."""
        name = ctypes.c_char_p()
        offset, size = ctypes.c_int64(), ctypes.c_int64()
        lib.sfr_net_param_info(self._live(), i, ctypes.byref(name), ctypes.byref(offset),
                               ctypes.byref(size))
        return name.value.decode(), offset.value, size.value

    def set_layer_name(self, layer, name):
        """Names a layer; its tensors become "<name>.weight", ".bias", ..."""
        lib.sfr_net_set_layer_name(self._live(), layer, name.encode())

    def layer_name(self, layer):
        name = ctypes.c_char_p()
        lib.sfr_net_layer_name(self._live(), layer, ctypes.byref(name))
        return name.value.decode()

    def find_layer(self, name):
        layer = ctypes.c_int()
        lib.sfr_net_find_layer(self._live(), name.encode(), ctypes.byref(layer))
        return layer.value

    def buffers(self):
        """A writable view of the running statistics of every batch norm (mean,
        then variance, in layer order); None for a net without batch norm.
        A builder call may free it, as it may the parameters."""
        values = _c_float_p()
        count = ctypes.c_int64()
        lib.sfr_net_buffers(self._live(), ctypes.byref(values), ctypes.byref(count))
        return _arrays.view(self, _PARAMS, values, (count.value,), writable=True)

    def buffer_tensors(self):
        count = ctypes.c_int()
        lib.sfr_net_buffer_tensors(self._live(), ctypes.byref(count))
        return count.value

    def buffer_info(self, i):
        """(name, offset, size) of buffer tensor i in buffers()."""
        name = ctypes.c_char_p()
        offset, size = ctypes.c_int64(), ctypes.c_int64()
        lib.sfr_net_buffer_info(self._live(), i, ctypes.byref(name), ctypes.byref(offset),
                                ctypes.byref(size))
        return name.value.decode(), offset.value, size.value

    def save(self, path):
        lib.sfr_net_save(self._live(), os.fsencode(path))

    def load(self, path):
        lib.sfr_net_load(self._live(), os.fsencode(path))

    def save_bytes(self):
        """The checkpoint sfr_net_save would write, as bytes."""
        return sized_bytes(lib.sfr_net_save_memory, self._live())

    def load_bytes(self, data):
        """Loads a checkpoint from bytes (save_bytes's, or a file's)."""
        data = bytes(data)
        lib.sfr_net_load_memory(self._live(), data, len(data))

    def close(self):
        held = sum(tap._pairs for tap in self._taps.values())
        if held:
            raise RuntimeError("Net.close: %d of its taps' pairs belong to an open Reg" % held)
        for tap in self._taps.values():
            tap.close()
        self._taps = {}
        super().close()
