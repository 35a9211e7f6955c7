"""Tests of examples/python/sfr.py, run by tests/reach_checks.sh:
    python3 -m unittest discover -s tests/python
It must declare exactly the exported functions with the headers' arity, turn
failures into SfrError, pass numpy buffers without copying and refuse the
ones the library could not use."""
import os
import re
import sys
import tempfile
import unittest

import numpy as np

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "examples", "python"))
import sfr  # noqa: E402


def header_declarations():
    """{name: argument count} of every SFR_API function in include/sfr/*.h."""
    decls = {}
    folder = os.path.join(SRC, "include", "sfr")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".h"):
            continue
        with open(os.path.join(folder, name)) as f:
            text = " ".join(line for line in f if not line.lstrip().startswith("#"))
        for fn, args in re.findall(r"SFR_API[^;(]*?(\w+)\s*\(([^)]*)\)\s*;", text):
            decls[fn] = 0 if args.strip() == "void" else args.count(",") + 1
    return decls


def tiny_net(batch=2):
    """input 1x4x4 - conv 2 - relu - global pool - linear 3."""
    net = sfr.Net()
    x = net.input(1, 4, 4)
    conv = net.relu(net.conv2d(x, 2, 3, 1, 1))
    net.linear(net.global_avgpool(conv), 3)
    net.compile(batch)
    net.init_params(7)
    return net, conv


class Declarations(unittest.TestCase):
    def test_declared_functions_are_the_exported_symbols(self):
        with open(os.path.join(SRC, "tests", "abi", "symbols.txt")) as f:
            exported = {line.strip() for line in f if line.strip()}
        self.assertEqual(sfr.declared_functions(), exported)

    def test_argument_counts_match_the_headers(self):
        decls = header_declarations()
        self.assertEqual(set(decls), sfr.declared_functions())
        for name, (_, argtypes) in sfr._SIGNATURES.items():
            self.assertEqual(len(argtypes), decls[name], name)

    def test_status_names_match_the_header(self):
        with open(os.path.join(SRC, "include", "sfr", "status.h")) as f:
            enum = re.findall(r"^\s*(SFR_\w+) = (-?\d+),?", f.read(), re.M)
        self.assertEqual(sfr.STATUS_NAMES, {int(v): name for name, v in enum})
        for code, name in sfr.STATUS_NAMES.items():
            self.assertNotEqual(sfr.status_string(code), "unknown status", name)
        self.assertEqual(sfr.status_string(-99), "unknown status")

    def test_param_keys_match_the_header(self):
        with open(os.path.join(SRC, "include", "sfr", "reg.h")) as f:
            keys = re.findall(r"^\s*SFR_PARAM_(\w+) = (\d+)", f.read(), re.M)
        self.assertEqual({p.name: p.value for p in sfr.Param}, {k: int(v) for k, v in keys})

    def test_version(self):
        major, minor, patch = (int(p) for p in sfr.version().split("."))
        self.assertEqual(sfr.version_number(), major * 10000 + minor * 100 + patch)


class Errors(unittest.TestCase):
    def test_failure_raises_with_status_name_and_message(self):
        with sfr.Reg() as reg:
            with self.assertRaises(sfr.SfrError) as caught:
                reg.set_param(sfr.Param.SINKHORN_EPS, -1.0)
            err = caught.exception
            self.assertEqual(err.status, -1)
            self.assertEqual(err.name, "SFR_ERR_INVALID_ARG")
            self.assertEqual(err.function, "sfr_reg_set_param")
            self.assertIn("sfr_reg_set_param", err.message)
            self.assertEqual(err.message, sfr.last_error())
            self.assertEqual(reg.get_param(sfr.Param.SINKHORN_EPS), 0.05)

    def test_state_error_from_the_net(self):
        with sfr.Net() as net:
            with self.assertRaises(sfr.SfrError) as caught:
                net.compile(4)
            self.assertEqual(caught.exception.name, "SFR_ERR_STATE")

    def test_bad_label_writes_nothing(self):
        with sfr.Reg() as reg:
            logits = np.zeros((2, 3), dtype=np.float32)
            labels = np.array([0, 3], dtype=np.int32)
            dlogits = np.full((2, 3), 7.0, dtype=np.float32)
            with self.assertRaises(sfr.SfrError) as caught:
                reg.compute(logits, labels, dlogits)
            self.assertEqual(caught.exception.status, -1)
            self.assertTrue((dlogits == 7.0).all())

    def test_closed_handles_are_refused(self):
        reg = sfr.Reg()
        reg.close()
        reg.close()
        self.assertTrue(reg.closed)
        with self.assertRaises(ValueError):
            reg.set_progress(0.5)


