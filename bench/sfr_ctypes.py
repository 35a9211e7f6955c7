"""libsfr through ctypes, for the PyTorch comparison scripts of bench/.

Only what the scripts need: the public builder, compile, forward, output,
taps, backward, parameters and the SGD helper. Every call is checked: a
status other than SFR_OK raises with sfr_last_error().
"""
import ctypes
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LIB = os.path.join(HERE, "..", "build", "libsfr.so")


class Sfr:
    def __init__(self, path=DEFAULT_LIB):
        self.lib = ctypes.CDLL(path)
        self.lib.sfr_last_error.restype = ctypes.c_char_p
        self.lib.sfr_net_compile.argtypes = [ctypes.c_void_p, ctypes.c_int64]
        self.lib.sfr_net_init_params.argtypes = [ctypes.c_void_p, ctypes.c_uint64]
        self.lib.sfr_sgd_create.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_double,
                                            ctypes.c_double, ctypes.c_double, ctypes.c_int]
        self.lib.sfr_net_destroy.argtypes = [ctypes.c_void_p]
        self.lib.sfr_sgd_destroy.argtypes = [ctypes.c_void_p]

    def check(self, status, what):
        if status != 0:
            raise RuntimeError(f"{what}: {status}: {self.lib.sfr_last_error().decode()}")

    def call(self, name, *args):
        self.check(getattr(self.lib, name)(*args), name)


class Net:
    """An sfr_net built layer by layer; ids are Python ints."""

    def __init__(self, sfr):
        self.sfr = sfr
        self.handle = ctypes.c_void_p()
        sfr.call("sfr_net_create", ctypes.byref(self.handle))

    def _add(self, name, *args):
        out = ctypes.c_int()
        self.sfr.call(name, self.handle, *[ctypes.c_int(a) for a in args], ctypes.byref(out))
        return out.value

    def input(self, c, h, w): return self._add("sfr_net_input", c, h, w)
    def conv(self, x, out_c, k, s, p, bias=0): return self._add("sfr_net_conv2d", x, out_c, k, s, p, bias)
    def bn(self, x): return self._add("sfr_net_batchnorm", x)
    def relu(self, x): return self._add("sfr_net_relu", x)
    def gap(self, x): return self._add("sfr_net_global_avgpool", x)
    def linear(self, x, n): return self._add("sfr_net_linear", x, n)
    def add(self, a, b): return self._add("sfr_net_add", a, b)

    def compile(self, batch, seed):
        self.sfr.call("sfr_net_compile", self.handle, batch)
        self.sfr.call("sfr_net_init_params", self.handle, seed)

    def tap(self, layer):
        t = ctypes.c_void_p()
        self.sfr.call("sfr_net_tap", self.handle, ctypes.c_int(layer), ctypes.byref(t))
        return t

    def tap_data(self, t):
        dims = (ctypes.c_int64 * 4)()
        data = ctypes.POINTER(ctypes.c_float)()
        self.sfr.call("sfr_tap_dims", t, dims)
        self.sfr.call("sfr_tap_data", t, ctypes.byref(data))
        shape = tuple(dims)
        return np.ctypeslib.as_array(data, shape=(int(np.prod(shape)),)).reshape(shape).copy()

    def forward(self, x, training=1):
        x = np.ascontiguousarray(x, dtype=np.float32)
        self.sfr.call("sfr_net_forward", self.handle,
                      x.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), ctypes.c_int(training))
        logits = ctypes.POINTER(ctypes.c_float)()
        dims = (ctypes.c_int64 * 2)()
        self.sfr.call("sfr_net_output", self.handle, ctypes.byref(logits), dims)
        return np.ctypeslib.as_array(logits, shape=(dims[0] * dims[1],)).reshape(dims[0], dims[1]).copy()

    def backward(self, dlogits):
        d = np.ascontiguousarray(dlogits, dtype=np.float32)
        self.sfr.call("sfr_net_backward", self.handle, d.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))

    def params(self):
        """(values, grads) as numpy views of the net's flat buffers."""
        v = ctypes.POINTER(ctypes.c_float)()
        g = ctypes.POINTER(ctypes.c_float)()
        n = ctypes.c_int64()
        self.sfr.call("sfr_net_params", self.handle, ctypes.byref(v), ctypes.byref(g), ctypes.byref(n))
        return (np.ctypeslib.as_array(v, shape=(n.value,)), np.ctypeslib.as_array(g, shape=(n.value,)))

    def param_tensors(self):
        """[(name, offset, size)] in the flat buffer's order."""
        count = ctypes.c_int()
        self.sfr.call("sfr_net_param_tensors", self.handle, ctypes.byref(count))
        out = []
        for i in range(count.value):
            name = ctypes.c_char_p()
            off = ctypes.c_int64()
            size = ctypes.c_int64()
            self.sfr.call("sfr_net_param_info", self.handle, ctypes.c_int(i), ctypes.byref(name),
                          ctypes.byref(off), ctypes.byref(size))
            out.append((name.value.decode(), off.value, size.value))
        return out

    def destroy(self):
        self.sfr.lib.sfr_net_destroy(self.handle)


def basic_block(net, x, in_c, out_c, stride):
    c1 = net.conv(x, out_c, 3, stride, 1)
    r1 = net.relu(net.bn(c1))
    b2 = net.bn(net.conv(r1, out_c, 3, 1, 1))
    short = x
    if in_c != out_c or stride != 1:
        short = net.bn(net.conv(x, out_c, 1, stride, 0))
    return net.relu(net.add(b2, short))


def fmnist_resnet(net):
    """NETWORKS.md's fmnist-resnet; returns the stage ids [stem, stage1..4]."""
    x = net.input(1, 28, 28)
    ids = [net.relu(net.bn(net.conv(x, 16, 3, 1, 1)))]
    for in_c, out_c, s in ((16, 16, 1), (16, 32, 2), (32, 64, 2), (64, 128, 2)):
        ids.append(basic_block(net, ids[-1], in_c, out_c, s))
    net.linear(net.gap(ids[-1]), 10)
    return ids
