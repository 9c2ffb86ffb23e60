"""Scene-parsing window nets: stages of unpadded convs ending in a 2x2 max pool, then fully-connected layers.

Several convs per stage give a large window (context) at little cost; the WindowNet base class provides
forward() and dense(), so every output cell equals the window classifier on its crop.
"""
import torch.nn as nn

from .nets import WindowNet, he_init


class SceneNet(WindowNet):
    """stages: [(conv kernel sides, channels)], each stage ending with a 2x2 max pool; optional batch norm
    after each conv (per-channel affine in eval mode, so dense() stays exact)."""

    def __init__(self, stages, hidden, num_classes, last_map, in_channels=3, batch_norm=False):
        super().__init__()
        layers, channels, stride = [], in_channels, 1
        for kernels, width in stages:
            for kernel in kernels:
                layers.append(nn.Conv2d(channels, width, kernel))
                if batch_norm:
                    layers.append(nn.BatchNorm2d(width))
                layers.append(nn.ReLU(inplace=True))
                channels = width
            layers.append(nn.MaxPool2d(2))
            stride *= 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(channels * last_map * last_map, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(hidden, num_classes))
        self.in_channels, self.num_classes, self.stride = in_channels, num_classes, stride
        self.window = scene_window(stages, last_map)
        he_init(self)


def scene_window(stages, last_map):
    """Input side that leaves exactly last_map x last_map after the stages, every pool input even."""
    side = last_map
    for kernels, _ in reversed(stages):
        side = side * 2 + sum(k - 1 for k in kernels)
    return side
