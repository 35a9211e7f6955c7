#!/usr/bin/python3
"""PyTorch's training steps on the reference networks, timed as bench_train
times libsfr's, so that both can be read side by side in one run.

A step is forward, cross-entropy, backward and torch.optim.SGD (lr 0.01,
momentum 0.9, weight decay 5e-4) on one fixed batch of N(0, 1) images:
fmnist-resnet at batch 128 and cifar-resnet18 at batch 32. Median (min, max)
ms of 20 steps after 3 warm-up, images/s and GFLOP/s from the FLOP counts of
NETWORKS.md.

    bench/torch_bench.py [--threads 2 1] [--with-libsfr]

--with-libsfr then runs build/bench/bench_train with the same thread counts
(build it first with `make bench` or `make build/bench/bench_train`).
PyTorch's CE+SFR step needs an SFR implementation in PyTorch, which this
script does not carry; it times the plain CE steps only.
"""
import argparse
import os
import statistics
import subprocess
import time

import torch

from torch_models import cifar_resnet18, fmnist_resnet

STEPS, WARMUP = 20, 3
HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [  # name, model, batch, input shape, classes, MFLOP per image (fwd + bwd)
    ("fmnist-resnet", fmnist_resnet, 128, (1, 28, 28), 10, 78),
    ("cifar-resnet18", cifar_resnet18, 32, (3, 32, 32), 100, 3300),
]


def time_case(make, batch, shape, classes):
    torch.manual_seed(1)
    model = make()
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, *shape)
    y = torch.randint(0, classes, (batch,))
    times = []
    for step in range(WARMUP + STEPS):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits, _ = model(x)
        torch.nn.functional.cross_entropy(logits, y).backward()
        opt.step()
        t1 = time.perf_counter()
        if step >= WARMUP:
            times.append((t1 - t0) * 1e3)
    return statistics.median(times), min(times), max(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--with-libsfr", action="store_true")
    args = ap.parse_args()
    print(f"PyTorch {torch.__version__}: training steps (forward, CE, backward, SGD), "
          f"median of {STEPS} after {WARMUP} warm-up")
    for threads in args.threads:
        torch.set_num_threads(threads)
        print(f"\n{threads} thread(s)")
        print(f"{'net':<15} {'batch':<5} {'step':<7} {'th':>2}  {'ms':>8}  {'min':>8}  {'max':>8}  "
              f"{'img/s':>8}  {'GFLOP/s':>7}")
        for name, make, batch, shape, classes, mflop in CASES:
            med, lo, hi = time_case(make, batch, shape, classes)
            print(f"{name:<15} b{batch:<4} {'ce':<7} {threads:>2}  {med:8.2f}  {lo:8.2f}  {hi:8.2f}  "
                  f"{batch * 1e3 / med:8.0f}  {mflop * batch / med:7.1f}", flush=True)
    if args.with_libsfr:
        exe = os.path.join(HERE, "..", "build", "bench", "bench_train")
        print()
        subprocess.run([exe] + [str(t) for t in args.threads], check=True)


if __name__ == "__main__":
    main()
