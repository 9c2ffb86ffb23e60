"""Training loop shared by every recipe: `python3 -m training train --recipe NAME ...`.

Shaped like torchvision's references/classification/train.py: get_args_parser(), train_one_epoch(),
evaluate(), main(args). Each epoch writes a checkpoint and the plots into --out; after the last epoch the
recipe's test metrics are measured and stored in the checkpoint, where export finds them. Under torchrun
(training/distributed.py) every rank trains its share in DistributedDataParallel and rank 0 alone logs and writes.
"""
import argparse
import math
import random
import shlex
import subprocess
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from . import distributed
from .checkpoints import load_checkpoint, save_checkpoint
from .errors import UsageError
from .plots import plot_curves, plot_filters
from .recipes import RECIPES


def get_args_parser(add_help=True):
    parser = argparse.ArgumentParser(prog='python3 -m training train', add_help=add_help,
                                     description='Train a window convnet with a recipe from training/recipes.py.')
    parser.add_argument('--recipe', required=True, choices=sorted(RECIPES), help='what to train')
    parser.add_argument('--data', help='data set folder (default: the recipe\'s)')
    parser.add_argument('--out', help='output folder for checkpoints and plots (default runs/RECIPE)')
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--batch-size', type=int, default=128, help='per process (under torchrun: per rank)')
    parser.add_argument('--lr', type=float, default=0.01, help='initial learning rate of SGD')
    parser.add_argument('--lr-decay', type=float, default=1000,
                        help='the learning rate falls by this factor by the end, along a cosine (default 1000)')
    parser.add_argument('--momentum', type=float, default=0.9)
    parser.add_argument('--weight-decay', type=float, default=5e-4)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--limit', type=int, help='train on the first N training samples only')
    parser.add_argument('--dry-run', action='store_true',
                        help='one batch per epoch and split: checks the whole pipeline in seconds')
    parser.add_argument('--resume', help='checkpoint to continue from (same recipe)')
    parser.add_argument('--test-only', action='store_true', help='measure the --resume checkpoint on the test split')
    parser.add_argument('--device', choices=['auto', 'cpu', 'cuda'], default='auto',
                        help='auto takes CUDA when PyTorch sees a GPU')
    parser.add_argument('--workers', type=int, default=0, help='data loader worker processes')
    parser.add_argument('--threads', type=int, help='CPU threads for PyTorch (default: its own choice)')
    return parser


def parse_args(argv):
    """The common options plus the chosen recipe's own options and defaults."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument('--recipe', choices=sorted(RECIPES))
    known, _ = pre.parse_known_args(argv)
    parser = get_args_parser()
    if known.recipe:
        recipe = RECIPES[known.recipe]
        recipe.add_arguments(parser)
        parser.set_defaults(**recipe.defaults)
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error('--limit must be at least 1')
    if args.epochs < 1 or args.batch_size < 1:
        parser.error('--epochs and --batch-size must be at least 1')
    if args.test_only and not args.resume:
        parser.error('--test-only needs --resume CHECKPOINT')
    args.out = args.out or str(Path('runs') / args.recipe)
    return args


class Tally:
    """Running mean loss and error over the targets that count (not ignore_index)."""

    def __init__(self, ignore_index):
        self.ignore_index, self.loss, self.wrong, self.count, self.samples = ignore_index, 0.0, 0, 0, 0

    def add(self, loss, logits, targets):
        valid = targets != self.ignore_index
        count = int(valid.sum())
        self.loss += float(loss) * count
        self.wrong += int(((logits.argmax(1) != targets) & valid).sum())
        self.count += count
        self.samples += len(targets)

    def sum_over_ranks(self, world):
        """Every rank's sums added up, so that each reports the whole epoch or split."""
        totals = distributed.sum_over_ranks([self.loss, self.wrong, self.count, self.samples], world)
        self.loss, self.wrong, self.count, self.samples = totals
        return self

    def summary(self):
        count = max(self.count, 1)
        return {'loss': self.loss / count, 'error': self.wrong / count}


