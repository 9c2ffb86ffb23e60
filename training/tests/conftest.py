"""Shared fixtures: one tiny fashion training run (dry run on a few hundred images) for the whole session."""
import torch
import pytest

from training import train

torch.set_num_threads(1)  # tiny tensors: more threads only contend on a shared machine


@pytest.fixture(scope='session')
def fashion_run(tmp_path_factory):
    """Folder of a one-epoch dry run of the fashion recipe: checkpoints and plots."""
    out = tmp_path_factory.mktemp('fashion-run')
    train.run(['--recipe', 'fashion', '--epochs', '1', '--limit', '256', '--dry-run', '--out', str(out)])
    return out


@pytest.fixture
def other_recipe_checkpoint(fashion_run, tmp_path):
    """The fashion run's checkpoint relabelled as made by a recipe this trainer does not know."""
    checkpoint = torch.load(fashion_run / 'checkpoint.pt', weights_only=False)
    checkpoint['recipe'] = 'other-recipe'
    torch.save(checkpoint, tmp_path / 'other.pt')
    return tmp_path / 'other.pt'
