"""The trainer under torchrun: two real gloo processes on the CPU train the fashion recipe on a few hundred images."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from training import train
from training.distributed import World
from training.recipes import RECIPES

REPO = Path(__file__).resolve().parents[2]
# 301 images: the val split does not divide by two, so a padded shard would count one image twice
TINY = ['--recipe', 'fashion', '--limit', '301', '--widths', '8', '16', '--hidden', '32']
# PyTorch 1.13's torchrun cannot parse its own default '--redirects 0' on Python 3.11 (meta-llama/llama#86);
# a mapping for a local rank that does not exist means the same (nothing redirected) on every version
TORCHRUN = ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '--redirects', '9:0', '--tee', '9:0']


def torchrun(*args):
    result = subprocess.run([sys.executable, *TORCHRUN, '-m', 'training', 'train', *TINY, *args], cwd=REPO,
                            capture_output=True, text=True, timeout=120, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory):
    """(output folder, stdout) of one epoch trained by two processes."""
    out = tmp_path_factory.mktemp('ddp-run')
    return out, torchrun('--epochs', '1', '--out', str(out))


def test_two_processes_log_their_world_size_once_and_write_one_set_of_files(ddp_run, fashion_run):
    out, log = ddp_run
    assert log.count('world size 2 (gloo), batch 32 per process (64 in all)') == 1
    assert log.count('epoch 1/1: train loss') == 1 and log.count('test {') == 1
    assert sorted(path.name for path in out.iterdir()) == ['checkpoint.pt', 'curves.png', 'filters.png', 'model_1.pt']
    checkpoint = torch.load(out / 'checkpoint.pt', weights_only=False)
    assert checkpoint['world_size'] == 2 and checkpoint['history'][0]['world_size'] == 2
    single = torch.load(fashion_run / 'checkpoint.pt', weights_only=False)
    assert list(checkpoint['model']) == list(single['model'])  # the unwrapped net's names: no 'module.' prefix


def test_the_val_metrics_of_two_processes_are_those_of_one_on_the_whole_split(ddp_run):
    out, _ = ddp_run
    checkpoint = torch.load(out / 'model_1.pt', weights_only=False)
    args = train.parse_args([*TINY, '--out', str(out)])
    recipe = RECIPES['fashion']
    data = recipe.load_data(args)
    net = recipe.build_net(args, len(data.labels))
    net.load_state_dict(checkpoint['model'])
    one = train.evaluate(net, recipe, recipe.criterion(args, data), data.val, torch.device('cpu'), args, World())
    assert len(data.val.dataset) == 301
    assert checkpoint['history'][0]['val_error'] == one['error']
    assert checkpoint['history'][0]['val_loss'] == pytest.approx(one['loss'], rel=1e-6)


def test_resume_under_ddp_continues_after_the_saved_epoch(ddp_run, tmp_path):
    out, _ = ddp_run
    log = torchrun('--epochs', '2', '--dry-run', '--resume', str(out / 'checkpoint.pt'), '--out', str(tmp_path))
    assert 'epoch 2/2: train loss' in log and 'epoch 1/2' not in log
    checkpoint = torch.load(tmp_path / 'checkpoint.pt', weights_only=False)
    assert checkpoint['epoch'] == 2 and [row['epoch'] for row in checkpoint['history']] == [1, 2]
    assert not (tmp_path / 'model_1.pt').exists()


def test_a_checkpoint_of_two_processes_resumes_in_one(ddp_run, tmp_path):
    out, _ = ddp_run
    train.run([*TINY, '--epochs', '2', '--dry-run', '--resume', str(out / 'checkpoint.pt'), '--out', str(tmp_path)])
    checkpoint = torch.load(tmp_path / 'checkpoint.pt', weights_only=False)
    assert checkpoint['epoch'] == 2 and checkpoint['world_size'] == 1
    assert [row['world_size'] for row in checkpoint['history']] == [2, 1]


def test_resuming_with_other_steps_per_epoch_continues_the_schedule_from_the_saved_epoch(tmp_path):
    # a world size of N divides the steps per epoch by N, as a batch N times larger does in one process
    small = [*TINY[:2], '--limit', '64', *TINY[4:], '--epochs', '3']
    train.run([*small, '--batch-size', '32', '--out', str(tmp_path / 'first')])
    train.run([*small, '--batch-size', '16', '--resume', str(tmp_path / 'first' / 'model_1.pt'),
               '--out', str(tmp_path / 'resumed')])
    history = torch.load(tmp_path / 'resumed' / 'checkpoint.pt', weights_only=False)['history']
    assert history[1]['lr'] == pytest.approx(0.01 * train.cosine_decay(3, 1000)(2))
