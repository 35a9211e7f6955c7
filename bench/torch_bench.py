#!/usr/bin/python3
"""PyTorch's training steps on the reference networks, timed as bench_train
times libsfr's, so that both can be read side by side in one run.

A step is forward, the loss, backward and torch.optim.SGD (lr 0.01,
momentum 0.9, weight decay 5e-4) on one fixed batch of N(0, 1) images:
fmnist-resnet at batch 128, cifar-resnet18 at batch 32 and fmnist-mobilenet
(docs/fmnist-mobilenet.md, dropout 0.2, a ce row only) at batch 128. "ce" is
cross-entropy alone, "ce+sfr" adds the SFR pairs stage1..3 -> stage4 of
bench/torch_sfr.py (SFR.md's defaults, beta 1). "sfr" times the SFR
objective alone with its gradients on the tap shapes of bench_sfr
(|gaussian| features, plus the label term for fmnist-resnet). Median (min,
max) ms of 20 steps after 3 warm-up, images/s and GFLOP/s from the FLOP
counts of NETWORKS.md. "ce/bf16" and "ce+sfr/bf16" are the same steps under
torch.autocast("cpu", dtype=torch.bfloat16) with channels_last tensors,
PyTorch's own mixed precision (the counterpart of libsfr's
sfr_net_set_precision bf16 rows in bench_train).

    bench/torch_bench.py [--threads 2 1] [--with-libsfr]

--with-libsfr then runs build/bench/bench_sfr and build/bench/bench_train
with the same thread counts (build them first with `make bench`).
"""
import argparse
import os
import statistics
import subprocess
import time

import torch

from torch_models import cifar_resnet18, fmnist_mobilenet, fmnist_resnet
from torch_sfr import sfr_loss

STEPS, WARMUP = 20, 3
HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [  # name, model, batch, input shape, classes, MFLOP per image (fwd + bwd)
    ("fmnist-resnet", fmnist_resnet, 128, (1, 28, 28), 10, 78),
    ("cifar-resnet18", cifar_resnet18, 32, (3, 32, 32), 100, 3300),
    ("fmnist-mobilenet", fmnist_mobilenet, 128, (1, 28, 28), 10, 32),
]
NO_SFR_ROW = {"fmnist-mobilenet"}  # its stage widths do not divide its teacher's


# The SFR objective alone, as bench_sfr: N, students and teacher (C, H, W), classes.
SFR_CASES = [
    ("fmnist-resnet", 128, [(16, 28, 28), (32, 14, 14), (64, 7, 7)], (128, 4, 4), 10),
    ("cifar-resnet18", 32, [(64, 32, 32), (128, 16, 16), (256, 8, 8)], (512, 4, 4), 0),
]


def timed(step):
    """Median, min, max ms of STEPS calls of step() after WARMUP."""
    times = []
    for i in range(WARMUP + STEPS):
        t0 = time.perf_counter()
        step()
        t1 = time.perf_counter()
        if i >= WARMUP:
            times.append((t1 - t0) * 1e3)
    return statistics.median(times), min(times), max(times)


def time_case(make, batch, shape, classes, with_sfr, bf16=False):
    torch.manual_seed(1)
    model = make()
    model.train()
    x = torch.randn(batch, *shape)
    if bf16:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    y = torch.randint(0, classes, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits, feats = model(x)
            if with_sfr:
                loss = sfr_loss([f.float() for f in feats], logits.float(), y)
            else:
                loss = torch.nn.functional.cross_entropy(logits.float(), y)
        loss.backward()
        opt.step()
    return timed(step)


def time_sfr(n, students, teacher, classes):
    torch.manual_seed(1)
    feats = [torch.randn(n, *s).abs().requires_grad_() for s in students + [teacher]]
    logits = torch.empty(n, classes).uniform_(-2, 2).requires_grad_() if classes else None
    labels = torch.randint(0, classes, (n,)) if classes else None

    def step():
        for f in feats + ([logits] if classes else []):
            f.grad = None
        sfr_loss(feats, logits, labels).backward()
    return timed(step)


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
        print(f"{'net':<15} {'batch':<5} {'step':<11} {'th':>2}  {'ms':>8}  {'min':>8}  {'max':>8}  "
              f"{'img/s':>8}  {'GFLOP/s':>7}")
        for name, make, batch, shape, classes, mflop in CASES:
            for bf16 in (False, True):
                for with_sfr in (False,) if name in NO_SFR_ROW else (False, True):
                    med, lo, hi = time_case(make, batch, shape, classes, with_sfr, bf16)
                    step = ("ce+sfr" if with_sfr else "ce") + ("/bf16" if bf16 else "")
                    print(f"{name:<15} b{batch:<4} {step:<11} {threads:>2}  "
                          f"{med:8.2f}  {lo:8.2f}  {hi:8.2f}  {batch * 1e3 / med:8.0f}  "
                          f"{mflop * batch / med:7.1f}", flush=True)
        for name, n, students, teacher, classes in SFR_CASES:
            med, lo, hi = time_sfr(n, students, teacher, classes)
            print(f"{name:<15} N{n:<4} {'sfr':<11} {threads:>2}  {med:8.2f}  {lo:8.2f}  {hi:8.2f}",
                  flush=True)
    if args.with_libsfr:
        for prog in ("bench_sfr", "bench_train"):
            exe = os.path.join(HERE, "..", "build", "bench", prog)
            for threads in args.threads if prog == "bench_sfr" else [None]:
                print()
                argv = [exe] + ([str(threads)] if threads else [str(t) for t in args.threads])
                subprocess.run(argv, check=True)


if __name__ == "__main__":
    main()
