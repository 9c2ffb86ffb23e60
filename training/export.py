"""`python3 -m training export CHECKPOINT --out DIR`: the trained window net as a fully convolutional ONNX model.

Every Linear of the classifier becomes an explicit Conv2d (the first over the whole last feature map, the rest
1x1), so the model takes any H, W >= window and returns a class map whose every cell is the window classifier
on one crop. That equivalence is checked on random images and cells before anything is written. Writes
model.onnx (input "input" [N,C,H,W], output "scores" [N,K,h,w] logits, N, H and W dynamic), card.json (per
model/card.ts) and golden.json (seeded inputs with PyTorch's outputs, which the Node tests run through
onnxruntime).

--weights float16 (the fine-tune recipes' default) rounds every float32 parameter to float16 before anything is
computed, so golden.json holds the outputs of exactly the weights in the file, and stores those initializers as
float16, each widened by a Cast to float32 in the graph: about half the size, input and output stay float32.
"""
import argparse
import copy
import hashlib
import json
from argparse import Namespace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

from .checkpoints import load_checkpoint
from .errors import CheckFailed, UsageError
from .nets import conv_weight
from .recipes import RECIPES

TOLERANCE = 1e-4  # max abs difference allowed between a dense cell and the classifier on its crop
GOLDEN_TOLERANCE = 1e-3  # onnxruntime vs PyTorch, float32 sums in another order
OPSET = 13
WEIGHTS = ('float32', 'float16')


def get_args_parser(add_help=True):
    parser = argparse.ArgumentParser(prog='python3 -m training export', add_help=add_help,
                                     description='Export a checkpoint as model.onnx + card.json + golden.json.')
    parser.add_argument('checkpoint', help='a .pt file written by training')
    parser.add_argument('--out', required=True, help='folder to write (created; existing files replaced)')
    parser.add_argument('--recipe', choices=sorted(RECIPES), help='refuse a checkpoint of any other recipe')
    parser.add_argument('--name', help='card name (default: the recipe name)')
    parser.add_argument('--version', default='1.0.0', help='card version (default 1.0.0)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the check images and golden inputs')
    parser.add_argument('--weights', choices=WEIGHTS,
                        help="how model.onnx stores the weights (default: the recipe's; float32, float16 for the "
                             'fine-tune recipes); float16 rounds them first, so golden.json is the stored model')
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


def golden_cases(model, card_input, seed, sizes=None):
    """Seeded pixel images of window x window and (window + 7 stride) x (window + 11 stride) (or `sizes`),
    normalised."""
    generator = torch.Generator().manual_seed(seed)
    channels, window, stride = card_input['channels'], model.window, model.stride
    mean = torch.tensor(card_input['mean']).view(1, -1, 1, 1)
    std = torch.tensor(card_input['std']).view(1, -1, 1, 1)
    cases = []
    for height, width in sizes or [(window, window), (window + 7 * stride, window + 11 * stride)]:
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


@torch.no_grad()
def round_to_float16(module):
    """Every float32 parameter rounded to the nearest float16 value (the module stays float32)."""
    for parameter in module.parameters():
        if parameter.dtype == torch.float32:
            parameter.copy_(parameter.half().float())


def store_float16(path, min_size=2):
    """Rewrites the ONNX file at `path`: each float32 initializer of at least `min_size` values that float16
    holds exactly becomes a float16 initializer and a Cast to float32 under the original name, so the consumers,
    the graph input and output and the results stay as they were. Returns how many were converted."""
    model = onnx.load(str(path))
    graph = model.graph
    taken = {t.name for t in graph.initializer} | {i.name for i in graph.input}
    taken |= {name for node in graph.node for name in [*node.input, *node.output]}
    graph_inputs = {i.name for i in graph.input}
    initializers, casts = [], []
    for tensor in graph.initializer:
        values = numpy_helper.to_array(tensor) if tensor.data_type == TensorProto.FLOAT else None
        if (values is None or values.size < min_size or tensor.name in graph_inputs
                or not np.array_equal(values.astype(np.float16).astype(np.float32), values)):
            initializers.append(tensor)
            continue
        name = tensor.name + '.float16'
        while name in taken:
            name += '_'
        taken.add(name)
        initializers.append(numpy_helper.from_array(values.astype(np.float16), name))
        casts.append(helper.make_node('Cast', [name], [tensor.name], name=f'Cast {name}', to=TensorProto.FLOAT))
    nodes = casts + list(graph.node)
    del graph.initializer[:], graph.node[:]
    graph.initializer.extend(initializers)
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return len(casts)


