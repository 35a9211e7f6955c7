#!/usr/bin/python3
"""One training step of fmnist-resnet (SGD) or fmnist-mobilenet (AdamW) in
libsfr and in PyTorch, compared.

Builds the network with libsfr's public builder (through the project's ctypes
package, python/sfr; SFR_LIBRARY chooses the library), copies its
initial parameters into the same network in PyTorch, runs one training
forward on the same batch, the cross-entropy gradient of each side's own
logits, backward and one SGD step on both, and compares the logits, the four
stage outputs (libsfr's taps), every parameter gradient and every updated
parameter. Each must agree with PyTorch to 1e-3 of its largest magnitude.
The script also reports how much PyTorch's own gradients move when the input
changes by one part in a million: random data can put a ReLU input within
rounding of zero, and then no two implementations agree (see --seed).

A tensor whose gradient PyTorch itself moves by more than a ten-thousandth
under that change is judged against four times that movement (when larger
than the tolerance), and one it moves by more than the tolerance is reported
but not judged: its gradient is rounding noise (fmnist-mobilenet's batch-norm
shifts that the next batch norm cancels are). AdamW's first step moves each
parameter by about lr * g / (|g| + eps), so its result is compared only
where |g| is at least a thousandth of its tensor's largest (tests/test_adamw.c
checks the update itself bit for bit). fmnist-mobilenet runs with its
dropout at 0: the libraries draw masks from different random streams
(tests/test_net_layers.c checks dropout).

Not part of `make check` (python3-torch is not a test dependency):
    make && bench/torch_compare.py [--net resnet|mobilenet] [--batch N] [--seed S]
Exit status 0 when everything agrees, 1 otherwise.
"""
import argparse
import copy
import os
import sys

import numpy as np
import torch

from torch_models import fmnist_mobilenet as torch_fmnist_mobilenet
from torch_models import fmnist_resnet as torch_fmnist_resnet

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import sfr  # noqa: E402  (the project's binding, found above)

TOL = 1e-3
LR, MOMENTUM, WD = 0.1, 0.9, 5e-4
ADAMW_LR, ADAMW_WD = 1e-3, 0.05
MOBILENET_BLOCKS = [(16, 16, 16, 3, 1, False, False), (16, 64, 24, 3, 2, False, False),
                    (24, 72, 24, 3, 1, False, False), (24, 96, 40, 3, 2, True, True),
                    (40, 120, 40, 3, 1, True, True), (40, 160, 64, 3, 1, True, True)]


def basic_block(net, x, in_c, out_c, stride):
    """NETWORKS.md's BasicBlock, as tests/reference_nets.c builds it."""
    r1 = net.relu(net.batchnorm(net.conv2d(x, out_c, 3, stride, 1)))
    b2 = net.batchnorm(net.conv2d(r1, out_c, 3, 1, 1))
    short = x
    if in_c != out_c or stride != 1:
        short = net.batchnorm(net.conv2d(x, out_c, 1, stride, 0))
    return net.relu(net.add(b2, short))


def fmnist_resnet(net):
    """NETWORKS.md's fmnist-resnet; returns the stage ids [stem, stage1..4]."""
    x = net.input(1, 28, 28)
    ids = [net.relu(net.batchnorm(net.conv2d(x, 16, 3, 1, 1)))]
    for in_c, out_c, s in ((16, 16, 1), (16, 32, 2), (32, 64, 2), (64, 128, 2)):
        ids.append(basic_block(net, ids[-1], in_c, out_c, s))
    net.linear(net.global_avgpool(ids[-1]), 10)
    return ids


