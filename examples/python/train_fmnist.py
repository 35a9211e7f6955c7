#!/usr/bin/env python3
"""Trains the fmnist-resnet of NETWORKS.md on Fashion-MNIST with SFR, through
the ctypes package python/sfr: the Python twin of examples/train_fmnist.c.

    train_fmnist.py [--epochs E] [--batch B] [--limit N] [--test-limit N] ...

One step: Net.forward (the stage taps hold features, their grads are zeroed),
Reg.compute (label loss + SFR pair losses, dlogits, tap grads), Net.backward
(parameter gradients), Sgd.step. Images are normalized with the training
set's mean and deviation; the order is shuffled every epoch from --seed.
"""
import argparse
import gzip
import math
import os
import sys
import time

import numpy as np

# The package of this checkout (python/sfr), else an installed one.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import sfr  # noqa: E402

SIDE, CLASSES = 28, 10


def read_idx(path, magic, dims):
    """An IDX file (big-endian header) as a uint8 array of shape (count, *dims)."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    header = np.frombuffer(raw, dtype=">u4", count=1 + 1 + len(dims))
    if header[0] != magic:
        raise ValueError("%s: magic 0x%08x, expected 0x%08x" % (path, header[0], magic))
    if tuple(header[2:]) != dims:
        raise ValueError("%s: items are %s, expected %s" % (path, tuple(header[2:]), dims))
    count = int(header[1])
    payload = np.frombuffer(raw, dtype=np.uint8, offset=4 * len(header))
    if payload.size != count * int(np.prod(dims, dtype=np.int64)):
        raise ValueError("%s: %d payload bytes for %d items" % (path, payload.size, count))
    return payload.reshape((count,) + dims)


def load(data_dir, prefix):
    """(images (count, 1, 28, 28) float32 in [0, 1], labels (count,) int32)."""
    images = read_idx(os.path.join(data_dir, prefix + "-images-idx3-ubyte.gz"), 0x803,
                      (SIDE, SIDE))
    labels = read_idx(os.path.join(data_dir, prefix + "-labels-idx1-ubyte.gz"), 0x801, ())
    if len(images) != len(labels):
        raise ValueError("%s: %d images but %d labels" % (prefix, len(images), len(labels)))
    if labels.max() >= CLASSES:
        raise ValueError("%s: a label is %d" % (prefix, labels.max()))
    return (images.astype(np.float32) / 255).reshape(-1, 1, SIDE, SIDE), labels.astype(np.int32)


def conv_bn(net, x, out_c, kernel, stride, relu):
    x = net.batchnorm(net.conv2d(x, out_c, kernel, stride, kernel // 2))
    return net.relu(x) if relu else x


def basic_block(net, x, in_c, out_c, stride):
    y = conv_bn(net, conv_bn(net, x, out_c, 3, stride, True), out_c, 3, 1, False)
    shortcut = x if in_c == out_c and stride == 1 else conv_bn(net, x, out_c, 1, stride, False)
    return net.relu(net.add(y, shortcut))


def build_fmnist_resnet(net):
    """Stem, four BasicBlock stages (16, 32, 64, 128 channels), pool, linear.
    Returns the ids of the four stage outputs."""
    x = conv_bn(net, net.input(1, SIDE, SIDE), 16, 3, 1, True)
    stages, in_c = [], 16
    for s, width in enumerate((16, 32, 64, 128)):
        x = basic_block(net, x, in_c, width, 1 if s == 0 else 2)
        stages.append(x)
        in_c = width
    net.linear(net.global_avgpool(x), CLASSES)
    return stages


def evaluate(net, images, labels, batch):
    """Accuracy with running statistics; the last partial batch is zero-padded
    (eval-mode batch norm does not mix samples)."""
    x = np.zeros((batch, 1, SIDE, SIDE), dtype=np.float32)
    correct = 0
    for start in range(0, len(images), batch):
        part = images[start:start + batch]
        x[:len(part)] = part
        x[len(part):] = 0
        net.forward(x, training=False)
        correct += int((net.output()[:len(part)].argmax(axis=1) == labels[start:start + batch]).sum())
    return correct / len(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.1, help="peak of the cosine schedule")
    parser.add_argument("--limit", type=int, help="train on the first N images only")
    parser.add_argument("--test-limit", type=int, help="test on the first N images only")
    parser.add_argument("--threads", type=int, default=0, help="OpenMP threads (0: default)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    sfr.set_num_threads(args.threads)
    train_x, train_y = load(args.data, "train")
    test_x, test_y = load(args.data, "t10k")
    train_x, train_y = train_x[:args.limit], train_y[:args.limit]
    test_x, test_y = test_x[:args.test_limit], test_y[:args.test_limit]
    if len(train_x) < args.batch:
        sys.exit("train_fmnist.py: %d training images are fewer than one batch of %d"
                 % (len(train_x), args.batch))
    mean, std = train_x.mean(), train_x.std()
    train_x, test_x = (train_x - mean) / std, (test_x - mean) / std

    rng = np.random.default_rng(args.seed)
    batches = len(train_x) // args.batch  # the last partial batch is dropped
    x = np.empty((args.batch, 1, SIDE, SIDE), dtype=np.float32)  # (B, 1, 28, 28)
    y = np.empty(args.batch, dtype=np.int32)                     # (B,)
    dlogits = np.empty((args.batch, CLASSES), dtype=np.float32)  # (B, 10)
    print("libsfr %s from Python: fmnist-resnet, %d training images, batch %d, %d epoch(s)"
          % (sfr.version(), len(train_x), args.batch, args.epochs))

    with sfr.Net() as net, sfr.Sgd(args.lr, 0.9, 5e-4) as opt, sfr.Reg() as reg:
        stages = build_fmnist_resnet(net)
        net.compile(args.batch)
        net.init_params(args.seed)
        teacher = net.tap(stages[3])
        for student in stages[:3]:
            reg.add_pair(net.tap(student), teacher, 1.0)
        for epoch in range(args.epochs):
            start = time.monotonic()
            order = rng.permutation(len(train_x))
            total = label = 0.0
            correct = 0
            for b in range(batches):
                t = (epoch + b / batches) / args.epochs
                opt.set_lr(args.lr * 0.5 * (1 + math.cos(math.pi * t)))
                index = order[b * args.batch:(b + 1) * args.batch]
                np.take(train_x, index, axis=0, out=x)
                np.take(train_y, index, out=y)
                net.forward(x)
                logits = net.output()
                reg.set_progress(t)
                total += reg.compute(logits, y, dlogits)
                label += reg.label_loss()
                correct += int((logits.argmax(axis=1) == y).sum())
                net.backward(dlogits)
                opt.step(net)
            seconds = time.monotonic() - start
            print("epoch %d/%d: loss %.4f (label %.4f), train %.2f%%, test %.2f%%, %.0f img/s"
                  % (epoch + 1, args.epochs, total / batches, label / batches,
                     100 * correct / (batches * args.batch),
                     100 * evaluate(net, test_x, test_y, args.batch),
                     batches * args.batch / seconds))


if __name__ == "__main__":
    main()
