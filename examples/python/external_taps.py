#!/usr/bin/env python3
"""A host that runs its own network and owns its feature maps as numpy arrays
(as a PyTorch user holds `.detach().numpy()` views) gets SFR losses and
gradients from libsfr without copying anything.

    external_taps.py [--steps N] [--save PATH]

The host wraps its arrays with sfr_tap_wrap (sfr.Tap.wrap), adds two SFR
pairs (two students, one teacher), and asks for the objective: the library
writes dL/dlogits and adds dL/dfeatures into the host's gradient arrays,
which the host would then back-propagate through its own network. Here the
"network" is the feature maps themselves, updated by plain gradient descent
for a few steps, allocating new arrays every step as a framework does
(sfr.Tap.rebind points the taps at them).

--save writes the first step's losses and gradients (float64 losses, then
float32 arrays, native byte order) in the format of
tests/fixtures/external_taps_ref.c, which computes the same case through the
C API: the test compares the two files byte for byte.
"""
import argparse
import os
import sys

import numpy as np

# The package of this checkout (python/sfr), else an installed one.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import sfr  # noqa: E402

N, K = 4, 10
TEACHER = (N, 16, 3, 3)
STUDENT1 = (N, 8, 6, 6)    # 8 channels: each matches a group of 2 teacher channels
STUDENT2 = (N, 32, 3, 3)   # 32 channels: 2 of them per teacher channel


def pattern(shape, seed):
    """Exactly representable values in [-3.125, 3.125], the same formula as the C fixture."""
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    return (((i * 37 + seed * 11) % 101 - 50).astype(np.float32) / np.float32(16)).reshape(shape)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5, help="gradient steps to show (default 5)")
    parser.add_argument("--lr", type=float, default=0.5, help="step size on the features")
    parser.add_argument("--save", help="write the first step's losses and gradients here")
    args = parser.parse_args()

    teacher, student1, student2 = pattern(TEACHER, 1), pattern(STUDENT1, 2), pattern(STUDENT2, 3)
    logits = pattern((N, K), 4)
    labels = (np.arange(N, dtype=np.int32) * 3 + 1) % K
    grads = [np.zeros_like(a) for a in (student1, student2, teacher)]
    dlogits = np.empty_like(logits)

    with sfr.Tap.wrap(student1, grads[0]) as s1, sfr.Tap.wrap(student2, grads[1]) as s2, \
            sfr.Tap.wrap(teacher, grads[2]) as t, sfr.Reg(TEACHER_GRAD=1) as reg:
        reg.add_pair(s1, t, 1.0)
        reg.add_pair(s2, t, 0.5)
        for step in range(args.steps):
            loss = reg.compute(logits, labels, dlogits)
            print("step %d: loss %.6f (label %.6f, pairs %.6f %.6f)"
                  % (step, loss, reg.label_loss(), reg.pair_loss(0), reg.pair_loss(1)))
            if step == 0 and args.save:
                parts = np.array([reg.label_loss(), reg.pair_loss(0), reg.pair_loss(1), loss])
                with open(args.save, "wb") as f:
                    for a in [parts, dlogits] + grads:
                        f.write(a.tobytes())
            # The host's update allocates new tensors; the taps follow them.
            student1, student2, teacher, logits = (
                a - np.float32(args.lr) * g
                for a, g in zip((student1, student2, teacher, logits), grads + [dlogits]))
            grads = [np.zeros_like(a) for a in (student1, student2, teacher)]
            for tap, data, grad in zip((s1, s2, t), (student1, student2, teacher), grads):
                tap.rebind(data, grad)


if __name__ == "__main__":
    main()
