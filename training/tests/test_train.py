import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from training import train
from training.errors import UsageError

REPO = Path(__file__).resolve().parents[2]


def cli(*args, python=sys.executable):
    return subprocess.run([python, '-m', 'training', *args], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_a_dry_run_epoch_writes_checkpoints_and_plots(fashion_run):
    assert {'checkpoint.pt', 'model_1.pt', 'curves.png', 'filters.png'} <= {p.name for p in fashion_run.iterdir()}
    checkpoint = torch.load(fashion_run / 'checkpoint.pt', weights_only=False)
    assert checkpoint['recipe'] == 'fashion' and checkpoint['epoch'] == 1 and checkpoint['dry_run']
    assert checkpoint['args']['limit'] == 256 and checkpoint['args']['lr'] == 0.01
    assert [label['name'] for label in checkpoint['labels']][:2] == ['T-shirt/top', 'Trouser']
    assert set(checkpoint['history'][0]) >= {'train_loss', 'train_error', 'val_loss', 'val_error'}
    assert 0 <= checkpoint['metrics']['test']['accuracy'] <= 1
    assert checkpoint['input']['mean'] == [0.2860] and checkpoint['input']['shortSide'] == 28


def test_resume_continues_after_the_saved_epoch(fashion_run, tmp_path):
    train.run(['--recipe', 'fashion', '--epochs', '2', '--limit', '256', '--dry-run', '--out', str(tmp_path),
               '--resume', str(fashion_run / 'checkpoint.pt')])
    checkpoint = torch.load(tmp_path / 'checkpoint.pt', weights_only=False)
    assert checkpoint['epoch'] == 2 and [row['epoch'] for row in checkpoint['history']] == [1, 2]
    assert not (tmp_path / 'model_1.pt').exists()


def test_resume_refuses_a_checkpoint_of_another_recipe(other_recipe_checkpoint, tmp_path):
    with pytest.raises(UsageError, match="other.pt was trained with recipe 'other-recipe', not 'fashion'"):
        train.run(['--recipe', 'fashion', '--dry-run', '--resume', str(other_recipe_checkpoint),
                   '--out', str(tmp_path)])


def test_resume_refuses_a_file_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / 'notes.pt').write_text('hello')
    with pytest.raises(UsageError, match='notes.pt is not a training checkpoint'):
        train.run(['--recipe', 'fashion', '--resume', str(tmp_path / 'notes.pt'), '--out', str(tmp_path)])


def test_a_missing_data_folder_names_the_files_and_the_package(tmp_path):
    with pytest.raises(UsageError, match='Fashion-MNIST not found: missing .*train-images-idx3-ubyte.gz.*'
                                         'apt-get install dataset-fashion-mnist'):
        train.run(['--recipe', 'fashion', '--data', str(tmp_path / 'nowhere'), '--out', str(tmp_path)])


def test_test_only_without_a_checkpoint_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.parse_args(['--recipe', 'fashion', '--test-only'])
    assert exit_info.value.code == 2
    assert '--test-only needs --resume CHECKPOINT' in capsys.readouterr().err


def test_the_command_line_refuses_an_unknown_recipe_with_the_known_ones():
    result = cli('train', '--recipe', 'nope')
    assert result.returncode == 2
    assert "argument --recipe: invalid choice: 'nope'" in result.stderr and "'fashion'" in result.stderr


def test_the_command_line_reports_usage_errors_in_one_line(tmp_path):
    result = cli('export', str(tmp_path / 'missing.pt'), '--out', str(tmp_path / 'm'))
    assert result.returncode == 2
    assert result.stderr.strip() == f'error: checkpoint not found: {tmp_path / "missing.pt"}'


def test_a_python_without_torch_hands_over_to_one_with_it(tmp_path):
    # a copy of this interpreter started with -S has no site-packages, hence no torch, and another real path
    bare = tmp_path / 'python3'
    shutil.copy(sys.executable, bare)
    assert subprocess.run([bare, '-S', '-c', 'import torch'], capture_output=True).returncode != 0
    result = subprocess.run([bare, '-S', '-m', 'training', 'gradcheck', '--help'], cwd=REPO, capture_output=True,
                            text=True, timeout=120, env={**os.environ, 'TAGMAP_PYTHON': sys.executable})
    assert result.returncode == 0 and 'usage: python3 -m training gradcheck' in result.stdout


def test_asking_for_cuda_without_a_gpu_is_a_usage_error(tmp_path):
    if torch.cuda.is_available():
        pytest.skip('this machine has a CUDA GPU')
    with pytest.raises(UsageError, match='--device cuda but PyTorch sees no CUDA GPU'):
        train.run(['--recipe', 'fashion', '--device', 'cuda', '--out', str(tmp_path)])
