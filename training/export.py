"""`python3 -m training export CHECKPOINT --out DIR`: the trained window net as a fully convolutional ONNX model.

Every Linear of the classifier becomes an explicit Conv2d (the first over the whole last feature map, the rest
1x1), so the model takes any H, W >= window and returns a class map whose every cell is the window classifier
on one crop. That equivalence is checked on random images and cells before anything is written. Writes
model.onnx (input "input" [N,C,H,W], output "scores" [N,K,h,w] logits, N, H and W dynamic), card.json (per
model/card.ts) and golden.json (seeded inputs with PyTorch's outputs, which the Node tests run through
onnxruntime).
"""
import argparse
import copy
import json
from argparse import Namespace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from .checkpoints import load_checkpoint
from .errors import CheckFailed, UsageError
from .nets import conv_weight
from .recipes import RECIPES

TOLERANCE = 1e-4  # max abs difference allowed between a dense cell and the classifier on its crop
GOLDEN_TOLERANCE = 1e-3  # onnxruntime vs PyTorch, float32 sums in another order
OPSET = 13


def get_args_parser(add_help=True):
    parser = argparse.ArgumentParser(prog='python3 -m training export', add_help=add_help,
                                     description='Export a checkpoint as model.onnx + card.json + golden.json.')
    parser.add_argument('checkpoint', help='a .pt file written by training')
    parser.add_argument('--out', required=True, help='folder to write (created; existing files replaced)')
    parser.add_argument('--recipe', choices=sorted(RECIPES), help='refuse a checkpoint of any other recipe')
    parser.add_argument('--name', help='card name (default: the recipe name)')
    parser.add_argument('--version', default='1.0.0', help='card version (default 1.0.0)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the check images and golden inputs')
    return parser


class ConvolutionalNet(nn.Module):
    """The net's features followed by its classifier rewritten as convolutions (Dropout dropped: eval only)."""

    def __init__(self, net):
        super().__init__()
        self.body = copy.deepcopy(net).eval()
        classifier, self.body.classifier = self.body.classifier, nn.Sequential()
        with torch.no_grad():
            probe = torch.zeros(1, net.in_channels, net.window, net.window)
            channels = self.body.dense_features(probe).shape[1]
        head = []
        for layer in classifier:
            if isinstance(layer, nn.Linear):
                weight = conv_weight(layer, channels)
                conv = nn.Conv2d(channels, layer.out_features, weight.shape[-1])
                with torch.no_grad():
                    conv.weight.copy_(weight)
                    conv.bias.copy_(layer.bias)
                head.append(conv)
                channels = layer.out_features
            elif isinstance(layer, nn.ReLU):
                head.append(nn.ReLU())
            elif not isinstance(layer, nn.Dropout):
                raise UsageError(f'cannot rewrite classifier layer {layer} as a convolution')
        self.head = nn.Sequential(*head)
        self.window, self.stride = net.window, net.stride

    def forward(self, x):
        return self.head(self.body.dense_features(x))


@torch.no_grad()
def check_equivalence(net, model, seed, cells=48):
    """Raises CheckFailed unless every sampled dense cell equals net(crop) within TOLERANCE."""
    generator = torch.Generator().manual_seed(seed)
    window, stride = net.window, net.stride
    worst = 0.0
    # Whole cell counts, and ragged sizes whose leftover pixels must not add cells.
    for rows, cols, extra in [(0, 0, 0), (7, 11, 0), (3, 5, stride - 1), (2, 1, 1)]:
        height, width = window + rows * stride + extra, window + cols * stride + extra
        x = torch.randn(2, net.in_channels, height, width, generator=generator)
        scores = model(x)
        expected = (2, net.num_classes, net.output_side(height), net.output_side(width))
        if tuple(scores.shape) != expected or expected[2:] != (rows + 1, cols + 1):
            raise CheckFailed(f'a {height}x{width} input gave a class map of shape {tuple(scores.shape)}, '
                              f'expected {expected}')
        worst = max(worst, (scores - net.dense(x)).abs().max().item())
        picks = torch.stack([torch.randint(rows + 1, (cells,), generator=generator),
                             torch.randint(cols + 1, (cells,), generator=generator)], 1).tolist()
        for i, j in [[0, 0], [rows, cols], [0, cols], [rows, 0], *picks]:
            crop = x[:, :, i * stride:i * stride + window, j * stride:j * stride + window]
            difference = (net(crop) - scores[:, :, i, j]).abs().max().item()
            worst = max(worst, difference)
            if difference >= TOLERANCE:
                raise CheckFailed(f'dense cell ({i}, {j}) of a {height}x{width} input differs from the window '
                                  f'classifier by {difference:.3g} (allowed {TOLERANCE}); nothing was written')
    return worst


