"""Tests of the Python package python/sfr, run by tests/reach_checks.sh:
    python3 -m unittest discover -s tests/python
It must declare exactly the exported functions with the headers' arity, turn
failures into the SfrError subclass of their status, pass numpy buffers
without copying where it can and convert where it must, refuse the ones the
library could not use, and hand out views of the library's memory that keep
their owner alive and never show freed memory."""
import gc
import os
import re
import sys
import tempfile
import unittest
import weakref

import numpy as np

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "python"))
import sfr  # noqa: E402
from sfr import _arrays, _library  # noqa: E402


def _softmax(a):
    """Row-wise softmax of a 2-D array, in float64 as given."""
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _soft_target_kl(p, q, pairs, lam, temp):
    """The loss and dlogits of docs/sfr.md's soft-target terms (class-wise,
    last-batch): lam * T^2 / N * sum over pairs (s, r) of KL(q[r] || p[s]),
    and lam * T / N * (p[s] - q[r]) in row s; p and q softmaxes at T."""
    n = len(p)
    loss = lam * temp ** 2 * sum((q[r] * np.log(q[r] / p[s])).sum() for s, r in pairs) / n
    grad = np.zeros_like(p)
    for s, r in pairs:
        grad[s] = lam * temp * (p[s] - q[r]) / n
    return loss, grad


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
        for name, (_, argtypes) in _library._SIGNATURES.items():
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

    def test_package_version_is_the_headers(self):
        with open(os.path.join(SRC, "include", "sfr", "version.h")) as f:
            parts = dict(re.findall(r"#define SFR_VERSION_(MAJOR|MINOR|PATCH) (\d+)", f.read()))
        self.assertEqual(sfr.__version__, "%s.%s.%s" % (parts["MAJOR"], parts["MINOR"],
                                                       parts["PATCH"]))


