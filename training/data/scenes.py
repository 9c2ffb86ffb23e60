"""Scene-parsing data sets (CamVid, MSRC-21) held in memory, and dense training crops.

A training sample is a crop of an image scaled to the training resolution and padded by edge replication;
its target is the label of every output cell of the net: the original-resolution label under the cell's
window centre (void where the centre falls outside the image or on a void pixel).
"""
import json
import os
import random

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


class SceneSet:
    """One split of a scene data set: uint8 images [N,3,H,W] and labels [N,H,W] (lists when sizes differ)."""

    def __init__(self, root, split, limit=None):
        if not os.path.isdir(root):
            raise FileNotFoundError(f"scene data folder not found: {root}")
        with open(os.path.join(root, 'classes.json')) as f:
            classes = json.load(f)
        self.names = [label['name'] for label in classes['labels']]
        self.colors = [label.get('color') for label in classes['labels']]
        self.ignore = classes['ignore']
        image_paths, label_paths = _split_paths(root, split)
        if limit:
            image_paths, label_paths = image_paths[:limit], label_paths[:limit]
        self.images = [_read(p, 'RGB').permute(2, 0, 1).contiguous() for p in image_paths]
        self.labels = [_read(p, None) for p in label_paths]
        self.files = [os.path.basename(p) for p in image_paths]

    def __len__(self):
        return len(self.images)

    @property
    def num_classes(self):
        return len(self.names)

    def class_pixels(self):
        """Labelled pixels per class (void excluded)."""
        counts = torch.zeros(self.num_classes, dtype=torch.long)
        for label in self.labels:
            counts += torch.bincount(label.flatten().long(), minlength=256)[:self.num_classes]
        return counts

    def channel_stats(self):
        """Per-channel mean and std of the pixels, in 0..1 units."""
        total = sum(im.reshape(3, -1).double().sum(1) for im in self.images)
        squares = sum(im.reshape(3, -1).double().pow(2).sum(1) for im in self.images)
        count = sum(im[0].numel() for im in self.images)
        mean = total / count
        return (mean / 255).tolist(), ((squares / count - mean ** 2).sqrt() / 255).tolist()


def _read(path, mode):
    image = Image.open(path)
    if mode:
        image = image.convert(mode)
    return torch.from_numpy(np.array(image, dtype=np.uint8))


def _split_paths(root, split):
    """CamVid keeps {split}/images and {split}/labels; MSRC-21 keeps one folder and a splits.json."""
    if os.path.isdir(os.path.join(root, split, 'images')):
        names = sorted(n[:-4] for n in os.listdir(os.path.join(root, split, 'images')) if n.endswith('.jpg'))
        base = os.path.join(root, split)
    else:
        with open(os.path.join(root, 'splits.json')) as f:
            names = json.load(f)[split]
        base = root
    return ([os.path.join(base, 'images', n + '.jpg') for n in names],
            [os.path.join(base, 'labels', n + '.png') for n in names])


def scale_to_short_side(image, short_side):
    """uint8 [3,H,W] -> float [3,h,w] (0..255) whose shorter side is short_side, antialiased bilinear."""
    return F.interpolate(image[None].float(), size=scaled_size(*image.shape[-2:], short_side), mode='bilinear',
                         align_corners=False, antialias=True)[0].clamp(0, 255)


def scaled_size(height, width, short_side):
    factor = short_side / min(height, width)
    return max(1, round(height * factor)), max(1, round(width * factor))


def centre_labels(label, centres_y, centres_x, ignore):
    """Labels of the original-resolution map at points given in its pixel units (void outside the image)."""
    height, width = label.shape
    rows, cols = centres_y.floor().long(), centres_x.floor().long()
    inside_rows = (rows >= 0) & (rows < height)
    inside_cols = (cols >= 0) & (cols < width)
    picked = label[rows.clamp(0, height - 1)][:, cols.clamp(0, width - 1)].long()
    inside = inside_rows[:, None] & inside_cols[None, :]
    return torch.where(inside, picked, torch.full_like(picked, ignore))