def golden_cases(model, card_input, seed):
    """Seeded pixel images of window x window and (window + 7 stride) x (window + 11 stride), normalised."""
    generator = torch.Generator().manual_seed(seed)
    channels, window, stride = card_input['channels'], model.window, model.stride
    mean = torch.tensor(card_input['mean']).view(1, -1, 1, 1)
    std = torch.tensor(card_input['std']).view(1, -1, 1, 1)
    cases = []
    for height, width in [(window, window), (window + 7 * stride, window + 11 * stride)]:
        pixels = torch.randint(256, (1, channels, height, width), generator=generator).float()
        x = (pixels * card_input['scale'] - mean) / std
        with torch.no_grad():
            scores = model(x)
        cases.append({'shape': list(x.shape), 'input': float32_list(x), 'outputShape': list(scores.shape),
                      'output': float32_list(scores)})
    return {'tolerance': GOLDEN_TOLERANCE, 'cases': cases}


def float32_list(tensor):
    # str() of a numpy float32 is its shortest round-trip form: small JSON, same float32 after parsing.
    return [float(str(value)) for value in tensor.detach().numpy().astype(np.float32).ravel()]


def make_card(args, checkpoint, recipe, net):
    source = {'kind': 'trained', 'recipe': recipe.name, 'dataset': recipe.dataset, 'command': checkpoint['command'],
              'date': datetime.now(timezone.utc).isoformat(timespec='seconds'), 'device': checkpoint['device']}
    if checkpoint.get('commit'):
        source['commit'] = checkpoint['commit']
    description = recipe.description
    if checkpoint['dry_run']:
        description += ' (dry run: not a usable model)'
    card = {
        'name': args.name or recipe.name,
        'version': args.version,
        'description': description,
        'license': recipe.license,
        'source': source,
        'input': {'name': 'input', **checkpoint['input'], 'minSide': net.window},
        'output': {'name': 'scores', 'kind': 'logits'},
        'geometry': {'window': net.window, 'stride': net.stride, 'offset': 0, 'exact': True},
        'labels': [{'id': index, **label} for index, label in enumerate(checkpoint['labels'])],
        'tasks': list(recipe.tasks),
        'metrics': checkpoint['metrics'],
    }
    if recipe.background is not None:
        card['background'] = recipe.background
    return card


def write_onnx(model, channels, path):
    example = torch.zeros(1, channels, model.window, model.window)
    torch.onnx.export(model, example, str(path), opset_version=OPSET, input_names=['input'], output_names=['scores'],
                      dynamic_axes={'input': {0: 'N', 2: 'H', 3: 'W'}, 'scores': {0: 'N', 2: 'h', 3: 'w'}},
                      do_constant_folding=True)


def export(args):
    checkpoint = load_checkpoint(args.checkpoint, args.recipe)
    recipe = RECIPES.get(checkpoint['recipe'])
    if recipe is None:
        raise UsageError(f"{args.checkpoint} was trained with recipe '{checkpoint['recipe']}', which this trainer "
                         f"does not know (known: {', '.join(sorted(RECIPES))})")
    net = recipe.build_net(Namespace(**checkpoint['args']), len(checkpoint['labels']))
    net.load_state_dict(checkpoint['model'])
    net.eval()
    model = ConvolutionalNet(net).eval()
    worst = check_equivalence(net, model, args.seed)
    golden = golden_cases(model, checkpoint['input'], args.seed)
    card = make_card(args, checkpoint, recipe, net)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_onnx(model, net.in_channels, out / 'model.onnx')
    (out / 'card.json').write_text(json.dumps(card, indent=2) + '\n')
    (out / 'golden.json').write_text(json.dumps(golden, separators=(',', ':')) + '\n')
    print(f'exported {card["name"]} to {out}: window {net.window}, stride {net.stride}, dense cells match the '
          f'window classifier within {worst:.2g}; test metrics {card["metrics"].get("test", "none")}')


def run(argv):
    export(get_args_parser().parse_args(argv))
