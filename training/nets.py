"""Window nets: classic [conv -> ReLU -> pool]* stages, then fully-connected layers.

Every net meets the WindowNet contract (see TRAINING_CONTRACT.md): `features` holds unpadded convs, ReLUs and
pools only, `classifier` holds Linear / ReLU / Dropout only, and `forward` classifies one window while `dense`
runs the same parameters over a larger image, each Linear viewed as a convolution (the first one k x k over
the last feature map, the rest 1x1). With no padding anywhere, dense cell (i, j) equals forward() on the crop
whose top-left corner is (j * stride, i * stride).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class L2Pool2d(nn.Module):
    """Root-mean-square pooling, sqrt(mean(x^2)) over each window (Sermanet et al. 2012)."""

    # Keeps the gradient finite where a whole window is zero, as after a ReLU.
    eps = 1e-8

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride or kernel_size

    def forward(self, x):
        return torch.sqrt(F.avg_pool2d(x * x, self.kernel_size, self.stride) + self.eps)

    def extra_repr(self):
        return f'kernel_size={self.kernel_size}, stride={self.stride}'


POOLS = {'max': nn.MaxPool2d, 'avg': nn.AvgPool2d, 'l2': L2Pool2d}


class WindowNet(nn.Module):
    """Base class: subclasses set features, classifier, window, stride, in_channels and num_classes.

    A net with another feature extractor (e.g. an image pyramid) overrides dense_features() only; it must return
    a k x k map for a window-sized input, flattened in C, H, W order by the first Linear.
    """

    def dense_features(self, x):
        return self.features(x)

    def forward(self, x):
        return self.classifier(self.dense_features(x).flatten(1))

    def dense(self, x):
        x = self.dense_features(x)
        for layer in self.classifier:
            if isinstance(layer, nn.Linear):
                x = F.conv2d(x, conv_weight(layer, x.shape[1]), layer.bias)
            else:
                x = layer(x)  # ReLU, or Dropout with its own mask for every cell
        return x

    def output_side(self, side):
        """Cells along an input side of `side` px."""
        return (side - self.window) // self.stride + 1


def conv_weight(linear, channels):
    """The Linear's weight as a convolution kernel over a map with `channels` channels (k x k, or 1 x 1)."""
    side = math.isqrt(linear.in_features // channels)
    if channels * side * side != linear.in_features:
        raise ValueError(f'Linear with {linear.in_features} inputs does not fit a square map of {channels} channels')
    return linear.weight.view(linear.out_features, channels, side, side)


class ClassicNet(WindowNet):
    """stages: [(channels, kernel, pool, pool_size)] with pool in POOLS; hidden: sizes of the hidden FC layers.

    The window is the smallest input that leaves `last_map` x `last_map` cells after the stages with every pool
    input divisible by its pool size, so the window and the dense pass see the same pooling grid.
    """

    def __init__(self, in_channels, num_classes, stages, hidden, last_map=1):
        super().__init__()
        layers, channels, stride = [], in_channels, 1
        for width, kernel, pool, pool_size in stages:
            if pool not in POOLS:
                raise ValueError(f'unknown pool {pool!r}; expected one of {", ".join(POOLS)}')
            layers += [nn.Conv2d(channels, width, kernel), nn.ReLU(inplace=True), POOLS[pool](pool_size)]
            channels, stride = width, stride * pool_size
        self.features = nn.Sequential(*layers)
        sizes = [channels * last_map * last_map, *hidden]
        head = []
        for size_in, size_out in zip(sizes, sizes[1:]):
            head += [nn.Linear(size_in, size_out), nn.ReLU(inplace=True), nn.Dropout(0.5)]
        self.classifier = nn.Sequential(*head, nn.Linear(sizes[-1], num_classes))
        self.window = window_for(stages, last_map)
        self.stride, self.in_channels, self.num_classes = stride, in_channels, num_classes
        he_init(self)


def window_for(stages, last_map):
    side = last_map
    for _, kernel, _, pool_size in reversed(stages):
        side = side * pool_size + kernel - 1
    return side


def he_init(net):
    """He et al. 2015 initialisation for ReLU nets; zero biases."""
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(module.weight, nonlinearity='relu')
            nn.init.zeros_(module.bias)
