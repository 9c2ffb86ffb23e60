"""Writes small torchvision-style ONNX classifiers (random, seeded weights) for the importer tests.

usage: python3 make_torch_classifiers.py OUT_DIR
Each file is a head shape the importer must take (or refuse); the weights are untrained, which is enough to
compare the imported model with the original number for number.
"""
import sys
from pathlib import Path

import onnx
from onnx import numpy_helper
import torch
from torch import nn


def features(padding):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=padding), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=padding), nn.ReLU(), nn.MaxPool2d(2),
    )


class FlattenGemm(nn.Module):
    """Unpadded convs -> Flatten -> Linear -> ReLU -> Dropout -> Linear -> Softmax (exact: 32 px -> 16x6x6)."""

    def __init__(self):
        super().__init__()
        self.features = features(padding=0)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 6 * 6, 32), nn.ReLU(), nn.Dropout(), nn.Linear(32, 10))

    def forward(self, x):
        return torch.softmax(self.classifier(self.features(x)), dim=1)


class PooledGemm(nn.Module):
    """torchvision's ResNet head: padded convs -> AdaptiveAvgPool2d(1) (or max, or mean over H, W) -> Flatten
    -> Linear."""

    def __init__(self, pool):
        super().__init__()
        self.features = features(padding=1)
        self.pool = pool
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.features(x)
        x = x.mean(dim=(2, 3)) if self.pool == 'mean' else torch.flatten(self.pool(x), 1)
        return self.fc(x)


class FullyConvolutional(nn.Module):
    """No classifier head at all: the output is a spatial map."""

    def __init__(self):
        super().__init__()
        self.features = features(padding=0)

    def forward(self, x):
        return self.features(x)


class SquaredHead(nn.Module):
    """A head the importer cannot rewrite: Linear, then the scores multiplied by themselves."""

    def __init__(self):
        super().__init__()
        self.features = features(padding=0)
        self.fc = nn.Linear(16 * 6 * 6, 10)

    def forward(self, x):
        y = self.fc(torch.flatten(self.features(x), 1))
        return y * y


def with_gemm_transb0(path):
    """Rewrites every Gemm of a file to transB=0 with the weight stored transposed, as some exporters write it."""
    model = onnx.load(path)
    weights = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != 'Gemm':
            continue
        tensor = weights[node.input[1]]
        array = numpy_helper.to_array(tensor).T.copy()
        tensor.CopyFrom(numpy_helper.from_array(array, tensor.name))
        for attribute in node.attribute:
            if attribute.name == 'transB':
                attribute.i = 0
    onnx.save(model, path)


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    nets = {
        'flatten-gemm': FlattenGemm(),
        'flatten-gemm-transb0': FlattenGemm(),
        'avgpool-gemm': PooledGemm(nn.AdaptiveAvgPool2d(1)),
        'maxpool-gemm': PooledGemm(nn.AdaptiveMaxPool2d(1)),
        'mean-gemm': PooledGemm('mean'),
        'fully-convolutional': FullyConvolutional(),
        'squared-head': SquaredHead(),
    }
    for name, net in nets.items():
        net.eval()
        path = str(out / f'{name}.onnx')
        torch.onnx.export(net, torch.rand(1, 3, 32, 32), path, input_names=['image'], output_names=['scores'],
                          opset_version=13)
        if name.endswith('transb0'):
            with_gemm_transb0(path)


if __name__ == '__main__':
    main(sys.argv[1])
