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
