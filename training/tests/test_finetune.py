"""Dry runs of the fine-tune recipes (one image per epoch) and their export as a DeepLab-geometry card."""
import json
import os
import shutil
import subprocess

import onnx
import pytest

from training import export, train

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
DATA = os.path.join(ROOT, '..', 'shared', 'data')
TFLITE = os.path.join(ROOT, '..', 'shared', 'models', 'coral')


@pytest.fixture(scope='module')
def cityscapes(tmp_path_factory):
    """The Cityscapes segmenter imported as float ONNX (runs/cityscapes-float, else imported now with npm)."""
    folder = os.path.join(ROOT, 'runs', 'cityscapes-float')
    if os.path.isfile(os.path.join(folder, 'model.onnx')):
        return folder
    folder = str(tmp_path_factory.mktemp('cityscapes'))
    if not shutil.which('npm') or not os.path.isdir(TFLITE):
        pytest.skip('no npm or no ../shared/models/coral to import the Cityscapes segmenter')
    tflite = os.path.join(TFLITE, 'deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite')
    subprocess.run(['npm', 'run', '--silent', 'import-model', '--', tflite, '--name', 'cityscapes', '--labels',
                    os.path.join(TFLITE, 'cityscapes_segmentation_labels.txt'), '--out', folder, '--dequantize'],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    return folder


def dry_run_and_export(tmp_path, recipe, data, *extra):
    if not os.path.isdir(os.path.join(DATA, data)):
        pytest.skip(f'{data} copy not in ../shared/data')
    train.run(['--recipe', recipe, '--dry-run', '--epochs', '1', '--threads', '1', '--out', str(tmp_path / 'run'),
               *extra])
    export.run([str(tmp_path / 'run' / 'checkpoint.pt'), '--out', str(tmp_path / 'model')])
    card = json.loads((tmp_path / 'model' / 'card.json').read_text())
    assert card['geometry'] == {'window': 33, 'stride': 16, 'offset': -16, 'exact': False}
    assert card['input']['pad'] == 'none' and card['input']['minSide'] == 1 and card['tasks'] == ['parse', 'tag']
    assert set(card['metrics']['test']) == {'globalAccuracy', 'classAverage', 'meanIoU'}
    golden = json.loads((tmp_path / 'model' / 'golden.json').read_text())
    classes = len(card['labels'])
    assert [case['outputShape'][1:] for case in golden['cases']] == [[classes, 7, 9], [classes, 4, 7]]
    # the recipe's default: float16 weights, each widened by a Cast (8.8 MB in float32, over the 8 MB budget)
    model = onnx.load(str(tmp_path / 'model' / 'model.onnx'))
    assert {t.data_type for t in model.graph.initializer} == {onnx.TensorProto.FLOAT16}
    assert 'weights' not in card['source'] and card['description'].endswith('; weights stored as float16')
    if shutil.which('npm'):
        result = subprocess.run(['npm', 'run', '--silent', 'verify-model', '--', str(tmp_path / 'model')], cwd=ROOT,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0 and result.stdout.count('golden case') == 2, result.stdout + result.stderr
    return card


def test_camvid_finetune_dry_run_exports(tmp_path, cityscapes):
    card = dry_run_and_export(tmp_path, 'camvid-finetune', 'camvid', '--pretrained', cityscapes, '--short-side', '360')
    assert len(card['labels']) == 11 and card['input']['shortSide'] == 360


def test_msrc21_finetune_dry_run_exports(tmp_path):
    card = dry_run_and_export(tmp_path, 'msrc21-finetune', 'msrc21')
    assert len(card['labels']) == 23 and card['input']['mean'] == [128, 128, 128]
