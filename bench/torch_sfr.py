"""The SFR objective of SFR.md in PyTorch, batched over samples, float32 and
autograd, as a PyTorch user would write it: the comparison point for
bench_sfr and the CE+SFR rows of bench_train (bench/torch_bench.py).

Defaults of SFR.md section 10: emd matching, sinkhorn_eps 0.05, tol 1e-4,
max_iter 100, rms normalization with delta 1e-6, grids equal to the
teacher's size, no teacher gradient. The transport plan is held fixed for
the gradient (SFR.md section 7). Sinkhorn runs in the log domain on the
whole batch and stops when the largest row-marginal error of any sample is
below tol (libsfr stops each sample on its own; the iteration counts are
small either way).
"""
import math

import torch
import torch.nn.functional as F

EPS, TOL, MAX_ITER, DELTA = 0.05, 1e-4, 100, 1e-6


def local_features(x, grid):
    """(N, C, H, W) -> (N, A, C): adaptive average pooling, rms-normalized."""
    f = F.adaptive_avg_pool2d(x, grid).flatten(2).transpose(1, 2)
    return f / torch.sqrt((f * f).mean(-1, keepdim=True) + DELTA)


def group_sums(f, groups):
    """(N, A, C) -> (N, A, G): channel j in group j * G // C (contiguous groups)."""
    n, a, c = f.shape
    return f.reshape(n, a, groups, c // groups).sum(-1)


def sinkhorn(cost):
    """Plans (N, A, B) for uniform marginals, from costs (N, A, B)."""
    n, a, b = cost.shape
    f = cost.new_zeros(n, a)
    g = cost.new_zeros(n, b)
    lmu, lnu = math.log(1.0 / a), math.log(1.0 / b)
    for _ in range(MAX_ITER):
        f = EPS * lmu - EPS * torch.logsumexp((g[:, None, :] - cost) / EPS, dim=2)
        g = EPS * lnu - EPS * torch.logsumexp((f[:, :, None] - cost) / EPS, dim=1)
        plan = torch.exp((f[:, :, None] + g[:, None, :] - cost) / EPS)
        if (plan.sum(2) - 1.0 / a).abs().sum(1).max().item() < TOL:
            break
    return plan


def pair_loss(student, teacher, beta=1.0):
    """beta * the mean over samples of <P, C> for one student-teacher pair."""
    grid = teacher.shape[2:]
    x, y = local_features(student, grid), local_features(teacher.detach(), grid)
    cs, ct = x.shape[2], y.shape[2]
    g, m = min(cs, ct), max(cs, ct)
    cost = ((ct // g) * (x * x).sum(-1)[:, :, None]
            - 2 * group_sums(x, g) @ group_sums(y, g).transpose(1, 2)
            + (cs // g) * (y * y).sum(-1)[:, None, :]) / m
    with torch.no_grad():
        plan = sinkhorn(cost)
    return beta * (plan * cost).sum((1, 2)).mean()


def sfr_loss(feats, logits=None, labels=None):
    """Pairs stage1..3 -> stage4 (the last feature map), beta 1, plus the
    cross-entropy of the label term when logits are given (label smoothing
    at its schedule's start, 0, as in bench_train)."""
    loss = sum(pair_loss(s, feats[-1]) for s in feats[:-1])
    if logits is not None:
        loss = loss + F.cross_entropy(logits, labels)
    return loss
