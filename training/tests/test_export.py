import json
import shutil
import subprocess
from argparse import Namespace
from pathlib import Path

import onnx
import pytest
import torch

from training import export
from training.errors import CheckFailed, UsageError
from training.recipes import RECIPES

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def exported(fashion_run, tmp_path_factory):
    out = tmp_path_factory.mktemp('fashion-model')
    export.run([str(fashion_run / 'checkpoint.pt'), '--out', str(out)])
    return out


@pytest.fixture(scope='module')
def exported16(fashion_run, tmp_path_factory):
    out = tmp_path_factory.mktemp('fashion-model-fp16')
    export.run([str(fashion_run / 'checkpoint.pt'), '--out', str(out), '--weights', 'float16'])
    return out


def window_net(fashion_run):
    checkpoint = torch.load(fashion_run / 'checkpoint.pt', weights_only=False)
    net = RECIPES['fashion'].build_net(Namespace(**checkpoint['args']), 10)
    net.load_state_dict(checkpoint['model'])
    return net.eval()


def test_export_writes_an_onnx_model_with_free_batch_height_and_width(exported):
    model = onnx.load(str(exported / 'model.onnx'))
    onnx.checker.check_model(model)
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    assert (graph_input.name, graph_output.name) == ('input', 'scores')
    dims = [dim.dim_param or dim.dim_value for dim in graph_input.type.tensor_type.shape.dim]
    assert dims == ['N', 1, 'H', 'W']
    dims = [dim.dim_param or dim.dim_value for dim in graph_output.type.tensor_type.shape.dim]
    assert dims == ['N', 10, 'h', 'w']
    assert not any(node.op_type in ('Gemm', 'MatMul', 'Flatten') for node in model.graph.node)


def test_golden_8_by_12_map_cells_equal_the_window_classifier(exported, fashion_run):
    net = window_net(fashion_run)
    golden = json.loads((exported / 'golden.json').read_text())
    case = golden['cases'][1]
    assert case['shape'] == [1, 1, 28 + 7 * 4, 28 + 11 * 4] and case['outputShape'] == [1, 10, 8, 12]
    image = torch.tensor(case['input']).view(case['shape'])
    scores = torch.tensor(case['output']).view(case['outputShape'])
    with torch.no_grad():
        for i in range(8):
            for j in range(12):
                crop = image[:, :, 4 * i:4 * i + 28, 4 * j:4 * j + 28]
                assert (net(crop) - scores[:, :, i, j]).abs().max() < 1e-4


def test_card_passes_the_node_card_schema_and_carries_the_checkpoint(exported, fashion_run):
    script = ("import { cardSchema } from './model/contract/card.ts'; import { readFileSync } from 'node:fs';"
              f"const r = cardSchema.safeParse(JSON.parse(readFileSync({json.dumps(str(exported / 'card.json'))},"
              " 'utf8')));"
              "console.log(JSON.stringify(r.success ? 'valid' : r.error.issues)); process.exit(r.success ? 0 : 1);")
    result = subprocess.run(['node', '--import', 'tsx', '--input-type=module', '-e', script], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    card = json.loads((exported / 'card.json').read_text())
    checkpoint = torch.load(fashion_run / 'checkpoint.pt', weights_only=False)
    assert card['geometry'] == {'window': 28, 'stride': 4, 'offset': 0, 'exact': True}
    assert card['input']['minSide'] == 28 and card['input']['std'] == [0.353]
    assert card['metrics'] == {'test': checkpoint['metrics']['test']}
    assert card['source']['command'].startswith('python3 -m training train --recipe fashion')
    assert card['labels'][9] == {'id': 9, 'name': 'Ankle boot'} and card['tasks'] == ['tag']


def test_export_fails_loudly_and_writes_nothing_when_cells_differ(fashion_run, tmp_path, monkeypatch):
    forward = export.ConvolutionalNet.forward
    monkeypatch.setattr(export.ConvolutionalNet, 'forward', lambda self, x: forward(self, x) + 1e-3)
    with pytest.raises(CheckFailed, match=r'dense cell \(0, 0\) of a 28x28 input differs .* nothing was written'):
        export.run([str(fashion_run / 'checkpoint.pt'), '--out', str(tmp_path / 'm')])
    assert not (tmp_path / 'm').exists()


def test_export_refuses_a_checkpoint_of_another_recipe(other_recipe_checkpoint, tmp_path):
    with pytest.raises(UsageError, match="trained with recipe 'other-recipe', not 'fashion'"):
        export.run([str(other_recipe_checkpoint), '--recipe', 'fashion', '--out', str(tmp_path / 'm')])
    with pytest.raises(UsageError, match="recipe 'other-recipe', which this trainer does not know"):
        export.run([str(other_recipe_checkpoint), '--out', str(tmp_path / 'm')])
    assert not (tmp_path / 'm').exists()


def test_float16_weights_halve_the_file_and_match_their_golden_in_onnxruntime(exported, exported16):
    full, half = (onnx.load(str(folder / 'model.onnx')) for folder in (exported, exported16))
    assert {t.data_type for t in full.graph.initializer} == {onnx.TensorProto.FLOAT}
    assert {t.data_type for t in half.graph.initializer} == {onnx.TensorProto.FLOAT16}
    assert [t.name for t in half.graph.initializer] == [f'{t.name}.float16' for t in full.graph.initializer]
    casts = [node for node in half.graph.node if node.op_type == 'Cast']
    assert len(casts) == len(full.graph.initializer) and half.graph.node[len(casts)].op_type != 'Cast'
    assert half.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert half.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    ratio = (exported16 / 'model.onnx').stat().st_size / (exported / 'model.onnx').stat().st_size
    assert 0.45 < ratio < 0.55
    card = json.loads((exported16 / 'card.json').read_text())
    assert 'weights' not in card['source'] and card['description'].endswith('; weights stored as float16')
    assert 'weights' not in json.loads((exported / 'card.json').read_text())['source']
    golden = json.loads((exported16 / 'golden.json').read_text())
    assert golden['tolerance'] == export.GOLDEN_TOLERANCE
    if not shutil.which('npm'):
        pytest.skip('no npm to run npm run verify-model')
    result = subprocess.run(['npm', 'run', '--silent', 'verify-model', '--', str(exported16)], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count('golden case') == 2 and 'FAIL' not in result.stdout
