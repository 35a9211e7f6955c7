"""The reference networks of NETWORKS.md in PyTorch, module order matching
libsfr's parameter order (named_parameters lists the same tensors in the
same order as sfr_net_param_info)."""
import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, in_c, out_c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, out_c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_c)
        self.conv2 = nn.Conv2d(out_c, out_c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_c)
        self.shortcut = nn.Sequential()
        if in_c != out_c or stride != 1:
            self.shortcut = nn.Sequential(nn.Conv2d(in_c, out_c, 1, stride, 0, bias=False),
                                          nn.BatchNorm2d(out_c))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + self.shortcut(x))


class ResNet(nn.Module):
    """stem, stages (lists of BasicBlock arguments), global average pool, linear.
    forward returns the logits and the stage outputs [stage1..stage4]."""

    def __init__(self, in_c, stem_c, stages, classes):
        super().__init__()
        self.conv = nn.Conv2d(in_c, stem_c, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(stem_c)
        self.stages = nn.ModuleList(nn.Sequential(*[BasicBlock(*b) for b in s]) for s in stages)
        self.fc = nn.Linear(stages[-1][-1][1], classes)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        feats = []
        for s in self.stages:
            x = s(x)
            feats.append(x)
        return self.fc(torch.flatten(torch.mean(x, dim=(2, 3), keepdim=True), 1)), feats


def fmnist_resnet():
    return ResNet(1, 16, [[(16, 16, 1)], [(16, 32, 2)], [(32, 64, 2)], [(64, 128, 2)]], 10)


def cifar_resnet18():
    w = [64, 128, 256, 512]
    stages = [[(64 if i == 0 else w[i - 1], w[i], 1 if i == 0 else 2), (w[i], w[i], 1)] for i in range(4)]
    return ResNet(3, 64, stages, 100)


# fmnist-mobilenet (docs/fmnist-mobilenet.md): (in, expand, out, kernel,
# stride, squeeze-and-excitation, hard-swish) per inverted residual block.
MOBILENET_BLOCKS = [
    (16, 16, 16, 3, 1, False, False), (16, 64, 24, 3, 2, False, False),
    (24, 72, 24, 3, 1, False, False), (24, 96, 40, 3, 2, True, True),
    (40, 120, 40, 3, 1, True, True), (40, 160, 64, 3, 1, True, True),
]


class SqueezeExcite(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc1 = nn.Linear(c, c // 4)
        self.fc2 = nn.Linear(c // 4, c)

    def forward(self, x):
        s = torch.flatten(torch.mean(x, dim=(2, 3)), 1)
        s = nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(s))))
        return x * s[:, :, None, None]


class InvertedResidual(nn.Module):
    def __init__(self, in_c, expand, out_c, kernel, stride, se, hswish):
        super().__init__()
        self.act = nn.Hardswish() if hswish else nn.ReLU()
        self.expand = None
        if expand != in_c:
            self.expand = nn.Sequential(nn.Conv2d(in_c, expand, 1, bias=False),
                                        nn.BatchNorm2d(expand), self.act)
        self.depthwise = nn.Sequential(
            nn.Conv2d(expand, expand, kernel, stride, kernel // 2, groups=expand, bias=False),
            nn.BatchNorm2d(expand), self.act)
        self.se = SqueezeExcite(expand) if se else None
        self.project = nn.Sequential(nn.Conv2d(expand, out_c, 1, bias=False), nn.BatchNorm2d(out_c))
        self.residual = stride == 1 and in_c == out_c

    def forward(self, x):
        y = self.expand(x) if self.expand is not None else x
        y = self.depthwise(y)
        if self.se is not None:
            y = self.se(y)
        y = self.project(y)
        return y + x if self.residual else y


class FmnistMobileNet(nn.Module):
    """forward returns the logits and the tapped stages [block1, block3,
    block5, the last 1x1 convolution's output]."""

    def __init__(self, dropout=0.2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.Hardswish())
        self.blocks = nn.ModuleList(InvertedResidual(*b) for b in MOBILENET_BLOCKS)
        self.head = nn.Sequential(nn.Conv2d(64, 256, 1, bias=False), nn.BatchNorm2d(256),
                                  nn.Hardswish())
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        x = self.stem(x)
        feats = []
        for i, b in enumerate(self.blocks):
            x = b(x)
            if i in (0, 2, 4):
                feats.append(x)
        x = self.head(x)
        feats.append(x)
        x = self.dropout(torch.flatten(torch.mean(x, dim=(2, 3)), 1))
        return self.fc(x), feats


def fmnist_mobilenet(dropout=0.2):
    return FmnistMobileNet(dropout)