class Errors(unittest.TestCase):
    def test_failure_raises_with_status_name_and_message(self):
        with sfr.Reg() as reg:
            with self.assertRaises(sfr.SfrError) as caught:
                reg.set_param(sfr.Param.SINKHORN_EPS, -1.0)
            err = caught.exception
            self.assertEqual(err.status, -1)
            self.assertEqual(err.name, "SFR_ERR_INVALID_ARG")
            self.assertEqual(err.function, "sfr_reg_set_param")
            self.assertTrue(err.message.startswith("sfr_reg_set_param: "))
            self.assertEqual(err.message, sfr.last_error())
            # The function is named once, the status after the message.
            self.assertEqual(str(err), err.message + " (SFR_ERR_INVALID_ARG)")
            self.assertEqual(reg.get_param(sfr.Param.SINKHORN_EPS), 0.2)

    def test_each_status_is_its_python_exception(self):
        expected = {-1: ValueError, -2: ValueError, -3: ValueError, -4: MemoryError,
                    -5: RuntimeError, -6: OSError, -7: ValueError, -8: RuntimeError,
                    -9: NotImplementedError, -10: ValueError}
        self.assertEqual(set(expected), set(sfr.STATUS_NAMES) - {0})
        for status, base in expected.items():
            err = sfr.errors.error_for(status, "sfr_f", "sfr_f: what")
            self.assertIsInstance(err, sfr.SfrError)
            self.assertIsInstance(err, base)
            self.assertIsNot(type(err), sfr.SfrError)
            self.assertEqual(err.status, status)
            self.assertEqual(str(err), "sfr_f: what (%s)" % sfr.STATUS_NAMES[status])
        # A message without the function's name gets it once.
        self.assertEqual(str(sfr.errors.error_for(-1, "sfr_f", "bad")), "sfr_f: bad (SFR_ERR_INVALID_ARG)")

    def test_library_failures_raise_the_matching_classes(self):
        with self.assertRaises(sfr.InvalidArgError):
            sfr.Reg(sinkhorn_eps=0)
        with self.assertRaises(sfr.ShapeError) as caught:
            sfr.Tap.wrap(np.zeros((0, 1, 2, 2), dtype=np.float32))
        self.assertIsInstance(caught.exception, ValueError)
        with sfr.Net() as net, self.assertRaises(sfr.StateError) as caught:
            net.compile(4)
        self.assertIsInstance(caught.exception, RuntimeError)
        with tempfile.TemporaryDirectory() as tmp:
            net, _ = tiny_net()
            with net:
                with self.assertRaises(OSError) as caught:
                    net.load(os.path.join(tmp, "missing.ckpt"))
                self.assertIsInstance(caught.exception, sfr.IoError)
                path = os.path.join(tmp, "garbage.ckpt")
                with open(path, "wb") as f:
                    f.write(b"not a checkpoint" * 8)
                with self.assertRaises(sfr.FormatError) as caught:
                    net.load(path)
                self.assertIsInstance(caught.exception, ValueError)

    def test_out_of_memory_is_a_memory_error(self):
        gc.collect()  # every handle of the other tests is gone: the allocator may change
        lib = _library.lib
        refuse = sfr.ALLOC_FN(lambda size, alignment, user: None)
        never = sfr.FREE_FN(lambda ptr, user: None)
        lib.sfr_set_allocator(refuse, never, None)
        try:
            with self.assertRaises(MemoryError) as caught:
                sfr.Reg()
            self.assertIsInstance(caught.exception, sfr.NoMemError)
        finally:
            lib.sfr_set_allocator(sfr.ALLOC_FN(), sfr.FREE_FN(), None)  # NULLs: malloc again

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

    def test_parameter_keys_are_checked_with_a_clear_message(self):
        with sfr.Reg(sinkhorn_eps=0.1, MAX_ITER=50, match="l2") as reg:
            self.assertAlmostEqual(reg.get_param("sinkhorn_eps"), 0.1)
            self.assertEqual(reg.get_param(sfr.Param.MAX_ITER), 50)
            self.assertEqual(reg.get_param(103), sfr.MATCH_L2)
            with self.assertRaises(ValueError) as caught:
                reg.set_param("sinkhorn_epsilon", 0.1)
            self.assertIn("unknown parameter 'sinkhorn_epsilon'", str(caught.exception))
            self.assertIn("sinkhorn_eps, max_iter", str(caught.exception))
            with self.assertRaises(ValueError):
                reg.set_param(999, 1)
            with self.assertRaises(TypeError):
                reg.set_param(1.5, 1)
            with self.assertRaises(TypeError):
                reg.set_param("tol", "small")
            with self.assertRaises(ValueError) as caught:
                reg.set_param("norm", "l1")
            self.assertIn("rms, none", str(caught.exception))
            self.assertEqual(reg.get_param("norm"), sfr.NORM_RMS)
        with self.assertRaises(ValueError) as caught:
            sfr.Reg(sinkorn_eps=0.1)
        self.assertIn("unknown parameter 'sinkorn_eps'", str(caught.exception))


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
                reg.compute(logits, np.zeros(2, dtype=np.float32), np.zeros_like(logits))
            with self.assertRaises(ValueError):
                reg.compute(logits, np.zeros(3, dtype=np.int32), np.zeros_like(logits))
            with self.assertRaises(ValueError):
                reg.compute(logits, np.array([0, 2 ** 40]), np.zeros_like(logits))
            # dlogits is written: a converted copy would lose it.
            with self.assertRaises(TypeError):
                reg.compute(logits, np.zeros(2, dtype=np.int32), np.zeros((2, 3)))
            with self.assertRaises(TypeError):
                reg.set_sample_ids(np.zeros(2, dtype=np.float64))

    def test_inputs_are_converted_without_copies_where_possible(self):
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        self.assertIs(_arrays.converted(a, np.float32, "a"), a)
        ids = np.arange(4, dtype=np.int64)
        self.assertIs(_arrays.converted(ids, np.int64, "ids"), ids)
        b = _arrays.converted(a.T, np.float32, "a")
        self.assertTrue(b.flags.c_contiguous)
        np.testing.assert_array_equal(b, a.T)
        rng = np.random.default_rng(5)
        logits = rng.standard_normal((4, 3)).astype(np.float32)
        labels = np.array([0, 2, 1, 2])
        results = []
        for lg, lb in ((logits, labels.astype(np.int32)), (logits.astype(np.float64), labels),
                       (np.asfortranarray(logits), labels.astype(np.uint8)),
                       (logits.tolist(), labels.tolist())):
            dlogits = np.zeros((4, 3), dtype=np.float32)
            with sfr.Reg() as reg:
                results.append((reg.compute(lg, lb, dlogits), dlogits))
        for loss, dlogits in results[1:]:
            self.assertEqual(loss, results[0][0])
            np.testing.assert_array_equal(dlogits, results[0][1])
        with sfr.Reg(ls_source="past", ls_bank_size=8) as reg:
            reg.set_sample_ids(np.array([1, 2, 3, 4], dtype=np.int32))
            reg.compute(logits, labels, np.zeros((4, 3), dtype=np.float32))

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
        with sfr.Reg(HEAD_TEMPERATURE=temp, HEAD_MUTUAL=0.3) as reg:
            head = sfr.Tap.wrap(zh, gh)
            self.assertEqual(reg.add_head(head, 0.5, 2.0), 0)
            reg.compute(z, labels, dz)
            ce, kl = reg.head_loss(0)

        h = zh.reshape(n, k).astype(np.float64)
        p, q, pt = _softmax(h), _softmax(h / temp), _softmax(z.astype(np.float64) / temp)
        want_ce = 0.5 * -np.log(p[np.arange(n), labels]).mean()
        # the mutual weight 0.3 adds the deepest logits' KL from the head
        want_kl = temp ** 2 * (2.0 * (pt * np.log(pt / q)).sum(axis=1).mean() +
                               0.3 * (q * np.log(q / pt)).sum(axis=1).mean())
        self.assertAlmostEqual(ce, want_ce, places=9)
        self.assertAlmostEqual(kl, want_kl, places=6)
        onehot = np.eye(k)[labels]
        want_g = (0.5 * (p - onehot) + 2.0 * temp * (q - pt)) / n
        np.testing.assert_allclose(gh.reshape(n, k), want_g, atol=1e-6)

    def test_classwise_loss_and_gradient_match_numpy(self):
        rng = np.random.default_rng(6)
        n, k, temp, lam = 5, 3, 4.0, 0.5
        z = (2 * rng.standard_normal((n, k))).astype(np.float32)
        labels = np.array([1, 0, 1, 2, 1], np.int32)   # partners 0->2, 2->4, 4->0; 1, 3 alone
        dz_label, dz = np.zeros_like(z), np.zeros_like(z)
        with sfr.Reg(CLASSWISE_TEMPERATURE=temp) as reg:
            reg.compute(z, labels, dz_label)
            self.assertEqual(reg.classwise_loss(), 0.0)
            reg.set_param(sfr.Param.CLASSWISE, lam)
            reg.compute(z, labels, dz)
            got = reg.classwise_loss()

        p = _softmax(z.astype(np.float64) / temp)
        want, want_g = _soft_target_kl(p, p, [(0, 2), (2, 4), (4, 0)], lam, temp)
        self.assertAlmostEqual(got, want, places=6)
        np.testing.assert_allclose(dz - dz_label, want_g, atol=1e-6)

    def test_last_batch_loss_and_gradient_match_numpy(self):
        rng = np.random.default_rng(7)
        n, k, temp, lam = 4, 3, 3.0, 0.5
        z1 = (2 * rng.standard_normal((n, k))).astype(np.float32)
        z2 = (2 * rng.standard_normal((n, k))).astype(np.float32)
        labels = np.array([1, 0, 2, 1], np.int32)
        ids1, ids2 = [10, 11, 12, 13], [12, 13, 14, 15]   # half shared, as DLB's batches
        dz_label, dz = np.zeros_like(z2), np.zeros_like(z2)
        with sfr.Reg(GAMMA=1.0) as plain:
            plain.compute(z2, labels, dz_label)
        with sfr.Reg(LAST_BATCH=lam, LAST_BATCH_TEMPERATURE=temp) as reg:
            reg.set_sample_ids(ids1)
            reg.compute(z1, labels, np.zeros_like(z1))
            self.assertEqual(reg.last_batch_loss(), 0.0)
            reg.set_sample_ids(ids2)
            reg.compute(z2, labels, dz)
            got = reg.last_batch_loss()

        p, q = _softmax(z2.astype(np.float64) / temp), _softmax(z1.astype(np.float64) / temp)
        pairs = [(0, 2), (1, 3)]   # this batch's row, the stored row with its id
        want, want_g = _soft_target_kl(p, q, pairs, lam, temp)
        self.assertAlmostEqual(got, want, places=6)
        np.testing.assert_allclose(dz - dz_label, want_g, atol=1e-6)