class Buffers(unittest.TestCase):
    def test_wrong_dtype_layout_or_shape_is_refused(self):
        data = np.zeros((2, 3, 4, 4), dtype=np.float32)
        with self.assertRaises(TypeError):
            sfr.Tap.wrap(data.astype(np.float64))
        with self.assertRaises(ValueError):
            sfr.Tap.wrap(np.zeros((2, 3, 4, 8), dtype=np.float32)[..., ::2])
        with self.assertRaises(ValueError):
            sfr.Tap.wrap(data, np.zeros((2, 3, 4, 5), dtype=np.float32))
        with self.assertRaises(ValueError):
            sfr.Tap.wrap(data[0])
        with sfr.Reg() as reg:
            logits = np.zeros((2, 3), dtype=np.float32)
            with self.assertRaises(TypeError):
                reg.compute(logits, np.zeros(2, dtype=np.int64), np.zeros_like(logits))
            with self.assertRaises(ValueError):
                reg.compute(logits, np.zeros(3, dtype=np.int32), np.zeros_like(logits))
            with self.assertRaises(TypeError):
                reg.set_sample_ids(np.zeros(2, dtype=np.int32))

    def test_gradients_land_in_the_hosts_arrays(self):
        rng = np.random.default_rng(3)
        student = rng.standard_normal((2, 4, 4, 4)).astype(np.float32)
        teacher = rng.standard_normal((2, 8, 2, 2)).astype(np.float32)
        grad = np.zeros_like(student)
        with sfr.Tap.wrap(student, grad) as s, sfr.Tap.wrap(teacher) as t, sfr.Reg() as reg:
            self.assertIs(s.data(), student)
            self.assertEqual(s.dims(), student.shape)
            reg.add_pair(s, t, 1.0)
            loss = reg.compute(n=2)
            self.assertGreater(loss, 0)
            self.assertAlmostEqual(loss, reg.pair_loss(0))
            self.assertGreater(np.abs(grad).max(), 0)
            # Gradients are added, never overwritten.
            first = grad.copy()
            reg.compute(n=2)
            np.testing.assert_allclose(grad, 2 * first, rtol=1e-6)

    def test_net_views_share_the_nets_memory(self):
        net, conv = tiny_net()
        with net:
            values, grads = net.params()
            count = sum(net.param_info(i)[2] for i in range(net.param_tensors()))
            self.assertEqual(values.size, count)
            self.assertEqual(net.param_info(0), ("layer1.weight", 0, 18))
            x = np.ones((2, 1, 4, 4), dtype=np.float32)
            net.forward(x)
            before = net.output().copy()
            values[:] = 0
            net.forward(x)
            self.assertTrue((net.output() == 0).all())
            self.assertFalse((before == 0).all())
            tap = net.tap(conv)
            self.assertIs(net.tap(conv), tap)
            self.assertEqual(tap.data().shape, (2, 2, 4, 4))
            with self.assertRaises(ValueError):
                net.forward(np.ones((3, 1, 4, 4), dtype=np.float32))

    def test_taps_in_a_pair_outlive_their_python_names(self):
        net, conv = tiny_net()
        reg = sfr.Reg()
        teacher_data = np.ones((2, 2, 2, 2), dtype=np.float32)
        teacher = sfr.Tap.wrap(teacher_data)
        reg.add_pair(net.tap(conv), teacher, 1.0)
        with self.assertRaises(RuntimeError):
            teacher.close()
        with self.assertRaises(RuntimeError):
            net.close()
        del teacher_data
        reg.close()
        teacher.close()
        net.close()


class Heads(unittest.TestCase):
    def test_head_loss_and_gradient_match_numpy(self):
        rng = np.random.default_rng(5)
        n, k, temp = 4, 3, 2.0
        zh = rng.standard_normal((n, k, 1, 1)).astype(np.float32)
        gh = np.zeros_like(zh)
        z = rng.standard_normal((n, k)).astype(np.float32)
        labels = np.array([0, 2, 1, 2], np.int32)
        dz = np.zeros_like(z)
        with sfr.Reg(HEAD_TEMPERATURE=temp) as reg:
            head = sfr.Tap.wrap(zh, gh)
            self.assertEqual(reg.add_head(head, 0.5, 2.0), 0)
            reg.compute(z, labels, dz)
            ce, kl = reg.head_loss(0)

        def softmax(a):
            e = np.exp(a - a.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        h = zh.reshape(n, k).astype(np.float64)
        p, q, pt = softmax(h), softmax(h / temp), softmax(z.astype(np.float64) / temp)
        want_ce = 0.5 * -np.log(p[np.arange(n), labels]).mean()
        want_kl = 2.0 * temp ** 2 * (pt * np.log(pt / q)).sum(axis=1).mean()
        self.assertAlmostEqual(ce, want_ce, places=9)
        self.assertAlmostEqual(kl, want_kl, places=6)
        onehot = np.eye(k)[labels]
        want_g = (0.5 * (p - onehot) + 2.0 * temp * (q - pt)) / n
        np.testing.assert_allclose(gh.reshape(n, k), want_g, atol=1e-6)


class Training(unittest.TestCase):
    def test_sgd_step_changes_parameters_and_checkpoint_round_trips(self):
        net, _ = tiny_net()
        with net, sfr.Sgd(0.1) as opt, tempfile.TemporaryDirectory() as tmp:
            x = np.arange(32, dtype=np.float32).reshape(2, 1, 4, 4) / 32
            net.forward(x)
            dlogits = np.ones((2, 3), dtype=np.float32)
            net.backward(dlogits)
            values, grads = net.params()
            expected = values - np.float32(0.1) * grads
            path = os.path.join(tmp, "net.ckpt")
            net.save(path)
            saved = values.copy()
            opt.step(net)
            np.testing.assert_array_equal(values, expected)
            net.load(path)
            np.testing.assert_array_equal(values, saved)


if __name__ == "__main__":
    unittest.main()
