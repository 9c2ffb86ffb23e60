"""Fashion-MNIST (Xiao, Rasul and Vollgraf 2017, MIT licence, Zalando Research) from IDX gzip files.

Debian's dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist. The last VAL_SIZE
training images are held out for validation; --limit takes the first N of the rest.
"""
import gzip
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ..errors import UsageError
from .augment import RandomAffine

DEFAULT_DIR = '/usr/share/datasets/fashion-mnist'
LABELS = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
FILES = {
    'train': ('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'),
    'test': ('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'),
}
VAL_SIZE = 5000
# tensor = (pixel / 255 - MEAN) / STD, the training set's statistics
MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    """An IDX file (gzip) as a numpy array: magic 0x0000 <type 0x08 = uint8> <ndim>, big-endian sizes, data."""
    with gzip.open(path, 'rb') as file:
        data = file.read()
    if data[:3] != b'\x00\x00\x08':
        raise UsageError(f'{path} is not an IDX file of unsigned bytes')
    ndim = data[3]
    shape = tuple(int(n) for n in np.frombuffer(data, '>u4', ndim, 4))
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_split(folder, split):
    folder = Path(folder)
    paths = [folder / name for name in FILES[split]]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise UsageError(f'Fashion-MNIST not found: missing {", ".join(missing)}. Install it with '
                         f'"sudo apt-get install dataset-fashion-mnist" or pass --data DIR (default {DEFAULT_DIR}).')
    images, labels = (torch.from_numpy(read_idx(path).copy()) for path in paths)
    return images.unsqueeze(1), labels.long()


class Normalise:
    """Collates uint8 images into a normalised float batch, optionally augmenting them first."""

    def __init__(self, augment=None):
        self.augment = augment

    def __call__(self, samples):
        images = torch.stack([image for image, _ in samples]).float() / 255
        labels = torch.stack([label for _, label in samples])
        if self.augment:
            images = self.augment(images)
        return (images - MEAN) / STD, labels


def loaders(args):
    """(train, val, test) DataLoaders; training batches are shuffled and augmented."""
    images, labels = load_split(args.data, 'train')
    train_end = len(images) - VAL_SIZE
    limit = min(args.limit or train_end, train_end)
    val_limit = min(VAL_SIZE, args.limit) if args.limit else VAL_SIZE
    train = TensorDataset(images[:limit], labels[:limit])
    val = TensorDataset(images[train_end:train_end + val_limit], labels[train_end:train_end + val_limit])
    test = TensorDataset(*load_split(args.data, 'test'))
    augment = RandomAffine(args.translate, args.scale, flip=True)
    generator = torch.Generator().manual_seed(args.seed)
    common = dict(batch_size=args.batch_size, num_workers=args.workers)
    return (DataLoader(train, shuffle=True, generator=generator, collate_fn=Normalise(augment), drop_last=True,
                       **common),
            DataLoader(val, collate_fn=Normalise(), **common),
            DataLoader(test, collate_fn=Normalise(), **common))
