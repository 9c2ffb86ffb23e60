"""Scene images laid out as the server lays them out for a DeepLab card (pad none), and their backbone
features computed once, so that fine-tuning epochs run the head only.

Layout (model/runtime/layout.ts, density 1): scale to the short side; per axis keep (cells - 1) * 16 + 1 px
centred, cells = (side - 1) // 16 + 1; cell i sits over tensor pixel 16 i, and the logits are interpolated
bilinearly from the cell centres to every pixel of the original image (clamped at the borders).
"""
import random
import time

import torch

from .data.scenes import scale_to_short_side
from .scene_metrics import cell_interpolation


def unpadded_axis(side, stride):
    """(cells, tensor px, first px kept) along one axis of the scaled image."""
    cells = (side - 1) // stride + 1
    tensor = (cells - 1) * stride + 1
    return cells, tensor, (side - tensor) // 2


class Layout:
    """One image's input tensor and the [H, cells] / [W, cells] matrices from cell logits to its pixels."""

    def __init__(self, image, short_side, card_input, stride):
        scaled = scale_to_short_side(image, short_side)
        (rows, height, top), (cols, width, left) = (unpadded_axis(side, stride) for side in scaled.shape[1:])
        mean = torch.tensor(card_input['mean'], dtype=torch.float32).view(3, 1, 1)
        std = torch.tensor(card_input['std'], dtype=torch.float32).view(3, 1, 1)
        patch = scaled[:, top:top + height, left:left + width]
        self.tensor = ((patch * card_input['scale'] - mean) / std)[None]
        self.rows = cell_interpolation(rows, stride, 1, -top, scaled.shape[1], image.shape[1])
        self.cols = cell_interpolation(cols, stride, 1, -left, scaled.shape[2], image.shape[2])


def to_pixels(logits, rows, cols):
    """Cell logits [N,K,h,w] -> [N,K,H,W] at the original image's pixels."""
    return torch.einsum('hi,nkij,wj->nkhw', rows, logits, cols)


class Cached:
    """A batch of one image's cached features with its interpolation matrices (moved together by .to())."""

    def __init__(self, features, rows, cols):
        self.features, self.rows, self.cols = features, rows, cols

    def to(self, device, non_blocking=False):
        return Cached(*(t.to(device, non_blocking=non_blocking) for t in (self.features, self.rows, self.cols)))


@torch.no_grad()
def cache_features(backbone, data, short_sides, flips, card_input, stride, device, limit=None):
    """[[(features fp16, label, rows, cols) per version] per image]: every short side, unflipped and (with
    flips) flipped left/right."""
    started, images = time.time(), []
    count = len(data) if limit is None else min(limit, len(data))
    for image, label in zip(data.images[:count], data.labels[:count]):
        versions = []
        for flip in ([False, True] if flips else [False]):
            for side in short_sides:
                layout = Layout(image.flip(-1) if flip else image, side, card_input, stride)
                features = backbone(layout.tensor.to(device)).half().cpu()
                versions.append((features, label.flip(-1) if flip else label, layout.rows, layout.cols))
        images.append(versions)
    sizes = sum(v[0].numel() * 2 for versions in images for v in versions)
    print(f'cached backbone features of {count} images x {len(images[0]) if images else 0} versions '
          f'in {time.time() - started:.0f} s ({sizes / 2 ** 20:.0f} MiB)', flush=True)
    return images


class CachedEpoch:
    """Every image once per epoch in a random order, each time one of its versions at random."""

    def __init__(self, images, seed, shuffle=True):
        self.images, self.rng, self.shuffle = images, random.Random(seed), shuffle

    def __len__(self):
        return len(self.images)

    def __iter__(self):
        order = list(range(len(self.images)))
        if self.shuffle:
            self.rng.shuffle(order)
        for index in order:
            versions = self.images[index]
            features, label, rows, cols = versions[self.rng.randrange(len(versions))] if self.shuffle else versions[0]
            yield Cached(features, rows, cols), label[None].long()