class Views(unittest.TestCase):
    """Arrays of the library's memory keep their owner alive and never show
    memory the library has freed."""

    x = np.linspace(-1, 1, 32, dtype=np.float32).reshape(2, 1, 4, 4)

    def test_views_and_their_slices_keep_the_net_alive(self):
        net, _ = tiny_net()
        net.forward(self.x)
        out = net.output()
        want = out.copy()
        values, _grads = net.params()
        row = out[1]
        self.assertIs(out.base.owner, net)
        self.assertIs(row.base, out)
        alive = weakref.ref(net)
        del net, _grads
        gc.collect()
        self.assertIsNotNone(alive())
        np.testing.assert_array_equal(out, want)
        del out, values
        gc.collect()
        self.assertIsNotNone(alive())
        np.testing.assert_array_equal(row, want[1])
        del row
        gc.collect()
        self.assertIsNone(alive())

    def test_close_leaves_views_readable_until_the_last_goes(self):
        net, conv = tiny_net()
        tap = net.tap(conv)
        net.forward(self.x)
        out, feat = net.output(), tap.data()
        want, feat_want = out.copy(), feat.copy()
        net.close()
        self.assertTrue(net.closed)
        with self.assertRaises(ValueError):
            net.output()
        with self.assertRaises(ValueError):
            tap.data()
        # Nets made and run now would reuse freed memory.
        for _ in range(3):
            other, _ = tiny_net()
            other.forward(-self.x)
            other.close()
        np.testing.assert_array_equal(out, want)
        np.testing.assert_array_equal(feat, feat_want)
        self.assertFalse(out.flags.writeable)
        self.assertTrue(net._ptr)  # the C net lives on for the views
        del out
        self.assertTrue(net._ptr)
        del feat
        gc.collect()
        self.assertFalse(net._ptr)

    def test_what_would_free_viewed_memory_refuses(self):
        net, conv = tiny_net()
        with net:
            tap = net.tap(conv)
            net.forward(self.x)
            out = net.output()
            with self.assertRaises(RuntimeError) as caught:
                net.compile(3)
            self.assertIn("1 view(s) from output() or tap arrays", str(caught.exception))
            # Nothing changed: still compiled for 2, the view still the output.
            net.forward(-self.x)
            np.testing.assert_array_equal(out, net.output())
            self.assertIs(net.tap(conv), tap)  # asked for before: nothing to compile
            grad = tap.grad()
            with self.assertRaises(RuntimeError):
                net.tap(conv + 1)  # a new tap after compile may compile again
            del out, grad
            net.compile(3)
            net.forward(np.ones((3, 1, 4, 4), dtype=np.float32))
            self.assertEqual(net.tap(conv + 1).data().shape, (3, 2, 1, 1))
        # Parameter views survive compiles, not builder calls (the buffers grow).
        with sfr.Net() as net:
            conv = net.conv2d(net.input(1, 4, 4), 2, 3)
            values, grads = net.params()
            with self.assertRaises(RuntimeError) as caught:
                net.relu(conv)
            self.assertIn("params() arrays", str(caught.exception))
            del values, grads
            net.linear(net.relu(conv), 3)
            values, _ = net.params()
            net.compile(2)
            net.init_params(3)
            self.assertTrue(np.abs(values).max() > 0)

    def test_tap_data_before_a_forward_is_a_state_error(self):
        net, conv = tiny_net()
        with net:
            tap = net.tap(conv)
            with self.assertRaises(sfr.StateError) as caught:
                tap.data()
            self.assertIsInstance(caught.exception, RuntimeError)
            net.forward(self.x)
            self.assertGreater(np.abs(tap.data()).max(), 0)


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

    def test_activation_product_and_concat_layers(self):
        with sfr.Net() as net:
            x = net.input(1, 2, 2)
            with self.assertRaises(ValueError):
                net.activation(x, 99)
            y = net.activation(x, sfr.ACT_SILU)
            net.dropout(net.concat(net.mul(y, net.global_avgpool(y)), x), 0.5)
            net.compile(1)
            data = np.array([[[[-2.0, -0.5], [0.5, 3.0]]]], dtype=np.float32)
            net.forward(data, training=False)
            silu = data / (1 + np.exp(-data))
            expected = np.concatenate([silu * silu.mean(), data], 1)
            np.testing.assert_allclose(net.output(), expected.reshape(1, 8), rtol=1e-5)
            net.forward(data)
            kept = net.output() != 0
            np.testing.assert_allclose(net.output()[kept], 2 * expected.reshape(1, 8)[kept],
                                       rtol=1e-5)
            self.assertEqual(y, 1)

    def test_general_convolution_is_depthwise_and_asymmetric(self):
        with sfr.Net() as net:
            x = net.input(2, 3, 3)
            with self.assertRaises(ValueError):
                net.conv(x, 3, 3, groups=2)
            net.conv(x, 2, (1, 2), padding=(0, 1, 0, 0), groups=2)
            net.compile(1)
            values, _ = net.params()
            self.assertEqual(values.size, 2 * 1 * 1 * 2)
            values[:] = [1, 10, 100, 1000]
            data = np.arange(18, dtype=np.float32).reshape(1, 2, 3, 3)
            net.forward(data, training=False)
            padded = np.pad(data, ((0, 0), (0, 0), (0, 0), (1, 0)))
            want = np.stack([padded[0, 0, :, :-1] * 1 + padded[0, 0, :, 1:] * 10,
                             padded[0, 1, :, :-1] * 100 + padded[0, 1, :, 1:] * 1000])
            np.testing.assert_allclose(net.output(), want.reshape(1, -1), rtol=1e-6)

    def test_names_and_buffers(self):
        with sfr.Net() as net:
            x = net.input(1, 2, 2)
            b = net.batchnorm(net.conv2d(x, 2, 1))
            net.linear(b, 2)
            net.set_layer_name(b, "bn")
            self.assertEqual(net.find_layer("bn"), b)
            self.assertEqual(net.layer_name(1), "layer1")
            self.assertEqual([net.param_info(i)[0] for i in range(net.param_tensors())],
                             ["layer1.weight", "bn.weight", "bn.bias", "layer3.weight",
                              "layer3.bias"])
            self.assertEqual([net.buffer_info(i) for i in range(net.buffer_tensors())],
                             [("bn.running_mean", 0, 2), ("bn.running_var", 2, 2)])
            np.testing.assert_array_equal(net.buffers(), [0, 0, 1, 1])
            net.compile(2)
            data = net.save_bytes()
            values, _ = net.params()
            saved = values.copy()
            values[:] = 7
            net.load_bytes(data)
            np.testing.assert_array_equal(values, saved)
            with self.assertRaises(sfr.FormatError):
                net.load_bytes(data[:-1])
            with self.assertRaises(ValueError):
                net.find_layer("nope")

    def test_accumulated_gradients_are_sums(self):
        net, _ = tiny_net()
        with net:
            x = np.arange(32, dtype=np.float32).reshape(2, 1, 4, 4) / 32
            d = [np.full((2, 3), 0.5, dtype=np.float32), np.eye(2, 3, dtype=np.float32)]
            _, grads = net.params()
            plain = []
            for dl in d:
                net.forward(x)
                net.backward(dl)
                plain.append(grads.copy())
            net.zero_grads()
            self.assertFalse(grads.any())
            for dl in d:
                net.forward(x)
                net.backward(dl, accumulate=True)
            np.testing.assert_array_equal(grads, plain[0] + plain[1])

    def test_fewer_rows_run_as_a_partial_batch(self):
        net, conv = tiny_net(batch=4)
        with net:
            x = np.arange(64, dtype=np.float32).reshape(4, 1, 4, 4) / 64
            net.forward(x, training=False)
            full = net.output().copy()
            net.forward(x[:3], training=False)
            self.assertEqual(net.output().shape, (3, 3))
            np.testing.assert_allclose(net.output(), full[:3], rtol=1e-5, atol=1e-6)
            net.forward(x[:2])
            net.backward(np.ones((2, 3), dtype=np.float32))
            with self.assertRaises(ValueError):
                net.backward(np.ones((4, 3), dtype=np.float32))
            for bad in (np.zeros((5, 1, 4, 4), np.float32), np.zeros((0, 1, 4, 4), np.float32)):
                with self.assertRaises(ValueError):
                    net.forward(bad)

    def test_lr_schedule_warms_up_then_decays(self):
        with sfr.LrSchedule(sfr.LR_COSINE, 1.0, 10, warmup_steps=2, start_factor=0.5,
                            min_lr=0.2) as sched:
            self.assertEqual([sched.lr(0), sched.lr(1), sched.lr(2)], [0.5, 0.75, 1.0])
            self.assertAlmostEqual(sched.lr(6), 0.6, places=15)
            self.assertEqual(sched.lr(50), 0.2)
            with self.assertRaises(sfr.InvalidArgError):
                sched.lr(-1)
        with sfr.LrSchedule(sfr.LR_STEP, 2.0, 8, milestones=(3, 5), gamma=0.5) as sched:
            self.assertEqual([sched.lr(i) for i in range(8)], [2, 2, 2, 1, 1, .5, .5, .5])
        with self.assertRaises(ValueError):
            sfr.LrSchedule(sfr.LR_COSINE, 1.0, 10, min_lr=2.0)

    def test_adamw_steps_follow_pytorchs_rule(self):
        net, _ = tiny_net()
        with net, sfr.AdamW(lr=0.01, weight_decay=0.1) as opt:
            x = np.arange(32, dtype=np.float32).reshape(2, 1, 4, 4) / 32
            values, grads = net.params()
            p = values.astype(np.float64)
            m = np.zeros_like(p)
            v = np.zeros_like(p)
            for t in (1, 2):
                net.forward(x)
                net.backward(np.ones((2, 3), dtype=np.float32))
                g = grads.astype(np.float64)
                p *= 1 - 0.01 * 0.1
                m = 0.9 * m + 0.1 * g
                v = 0.999 * v + 0.001 * g * g
                p -= 0.01 / (1 - 0.9 ** t) * m / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
                opt.step(net)
                np.testing.assert_allclose(values, p, rtol=1e-5, atol=1e-6)
            self.assertEqual(opt.steps, 2)
            with self.assertRaises(sfr.InvalidArgError):
                opt.set_lr(0.0)
        with self.assertRaises(ValueError):
            sfr.AdamW(betas=(1.0, 0.999))

    def test_checkpoint_resumes_a_run_exactly(self):
        x = np.arange(32, dtype=np.float32).reshape(2, 1, 4, 4) / 32

        def steps(net, opt, count):
            for _ in range(count):
                net.forward(x)
                net.backward(np.ones((2, 3), dtype=np.float32))
                opt.step(net)

        whole, _ = tiny_net()
        with whole, sfr.Sgd(0.1, momentum=0.9) as opt:
            steps(whole, opt, 4)
            expected = whole.params()[0].copy()
        first, _ = tiny_net()
        with first, sfr.Sgd(0.1, momentum=0.9) as opt, sfr.Checkpoint(first, opt) as ck:
            steps(first, opt, 2)
            ck["step"] = 2
            state = ck.save_bytes()
        second, _ = tiny_net()
        second.init_params(99)
        with sfr.Sgd(0.1, momentum=0.9) as opt, sfr.Checkpoint() as ck:
            ck.add(second)
            ck.add(opt)
            with self.assertRaises(sfr.InvalidArgError):
                ck.add(sfr.Sgd(0.1))
            with self.assertRaises(TypeError):
                ck.add(x)
            ck.load_bytes(state)
            self.assertEqual(ck.meta(), {"step": "2"})
            self.assertIn("step", ck)
            steps(second, opt, 2)
            np.testing.assert_array_equal(second.params()[0], expected)
            with self.assertRaises(sfr.FormatError):
                ck.load_bytes(state[:-1])
            del ck["step"]
            with self.assertRaises(KeyError):
                ck["step"]
            # A net closed while the checkpoint holds it stays valid for the checkpoint.
            second.close()
            self.assertGreater(len(ck.save_bytes()), 0)

    def test_onnx_round_trip(self):
        net, _ = tiny_net()
        x = np.arange(32, dtype=np.float32).reshape(2, 1, 4, 4) / 32
        with net:
            net.forward(x, training=True)
            net.forward(x)
            want = net.output().copy()
            model = net.export_onnx_bytes()
        with sfr.Net.from_onnx_bytes(model) as back:
            self.assertEqual(back.layer_dims(0), (1, 4, 4))
            self.assertEqual(back.layer_count, 5)
            back.compile(2)
            back.forward(x)
            np.testing.assert_allclose(back.output(), want, rtol=1e-6, atol=1e-7)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "net.onnx")
            with open(path, "wb") as f:
                f.write(model)
            sfr.Net.from_onnx(path).close()
        with self.assertRaises(sfr.FormatError):
            sfr.Net.from_onnx_bytes(b"not a model")

    def test_precision(self):
        net, _ = tiny_net()
        with net:
            self.assertEqual(net.precision, sfr.PRECISION_FP32)
            if sfr.precision_supported(sfr.PRECISION_BF16):
                net.precision = sfr.PRECISION_BF16
                self.assertEqual(net.precision, sfr.PRECISION_BF16)
            else:
                with self.assertRaises(sfr.UnsupportedError):
                    net.precision = sfr.PRECISION_BF16
            with self.assertRaises(sfr.InvalidArgError):
                net.precision = 5


if __name__ == "__main__":
    unittest.main()