def train_one_epoch(model, recipe, criterion, optimizer, scheduler, loader, device, epoch, args, world):
    """model: distributed.wrap()'s module, whose forward is the recipe's outputs. Returns the tally of all ranks."""
    model.train()
    distributed.start_epoch(loader, epoch)
    tally = Tally(recipe.ignore_index)
    bar = tqdm(loader, desc=f'epoch {epoch}', leave=False, disable=None if world.is_main else True,
               dynamic_ncols=True)
    for images, targets in bar:
        images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        logits = model(images)
        loss = criterion(logits, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        tally.add(loss.detach(), logits.detach(), targets)
        bar.set_postfix(tally.summary(), refresh=False)
        if args.dry_run:
            break
    return tally.sum_over_ranks(world)


@torch.no_grad()
def evaluate(net, recipe, criterion, loader, device, args, world):
    """Loss and error over the split; under torchrun each rank runs its part (the unwrapped net: no DDP sync)."""
    net.eval()
    tally = Tally(recipe.ignore_index)
    for images, targets in loader:
        images, targets = images.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        logits = recipe.outputs(net, images)
        tally.add(criterion(logits, targets), logits, targets)
        if args.dry_run:
            break
    return tally.sum_over_ranks(world).summary()


def pick_device(choice):
    if choice == 'cuda' and not torch.cuda.is_available():
        raise UsageError('--device cuda but PyTorch sees no CUDA GPU; use --device auto or cpu')
    return torch.device('cuda' if choice != 'cpu' and torch.cuda.is_available() else 'cpu')


def describe_device(device):
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return f'cpu ({torch.get_num_threads()} threads)'


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def git_commit():
    try:
        result = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=Path(__file__).parent, capture_output=True,
                                text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


def cosine_decay(total_steps, decay):
    """Multiplier of the initial learning rate: 1 at step 0 down to 1/decay at the last step, along a cosine."""
    floor = 1 / decay
    return lambda step: floor + (1 - floor) * (1 + math.cos(math.pi * min(step / total_steps, 1))) / 2


def main(args, argv=()):
    recipe = RECIPES[args.recipe]
    if args.threads:
        torch.set_num_threads(args.threads)
    world, device = distributed.init(pick_device(args.device), args.threads)
    seed_everything(args.seed + world.rank)  # own dropout and augmentation per rank; DDP copies rank 0's weights
    resumed = load_checkpoint(args.resume, recipe.name) if args.resume else None  # on the CPU, on every rank
    data = recipe.load_data(args)
    net = recipe.build_net(args, len(data.labels)).to(device)
    criterion = recipe.criterion(args, data).to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay)
    train_batches = distributed.shard_training(data.train, world, args.seed)
    steps_per_epoch = 1 if args.dry_run else len(train_batches)
    schedule = cosine_decay(args.epochs * steps_per_epoch, args.lr_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history, start = [], 0
    if resumed:
        net.load_state_dict(resumed['model'])
        optimizer.load_state_dict(resumed['optimizer'])
        scheduler.load_state_dict(resumed['scheduler'])
        history, start = resumed['history'], resumed['epoch']
        # the saved step count is per rank of the saved run: another world size has other steps per epoch
        scheduler.last_epoch = start * steps_per_epoch
        for group, base_lr in zip(optimizer.param_groups, scheduler.base_lrs):
            group['lr'] = base_lr * schedule(scheduler.last_epoch)
    if args.test_only:
        if world.is_main:
            print(f'test {recipe.test_metrics(net.eval(), data, args, device)}')
        return distributed.finish(world)
    if start >= args.epochs:
        raise UsageError(f'nothing to do: the checkpoint already has {start} epochs; ask for more with --epochs')

    print(f'training {recipe.name}: window {net.window}, stride {net.stride}, '
          f'{sum(p.numel() for p in net.parameters())} parameters, on {describe_device(device)}, '
          f'{world.describe()}, batch {args.batch_size} per process ({args.batch_size * world.size} in all); '
          f'output in {args.out}', flush=True)
    fit(recipe, args, argv, world, net, criterion, optimizer, scheduler, data, train_batches, history, start)
    distributed.finish(world)


def fit(recipe, args, argv, world, net, criterion, optimizer, scheduler, data, train_batches, history, start):
    """Epochs start + 1 to args.epochs, then the test metrics; rank 0 writes the checkpoints and plots."""
    out, device = Path(args.out), world.device
    model = distributed.wrap(net, recipe.outputs, world)
    val_batches = distributed.shard_evaluation(data.val, world)
    for epoch in range(start + 1, args.epochs + 1):
        started = time.time()
        train = train_one_epoch(model, recipe, criterion, optimizer, scheduler, train_batches, device, epoch, args,
                                world)
        train_seconds = time.time() - started
        train = {**train.summary(), 'images_per_second': train.samples / max(train_seconds, 1e-9)}
        val = evaluate(net, recipe, criterion, val_batches, device, args, world)
        history.append({'epoch': epoch, 'train_loss': train['loss'], 'train_error': train['error'],
                        'val_loss': val['loss'], 'val_error': val['error'], 'seconds': time.time() - started,
                        'lr': optimizer.param_groups[0]['lr'], 'world_size': world.size,
                        'train_images_per_second': train['images_per_second']})
        print(f"epoch {epoch}/{args.epochs}: train loss {train['loss']:.4f} error {train['error']:.4f}, "
              f"val loss {val['loss']:.4f} error {val['error']:.4f} ({history[-1]['seconds']:.0f} s, "
              f"{train['images_per_second']:.0f} training images/s)", flush=True)
        if not world.is_main:
            continue
        if recipe.val_metrics:
            history[-1]['val_metrics'] = recipe.val_metrics(net, data, args, device)
            print(f"epoch {epoch}/{args.epochs}: val {history[-1]['val_metrics']}", flush=True)
        checkpoint = make_checkpoint(recipe, args, argv, net, optimizer, scheduler, epoch, history, data, world)
        save_checkpoint(checkpoint, out)
        plot_curves(history, out / 'curves.png')
        plot_filters(net, out / 'filters.png')

    if world.is_main:
        checkpoint['metrics'] = {'test': recipe.test_metrics(net.eval(), data, args, device)}
        save_checkpoint(checkpoint, out)
        print(f"test {checkpoint['metrics']['test']}; checkpoint {out / 'checkpoint.pt'}")


def make_checkpoint(recipe, args, argv, net, optimizer, scheduler, epoch, history, data, world):
    """net: the unwrapped module, so that the weights load in one process or under DDP alike (no 'module.')."""
    return {
        'recipe': recipe.name, 'args': vars(args), 'epoch': epoch, 'history': history,
        'model': net.state_dict(), 'optimizer': optimizer.state_dict(), 'scheduler': scheduler.state_dict(),
        'labels': data.labels, 'input': data.input,
        'geometry': {'window': net.window, 'stride': net.stride},
        'command': shlex.join(['python3', '-m', 'training', 'train', *argv]),
        'device': describe_device(world.device), 'world_size': world.size, 'commit': git_commit(),
        'torch': torch.__version__, 'dry_run': args.dry_run, 'metrics': {},
    }


def run(argv):
    main(parse_args(argv), argv)
