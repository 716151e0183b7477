"""The SE-ResNeXt of train/model.h, in PyTorch, with the same parameter names.

Used by the parity test (train/model_test.cpp: C++ weights loaded here must give the same
logits) and by the PyTorch side of bench/train_vs_pytorch. Config keys match
train/model_config.h's JSON (ConfigToJson).
"""
import json
import struct

import torch
from torch import nn
import torch.nn.functional as F

PRESETS = {
    "se-resnext29-8x64": dict(stem_channels=64, blocks_per_stage=[3, 3, 3], widths=[256, 512, 1024],
                              cardinality=8, group_width=64),
    "small": dict(stem_channels=16, blocks_per_stage=[1, 1, 1], widths=[32, 64, 128],
                  cardinality=4, group_width=4),
    "tiny": dict(stem_channels=16, blocks_per_stage=[1, 1], widths=[32, 64],
                 cardinality=2, group_width=4),
}


def preset(name, num_classes, image_size=32):
    config = dict(PRESETS[name], preset=name, se_ratio=4, num_classes=num_classes,
                  image_size=image_size)
    return config


class Block(nn.Module):
    # x: (N, in, H, W) -> (N, out, H/stride, W/stride)
    def __init__(self, cin, inner, out, cardinality, stride, se_ratio):
        super().__init__()
        self.conv_reduce = nn.Conv2d(cin, inner, 1, bias=False)
        self.bn_reduce = nn.BatchNorm2d(inner)
        self.conv_group = nn.Conv2d(inner, inner, 3, stride=stride, padding=1,
                                    groups=cardinality, bias=False)
        self.bn_group = nn.BatchNorm2d(inner)
        self.conv_expand = nn.Conv2d(inner, out, 1, bias=False)
        self.bn_expand = nn.BatchNorm2d(out)
        self.se_reduce = nn.Linear(out, out // se_ratio)
        self.se_expand = nn.Linear(out // se_ratio, out)
        self.has_shortcut = cin != out or stride != 1
        if self.has_shortcut:
            self.shortcut_conv = nn.Conv2d(cin, out, 1, stride=stride, bias=False)
            self.shortcut_bn = nn.BatchNorm2d(out)

    def forward(self, x):
        y = F.relu(self.bn_reduce(self.conv_reduce(x)))
        y = F.relu(self.bn_group(self.conv_group(y)))
        y = self.bn_expand(self.conv_expand(y))
        excite = torch.sigmoid(self.se_expand(F.relu(self.se_reduce(y.mean((2, 3))))))
        y = y * excite[:, :, None, None]
        shortcut = self.shortcut_bn(self.shortcut_conv(x)) if self.has_shortcut else x
        return F.relu(y + shortcut)


class SeResNeXt(nn.Module):
    # x: (N, 3, S, S) -> logits (N, num_classes)
    def __init__(self, config):
        super().__init__()
        c = config
        self.stem_conv = nn.Conv2d(3, c["stem_channels"], 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(c["stem_channels"])
        self.stages = nn.ModuleList()
        cin = c["stem_channels"]
        for s, (blocks, width) in enumerate(zip(c["blocks_per_stage"], c["widths"])):
            stage = nn.ModuleList()
            inner = c["cardinality"] * c["group_width"] * (1 << s)
            for b in range(blocks):
                stride = 2 if s > 0 and b == 0 else 1
                stage.append(Block(cin, inner, width, c["cardinality"], stride, c["se_ratio"]))
                cin = width
            self.stages.append(stage)
        self.fc = nn.Linear(cin, c["num_classes"])
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        for name, p in self.named_parameters():
            if name.endswith("bn_expand.weight"):
                nn.init.zeros_(p)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem_conv(x)))
        for stage in self.stages:
            for block in stage:
                x = block(x)
        return self.fc(x.mean((2, 3)))


def load_tensors(path):
    """Reads the simple tensor file the C++ tests write: per tensor a line
    'name ndim d0 d1 ... offset' in path + '.txt', float32 little-endian data in path."""
    data = open(path, "rb").read()
    tensors = {}
    for line in open(path + ".txt"):
        parts = line.split()
        name, ndim = parts[0], int(parts[1])
        shape = [int(d) for d in parts[2:2 + ndim]]
        offset = int(parts[2 + ndim])
        count = 1
        for d in shape:
            count *= d
        values = struct.unpack_from("<%df" % count, data, offset)
        tensors[name] = torch.tensor(values, dtype=torch.float32).reshape(shape)
    return tensors


def read_config(path):
    with open(path) as f:
        return json.load(f)
