#!/usr/bin/python3
"""Side branches fed only by taps, in libsfr and in PyTorch, compared.

fmnist-resnet with the demo's two kinds of side branch (examples/train_fmnist.c):
an adapter off stage 1 (avgpool 7 - conv1x1 16->128 - BN), whose output is
only tapped, and a self-distillation head off stage 3 (conv1x1 64->64 - BN -
ReLU - global avgpool - linear 64->10), registered with sfr_reg_add_head.
One training step on both sides from the same parameters and batch:

  libsfr:  forward; sfr_reg_compute (cross-entropy on the logits, the head's
           CE + T^2 KL from the logits, its gradient added to the head tap);
           a fixed random gradient G written into the adapter tap; backward.
  PyTorch: CE(logits) + head term written out in PyTorch with the logits
           detached + sum(adapter * G); autograd.

It compares the logits, the head logits, the adapter output, the loss and
every parameter gradient, the branches' included (the gradient of a branch
that only a tap feeds). Each must agree to 1e-3 of its largest magnitude.
As in torch_compare.py, random data can be ill-conditioned (the script
reports it); the default seed is a well-conditioned case.

Not part of `make check` (python3-torch is not a test dependency):
    make && bench/torch_branches.py [--batch N] [--seed S]
Exit status 0 when everything agrees, 1 otherwise.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from torch_models import fmnist_resnet as torch_fmnist_resnet

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import sfr  # noqa: E402  (the project's binding, found above)
from torch_compare import basic_block, ce_grad, compare, verdict  # noqa: E402

HEAD_CE, HEAD_KL, TEMP = 0.7, 0.3, 3.0


def libsfr_net(net):
    """fmnist-resnet with the adapter and the head, built before the classifier
    (the last layer added is the output). Returns (stage ids, adapter, head)."""
    x = net.input(1, 28, 28)
    ids = [net.relu(net.batchnorm(net.conv2d(x, 16, 3, 1, 1)))]
    for in_c, out_c, s in ((16, 16, 1), (16, 32, 2), (32, 64, 2), (64, 128, 2)):
        ids.append(basic_block(net, ids[-1], in_c, out_c, s))
    adapter = net.batchnorm(net.conv2d(net.avgpool(ids[1], 7, 7), 128, 1))
    h = net.relu(net.batchnorm(net.conv2d(ids[3], 64, 1)))
    head = net.linear(net.global_avgpool(h), 10)
    net.linear(net.global_avgpool(ids[4]), 10)
    return ids, adapter, head


class Branched(nn.Module):
    """The same in PyTorch; parameters() lists libsfr's order (trunk, adapter,
    head, classifier)."""

    def __init__(self):
        super().__init__()
        self.base = torch_fmnist_resnet()
        self.adapter = nn.Sequential(nn.AvgPool2d(7, 7), nn.Conv2d(16, 128, 1, bias=False),
                                     nn.BatchNorm2d(128))
        self.head = nn.Sequential(nn.Conv2d(64, 64, 1, bias=False), nn.BatchNorm2d(64),
                                  nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(64, 10))

    def ordered_parameters(self):
        b = self.base
        trunk = list(b.conv.parameters()) + list(b.bn.parameters()) + list(b.stages.parameters())
        return (trunk + list(self.adapter.parameters()) + list(self.head.parameters())
                + list(b.fc.parameters()))

    def forward(self, x):
        logits, feats = self.base(x)
        return logits, self.adapter(feats[0]), self.head(feats[2])


def head_term(zh, z, labels):
    """docs/sfr.md's head loss, written out in PyTorch: CE + T^2 KL(p_T(z) || p_T(zh))."""
    ce = F.cross_entropy(zh, labels)
    kl = F.kl_div(F.log_softmax(zh / TEMP, 1), F.log_softmax(z.detach() / TEMP, 1),
                  reduction="batchmean", log_target=True)
    return HEAD_CE * ce + HEAD_KL * TEMP * TEMP * kl


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal((args.batch, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, args.batch).astype(np.int32)

    net = sfr.Net()
    _, adapter_id, head_id = libsfr_net(net)
    adapter_tap, head_tap = net.tap(adapter_id), net.tap(head_id)
    net.compile(args.batch)
    net.init_params(args.seed)
    values, grads = net.params()
    tensors = [net.param_info(i) for i in range(net.param_tensors())]

    model = Branched()
    ordered = model.ordered_parameters()
    if len(ordered) != len(tensors):
        sys.exit(f"parameter tensors: libsfr {len(tensors)}, torch {len(ordered)}")
    with torch.no_grad():
        for p, (sname, off, size) in zip(ordered, tensors):
            if p.numel() != size:
                sys.exit(f"{sname} ({size}) does not match torch's {tuple(p.shape)}")
            p.copy_(torch.from_numpy(values[off:off + size].reshape(p.shape).copy()))
    model.train()
    g_adapter = rng.standard_normal(adapter_tap.dims()).astype(np.float32) / args.batch

    # libsfr.
    reg = sfr.Reg(HEAD_TEMPERATURE=TEMP, LS_EPS_END=0.0)
    reg.add_head(head_tap, HEAD_CE, HEAD_KL)
    net.forward(x, True)
    logits = net.output().copy()
    head_logits = head_tap.data().reshape(args.batch, 10).copy()
    adapter_out = adapter_tap.data().copy()
    dlogits = np.zeros_like(logits)
    loss = reg.compute(logits, labels, dlogits)
    adapter_tap.grad()[...] += g_adapter
    net.backward(dlogits)
    sfr_grads = grads.copy()

    # PyTorch, on the input and (the conditioning probe of torch_compare.py) on
    # the input times (1 + 1e-6 noise): a ReLU input within rounding of zero
    # moves some gradients by percents under any change of summation order.
    tlabels = torch.from_numpy(labels.astype(np.int64))
    noise = 1 + 1e-6 * np.random.default_rng(args.seed + 1000).standard_normal(x.shape)
    runs = []
    for inp in (x, (x * noise).astype(np.float32)):
        model.zero_grad()
        tlogits, tadapter, thead = model(torch.from_numpy(inp))
        tloss = F.cross_entropy(tlogits, tlabels) + head_term(thead, tlogits, tlabels)
        (tloss + (tadapter * torch.from_numpy(g_adapter)).sum()).backward()
        runs.append([p.grad.detach().numpy().copy() for p in ordered])
    tlogits, tadapter, thead = model(torch.from_numpy(x))
    tloss = F.cross_entropy(tlogits, tlabels) + head_term(thead, tlogits, tlabels)
    tgrads = runs[0]

    worst = []
    print(f"fmnist-resnet + adapter + head, batch {args.batch}, seed {args.seed}: "
          f"libsfr vs PyTorch {torch.__version__}")
    compare("logits", logits, tlogits.detach().numpy(), worst)
    compare("head logits", head_logits, thead.detach().numpy(), worst)
    compare("adapter output", adapter_out, tadapter.detach().numpy(), worst)
    compare("loss (CE + head)", [loss], [tloss.item()], worst)
    for tg, (sname, off, size) in zip(tgrads, tensors):
        compare(f"grad {sname}", sfr_grads[off:off + size], tg.reshape(-1), worst)
    reg.close()
    net.close()
    return verdict(worst, runs[1], runs[0])


if __name__ == "__main__":
    sys.exit(main())
