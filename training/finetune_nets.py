"""A pretrained DeepLab segmenter (an imported ONNX folder) cut in two for fine-tuning: a frozen backbone up to
the tensor `cut` and a trainable head from there to the logits, whose last 1x1 conv gets the new classes.

Not a WindowNet: its convs pad (TF SAME), so the card says geometry offset -16, exact false and pad none, as the
importer writes for DeepLab; dense() is the whole graph.
"""
import json
from pathlib import Path

import torch
import torch.nn as nn

from .errors import UsageError
from .onnx_torch import OnnxConv, OnnxNet


def read_pretrained(folder, import_hint=''):
    """(model.onnx path, card) of an imported model folder."""
    folder = Path(folder)
    if not (folder / 'model.onnx').is_file() or not (folder / 'card.json').is_file():
        raise UsageError(f'pretrained model folder {folder} has no model.onnx and card.json{import_hint}')
    return folder / 'model.onnx', json.loads((folder / 'card.json').read_text())


class FinetuneNet(nn.Module):
    """backbone(x) -> features at `cut`; head(features) -> logits [N, num_classes, ceil(H/16), ceil(W/16)].

    class_map[k] is the pretrained output that initialises new class k (None: a fresh small random init)."""

    def __init__(self, folder, cut, num_classes, class_map=None):
        super().__init__()
        path, card = read_pretrained(folder)
        self.backbone = OnnxNet(path, outputs=[cut])
        self.head = OnnxNet(path, inputs=[cut])
        for parameter in self.backbone.parameters():
            parameter.requires_grad_(False)
        drop_output_clip(self.head)
        key = self.head.steps[-1][1]
        old = self.head.layers[key]
        if not isinstance(old, OnnxConv) or old.kernel_size != (1, 1):
            raise UsageError(f'{path}: the graph does not end in a 1x1 conv (the logits)')
        self.head.layers[key] = new_logits(old, num_classes, class_map)
        geometry = card['geometry']
        self.window, self.stride, self.offset = geometry['window'], geometry['stride'], geometry['offset']
        self.in_channels, self.num_classes, self.exact = 3, num_classes, False
        self.card_input = card['input']

    def train(self, mode=True):
        super().train(mode)
        self.backbone.eval()  # frozen: no layer of it behaves differently in training, but say so
        return self

    def forward(self, x):
        return self.head(self.backbone(x))

    dense = forward


def drop_output_clip(net):
    """An int8 file's logits are clamped to their 8-bit range (the importer's saturating Clip after the last conv):
    logits being trained need no such ceiling, so the head ends at the conv."""
    kind, key, ins, out = net.steps[-1]
    if kind == 'module' and isinstance(net.layers[key], nn.Hardtanh):
        net.steps.pop()
        del net.layers[key]
        net.output = ins[0]


def new_logits(old, num_classes, class_map):
    """A 1x1 conv to num_classes, row k copied from old's output class_map[k] where given."""
    conv = OnnxConv(torch.zeros(num_classes, old.in_channels, 1, 1).numpy(), torch.zeros(num_classes).numpy(), {})
    with torch.no_grad():
        nn.init.normal_(conv.weight, std=0.01)
        for k, source in enumerate(class_map or []):
            if source is not None:
                conv.weight[k] = old.weight[source]
                conv.bias[k] = old.bias[source]
    return conv
