"""Checkpoint files: one dict of plain values and tensors.

They are pickles (PyTorch 1.13's weights_only loader cannot read floats): load only checkpoints you trust.
"""
from pathlib import Path

import torch

from .errors import UsageError


def load_checkpoint(path, recipe=None):
    """Loads a checkpoint on the CPU; with `recipe`, refuses a checkpoint trained by another recipe."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f'checkpoint not found: {path}')
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=False)
    except Exception as error:  # torch raises many kinds for a file that is not a checkpoint
        raise UsageError(f'{path} is not a training checkpoint: {error}') from None
    if not isinstance(checkpoint, dict) or 'recipe' not in checkpoint or 'model' not in checkpoint:
        raise UsageError(f'{path} is not a training checkpoint (no recipe or model state in it)')
    if recipe is not None and checkpoint['recipe'] != recipe:
        raise UsageError(f"{path} was trained with recipe '{checkpoint['recipe']}', not '{recipe}'")
    return checkpoint


def save_checkpoint(checkpoint, folder):
    """Writes model_<epoch>.pt and checkpoint.pt (the latest, for --resume and export)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, folder / f"model_{checkpoint['epoch']}.pt")
    torch.save(checkpoint, folder / 'checkpoint.pt')