def inverted_residual(net, x, in_c, expand, out_c, kernel, stride, se, hswish):
    """docs/fmnist-mobilenet.md's block, as tests/reference_nets.c builds it."""
    def act(y):
        return net.activation(y, sfr.ACT_HARDSWISH) if hswish else net.relu(y)
    y = x
    if expand != in_c:
        y = act(net.batchnorm(net.conv(y, expand, 1)))
    y = act(net.batchnorm(net.conv(y, expand, kernel, stride, kernel // 2, groups=expand)))
    if se:
        s = net.relu(net.linear(net.global_avgpool(y), expand // 4))
        y = net.mul(y, net.activation(net.linear(s, expand), sfr.ACT_HARDSIGMOID))
    y = net.batchnorm(net.conv(y, out_c, 1))
    return net.add(y, x) if stride == 1 and in_c == out_c else y


def fmnist_mobilenet(net, dropout=0.0):
    """docs/fmnist-mobilenet.md; returns the stage ids [stem, block1, block3, block5, head]."""
    x = net.input(1, 28, 28)
    ids = [net.activation(net.batchnorm(net.conv(x, 16, 3, 1, 1)), sfr.ACT_HARDSWISH)]
    x = ids[0]
    for i, b in enumerate(MOBILENET_BLOCKS):
        x = inverted_residual(net, x, *b)
        if i in (0, 2, 4):
            ids.append(x)
    ids.append(net.activation(net.batchnorm(net.conv(x, 256, 1)), sfr.ACT_HARDSWISH))
    net.linear(net.dropout(net.global_avgpool(ids[-1]), dropout), 10)
    return ids


def ce_grad(logits, labels):
    """d mean-cross-entropy / d logits, in float64."""
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)


def sensitivities(probe_grads, grads):
    """How far PyTorch's own gradient of each tensor moves under the 1e-6
    input change, relative to its largest value."""
    return [np.abs(a - b).max() / max(np.abs(b).max(), 1e-30) for a, b in zip(probe_grads, grads)]


def verdict(worst, sens, noisy):
    """Prints the conditioning of the case and the worst difference among the
    tensors judged, each against its tolerance; returns the exit status."""
    print(f"conditioning: PyTorch's own gradients move by {max(sens):.2e} under a 1e-6 input change"
          + ("" if noisy == 0 else f"; {noisy} tensor(s) whose gradient is rounding noise in "
             "PyTorch too are left out"))
    ratio, err, tol, name = max((e / t, e, t, n) for e, t, n in worst)
    print(f"worst: {name} at {err:.2e} (tolerance {tol:.1e}): {'PASS' if ratio <= 1 else 'FAIL'}")
    return 0 if ratio <= 1 else 1


def compare(name, ours, theirs, worst, tol=TOL):
    """Prints one comparison and adds it to worst; tol None: rounding noise,
    reported only."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    scale = max(np.abs(theirs).max(), 1e-30)
    err = np.abs(ours - theirs).max() / scale if ours.size else 0.0
    if tol is not None:
        worst.append((err, tol, name))
    flag = "noise in PyTorch too" if tol is None else "ok" if err <= tol else "DIFFERS"
    print(f"  {name:<34} max |diff| / max |torch| = {err:.2e}  {flag}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--net", choices=("resnet", "mobilenet"), default="resnet")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=None,
                    help="parameters and data; the default is a well-conditioned case (see "
                         "above): 2 for resnet, 4 for mobilenet")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = 4 if args.net == "mobilenet" else 2
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal((args.batch, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, args.batch)

    mobile = args.net == "mobilenet"
    net = sfr.Net()
    stages = fmnist_mobilenet(net) if mobile else fmnist_resnet(net)
    taps = [net.tap(i) for i in stages[1:]]
    net.compile(args.batch)
    net.init_params(args.seed)
    values, grads = net.params()
    tensors = [net.param_info(i) for i in range(net.param_tensors())]

    model = torch_fmnist_mobilenet(0.0) if mobile else torch_fmnist_resnet()
    named = list(model.named_parameters())
    if len(named) != len(tensors):
        sys.exit(f"parameter tensors: libsfr {len(tensors)}, torch {len(named)}")
    with torch.no_grad():
        for (tname, p), (sname, off, size) in zip(named, tensors):
            if p.numel() != size:
                sys.exit(f"{sname} ({size}) does not match torch's {tname} {tuple(p.shape)}")
            p.copy_(torch.from_numpy(values[off:off + size].reshape(p.shape).copy()))
    model.train()

    # libsfr: forward, CE gradient of its logits, backward, SGD (AdamW).
    net.forward(x, True)
    logits = net.output().copy()
    feats = [t.data().copy() for t in taps]
    net.backward(ce_grad(logits, labels).astype(np.float32))
    sfr_grads = grads.copy()
    opt = sfr.AdamW(ADAMW_LR, weight_decay=ADAMW_WD) if mobile else sfr.Sgd(LR, MOMENTUM, WD)
    opt.step(net)
    sfr_after = values.copy()

    # Conditioning: PyTorch against itself on the input times (1 + 1e-6 noise).
    # A ReLU input within rounding of zero flips its mask under any change of
    # summation order and moves a small gradient (a BN beta) by percents; such
    # a case cannot show agreement to 1e-3, whatever the implementation.
    probe = copy.deepcopy(model)
    noise = 1 + 1e-6 * np.random.default_rng(args.seed + 1000).standard_normal(x.shape)
    plog, _ = probe(torch.from_numpy((x * noise).astype(np.float32)))
    torch.nn.functional.cross_entropy(plog, torch.from_numpy(labels)).backward()
    probe_grads = [p.grad.detach().numpy().copy() for p in probe.parameters()]

    # PyTorch: the same step.
    tlogits, tfeats = model(torch.from_numpy(x))
    loss = torch.nn.functional.cross_entropy(tlogits, torch.from_numpy(labels))
    loss.backward()
    topt = (torch.optim.AdamW(model.parameters(), lr=ADAMW_LR, weight_decay=ADAMW_WD) if mobile
            else torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD))
    tgrads = [p.grad.detach().numpy().copy() for _, p in named]
    topt.step()

    worst = []
    step = "AdamW" if mobile else "SGD"
    print(f"fmnist-{args.net}, batch {args.batch}, seed {args.seed}, {step}: libsfr vs PyTorch "
          f"{torch.__version__}")
    compare("logits", logits, tlogits.detach().numpy(), worst)
    for i, (f, tf) in enumerate(zip(feats, tfeats)):
        compare(f"stage{i + 1} tap", f, tf.detach().numpy(), worst)
    sens = sensitivities(probe_grads, tgrads)
    tols = [None if x > TOL else max(TOL, 4 * x) if x > 1e-4 else TOL for x in sens]
    for (tname, p), (sname, off, size), tg, tol in zip(named, tensors, tgrads, tols):
        compare(f"grad {sname}", sfr_grads[off:off + size], tg.reshape(-1), worst, tol)
    for (tname, p), (sname, off, size), tg, tol in zip(named, tensors, tgrads, tols):
        ours, theirs = sfr_after[off:off + size], p.detach().numpy().reshape(-1)
        if mobile:
            g = np.abs(tg.reshape(-1))
            keep = g >= 1e-3 * g.max()
            ours, theirs = ours[keep], theirs[keep]
        compare(f"after {step} {sname}", ours, theirs, worst, tol)
    opt.close()
    net.close()
    return verdict(worst, sens, sum(t is None for t in tols))


if __name__ == "__main__":
    sys.exit(main())