def make_card(args, checkpoint, recipe, net):
    source = {'kind': 'trained', 'recipe': recipe.name, 'dataset': recipe.dataset, 'command': checkpoint['command'],
              'date': datetime.now(timezone.utc).isoformat(timespec='seconds'), 'device': checkpoint['device']}
    if checkpoint.get('commit'):
        source['commit'] = checkpoint['commit']
    description, exact = recipe.description, getattr(net, 'exact', True)
    if checkpoint['dry_run']:
        description += ' (dry run: not a usable model)'
    if args.weights == 'float16':
        description += '; weights stored as float16'
    card = {
        'name': args.name or recipe.name,
        'version': args.version,
        'description': description,
        'license': recipe.license,
        'source': source,
        'input': {'name': 'input', **checkpoint['input'], 'minSide': net.window if exact else 1},
        'output': {'name': 'scores', 'kind': 'logits'},
        'geometry': {'window': net.window, 'stride': net.stride, 'offset': getattr(net, 'offset', 0), 'exact': exact},
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


def pin_card(card, model_path):
    """The card with the sha256 of model.onnx after its version: the server refuses a model.onnx that changed."""
    pinned = {}
    for key, value in card.items():
        if key != 'sha256':
            pinned[key] = value
        if key == 'version':
            pinned['sha256'] = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
    return pinned


def export(args):
    checkpoint = load_checkpoint(args.checkpoint, args.recipe)
    recipe = RECIPES.get(checkpoint['recipe'])
    if recipe is None:
        raise UsageError(f"{args.checkpoint} was trained with recipe '{checkpoint['recipe']}', which this trainer "
                         f"does not know (known: {', '.join(sorted(RECIPES))})")
    net = recipe.build_net(Namespace(**checkpoint['args']), len(checkpoint['labels']))
    net.load_state_dict(checkpoint['model'])
    net.eval()
    args.weights = args.weights or recipe.weights
    if getattr(net, 'exact', True):
        model, sizes = ConvolutionalNet(net).eval(), None
    else:  # a padded net (fine-tuned DeepLab): no window classifier to compare with; npm run verify-model checks
        # the ONNX file against golden.json
        model, sizes = net, [(97, 129), (64, 112)]  # odd and even: TF SAME pads differ
    drift = None
    if args.weights == 'float16':
        unrounded = golden_cases(model, checkpoint['input'], args.seed, sizes)
        round_to_float16(net)
        round_to_float16(model)  # the same values: the conv weights are the Linear weights reshaped
    worst = check_equivalence(net, model, args.seed) if getattr(net, 'exact', True) else None
    golden = golden_cases(model, checkpoint['input'], args.seed, sizes)
    if args.weights == 'float16':
        drift = max(np.abs(np.subtract(case['output'], old['output'])).max()
                    for case, old in zip(golden['cases'], unrounded['cases']))
    card = make_card(args, checkpoint, recipe, net)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_onnx(model, net.in_channels, out / 'model.onnx')
    converted = store_float16(out / 'model.onnx') if args.weights == 'float16' else 0
    card = pin_card(card, out / 'model.onnx')
    (out / 'card.json').write_text(json.dumps(card, indent=2) + '\n')
    (out / 'golden.json').write_text(json.dumps(golden, separators=(',', ':')) + '\n')
    check = (f'dense cells match the window classifier within {worst:.2g}' if worst is not None else
             'a padded net: check it with npm run verify-model')
    if drift is not None:
        check += (f'; float16 weights ({converted} tensors) move the golden outputs by at most {drift:.3g} '
                  '(the card\'s metrics are the float32 training run\'s)')
    print(f'exported {card["name"]} to {out}: window {net.window}, stride {net.stride}, {check}; '
          f'test metrics {card["metrics"].get("test", "none")}')


def run(argv):
    export(get_args_parser().parse_args(argv))
