"""Training under torchrun: the process group, each rank's share of the data, DDP, and rank 0 alone writing.

Started by torchrun (RANK, WORLD_SIZE and LOCAL_RANK in the environment), a process joins the group: nccl when it
trains on CUDA (one GPU per process, cuda:LOCAL_RANK), gloo on the CPU. Started any other way, it is a world of
one and everything here leaves the run as it was. --batch-size is per process: the global batch is it times the
world size.
"""
import itertools
import os
import sys
from dataclasses import dataclass
from typing import Optional

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler

from .errors import UsageError

TORCHRUN_VARIABLES = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK')


@dataclass
class World:
    rank: int = 0
    size: int = 1
    local_size: int = 1
    backend: Optional[str] = None  # None: one process, no group
    device: torch.device = torch.device('cpu')

    @property
    def distributed(self):
        return self.backend is not None

    @property
    def is_main(self):
        return self.rank == 0

    def describe(self):
        return f'world size {self.size} ({self.backend})' if self.distributed else 'world size 1 (one process)'


def init(device, threads=None):
    """Joins torchrun's group when launched by it and returns (world, this process's device)."""
    if not all(name in os.environ for name in TORCHRUN_VARIABLES):
        return World(device=device), device
    local_rank = int(os.environ['LOCAL_RANK'])
    if device.type == 'cuda':
        torch.cuda.set_device(local_rank)
        device = torch.device('cuda', local_rank)
    backend = 'nccl' if device.type == 'cuda' else 'gloo'
    dist.init_process_group(backend)  # env://: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE from torchrun
    world = World(dist.get_rank(), dist.get_world_size(), int(os.environ.get('LOCAL_WORLD_SIZE', 1)), backend, device)
    if device.type == 'cpu' and not threads:
        # the processes of one node share its cores: more threads than cores only makes them wait on each other
        torch.set_num_threads(max(1, available_cores() // world.local_size))
    if not world.is_main:
        sys.stdout = open(os.devnull, 'w')  # rank 0 alone logs; errors still reach stderr
    return world, device


def available_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1


def finish(world):
    """Holds every rank until rank 0 has written its files, then leaves the group."""
    if world.distributed:
        dist.barrier()
        dist.destroy_process_group()


class RecipeForward(nn.Module):
    """The recipe's outputs(net, images) as forward(), so that DDP sees, and synchronises, the pass being trained."""

    def __init__(self, net, outputs):
        super().__init__()
        self.net, self.outputs = net, outputs

    def forward(self, images):
        return self.outputs(self.net, images)


def wrap(net, outputs, world):
    """The module to train: the recipe's forward, in DistributedDataParallel when there are several ranks."""
    model = RecipeForward(net, outputs)
    if not world.distributed:
        return model
    device_ids = [world.device.index] if world.device.type == 'cuda' else None
    return DistributedDataParallel(model, device_ids=device_ids)


def shard_training(loader, world, seed):
    """This rank's share of each training epoch; every rank gets as many batches (DDP steps them together).

    A DataLoader gets a DistributedSampler (shuffled like the original when it shuffled); any other epoch
    iterable (the scene recipes' crops, cached features) is run whole on every rank, each taking every
    world-size-th batch."""
    if not world.distributed:
        return loader
    if isinstance(loader, DataLoader):
        if loader.batch_size is None or not isinstance(loader.sampler, (RandomSampler, SequentialSampler)):
            raise UsageError('this recipe draws its training batches with its own sampler, which has no '
                             'distributed form yet: train it in one process')
        shuffle = isinstance(loader.sampler, RandomSampler)
        return rebuild(loader, DistributedSampler(loader.dataset, world.size, world.rank, shuffle=shuffle, seed=seed))
    return EveryNthBatch(loader, world.rank, world.size)


def shard_evaluation(loader, world):
    """This rank's disjoint part of a split, together covering it exactly once (no padding), so that sums over the
    ranks equal one process's. A sequential DataLoader is split by sample; anything else is run by rank 0."""
    if not world.distributed:
        return loader
    if isinstance(loader, DataLoader) and loader.batch_size is not None and not loader.drop_last \
            and isinstance(loader.sampler, SequentialSampler):
        return rebuild(loader, range(world.rank, len(loader.dataset), world.size))
    return loader if world.is_main else []


def start_epoch(loader, epoch):
    """A DistributedSampler shuffles by epoch: without set_epoch every epoch would repeat the first order."""
    sampler = getattr(loader, 'sampler', None)
    if isinstance(sampler, DistributedSampler):
        sampler.set_epoch(epoch)


def rebuild(loader, sampler):
    return DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=sampler, num_workers=loader.num_workers,
                      collate_fn=loader.collate_fn, pin_memory=loader.pin_memory, drop_last=loader.drop_last,
                      worker_init_fn=loader.worker_init_fn)


class EveryNthBatch:
    def __init__(self, epoch, rank, size):
        self.epoch, self.rank, self.size = epoch, rank, size

    def __len__(self):
        return len(self.epoch) // self.size

    def __iter__(self):
        return itertools.islice(self.epoch, self.rank, len(self) * self.size, self.size)


def sum_over_ranks(values, world):
    """Element-wise sums of a list of numbers over every rank (float64: counts stay exact)."""
    if not world.distributed:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64, device=world.device)
    dist.all_reduce(tensor)
    return tensor.tolist()