class DenseCrops:
    """Random batches (images [B,3,H,W] normalised, cell labels [B,h,w]) for net.dense().

    Augmentation: scale jitter around short_side, random translation (crop position), left/right flips.
    With sample_power p > 0, images are drawn more often the more rare-class pixels they hold (each pixel
    weighted (median class frequency / its class frequency)^p).
    """

    def __init__(self, data, net_geometry, short_side, crop, mean, std, batch_size,
                 scale_range=(0.8, 1.25), flip=True, sample_power=0.0, seed=0):
        self.data, self.short_side, self.crop = data, short_side, crop
        self.window, self.stride = net_geometry
        self.mean = torch.tensor(mean).view(3, 1, 1) * 255
        self.std = torch.tensor(std).view(3, 1, 1) * 255
        self.batch_size, self.scale_range, self.flip = batch_size, scale_range, flip
        self.rng = random.Random(seed)
        self.image_weights = _image_weights(data, sample_power) if sample_power > 0 else None

    def cells(self, side):
        return (side - self.window) // self.stride + 1

    def batch(self):
        indices = self.rng.choices(range(len(self.data)), weights=self.image_weights, k=self.batch_size)
        pairs = [self.sample(i) for i in indices]
        return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])

    def sample(self, index):
        """One augmented crop of image `index` and its cell labels."""
        image, label = self.data.images[index], self.data.labels[index]
        if self.flip and self.rng.random() < 0.5:
            image, label = image.flip(-1), label.flip(-1)
        side = round(self.short_side * self.rng.uniform(*self.scale_range))
        return self._crop(image, label, side, self.crop, lambda room: self.rng.randint(0, room))

    def whole(self, index):
        """Image `index` at short_side, padded by half a window, with the labels of all its cells."""
        image, label = self.data.images[index], self.data.labels[index]
        height, width = scaled_size(*image.shape[1:], self.short_side)
        crop = tuple(self.window + (self.cells(side + 2 * (self.window // 2)) - 1) * self.stride
                     for side in (height, width))
        return self._crop(image, label, self.short_side, crop, lambda room: 0)

    def _crop(self, image, label, side, crop, place):
        scaled = scale_to_short_side(image, side)
        pad = self.window // 2
        crop_h, crop_w = crop
        height, width = scaled.shape[-2:]
        # pad so that the crop fits and every image pixel can be a window centre
        extra_h, extra_w = max(0, crop_h - height - 2 * pad), max(0, crop_w - width - 2 * pad)
        top, left = pad + extra_h // 2 + extra_h % 2, pad + extra_w // 2 + extra_w % 2
        padded = F.pad(scaled[None], (left, pad + extra_w // 2, top, pad + extra_h // 2), mode='replicate')[0]
        y0, x0 = place(padded.shape[1] - crop_h), place(padded.shape[2] - crop_w)
        patch = padded[:, y0:y0 + crop_h, x0:x0 + crop_w]
        factor_y, factor_x = label.shape[0] / height, label.shape[1] / width
        centre = self.window / 2
        ys = (y0 - top + centre + self.stride * torch.arange(self.cells(crop_h))) * factor_y
        xs = (x0 - left + centre + self.stride * torch.arange(self.cells(crop_w))) * factor_x
        return (patch - self.mean) / self.std, centre_labels(label, ys, xs, self.data.ignore)


def _image_weights(data, power):
    counts = data.class_pixels().double().clamp(min=1)
    class_weight = (counts.median() / counts) ** power
    weights = []
    for label in data.labels:
        hist = torch.bincount(label.flatten().long(), minlength=256)[:data.num_classes].double()
        weights.append(float((hist * class_weight).sum() / hist.sum().clamp(min=1)))
    return weights
