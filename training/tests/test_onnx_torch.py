"""onnx_torch: the bundled int8 VOC DeepLab against its golden outputs, and every op on a tiny float graph
against a numpy reference, at odd and even input sizes (TF SAME pads differ)."""
import json
import os

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from training.errors import UsageError
from training.onnx_torch import OnnxNet

VOC = os.path.join(os.path.dirname(__file__), '..', '..', 'model', 'zoo', 'voc')


def test_voc_int8_graph_matches_its_golden_cases():
    net = OnnxNet(os.path.join(VOC, 'model.onnx')).eval()
    golden = json.load(open(os.path.join(VOC, 'golden.json')))
    sizes = set()
    for case in golden['cases']:
        with torch.no_grad():
            scores = net(torch.tensor(case['input']).view(case['shape']))
        assert list(scores.shape) == case['outputShape']
        assert (scores.flatten() - torch.tensor(case['output'])).abs().max() < golden['tolerance']
        sizes.add(tuple(case['shape'][2:]))
    assert len(sizes) >= 2


def conv_reference(x, w, b, stride, dilation, pads, group):
    """Direct convolution in numpy: pads (top, left, bottom, right)."""
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    oh, ow = (h - dilation * (kh - 1) - 1) // stride + 1, (wd - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, k, oh, ow), np.float64)
    for o in range(k):
        g = o // (k // group)
        for i in range(kh):
            for j in range(kw):
                patch = x[:, g * cg:(g + 1) * cg, i * dilation:i * dilation + stride * oh:stride,
                          j * dilation:j * dilation + stride * ow:stride]
                out[:, o] += np.einsum('nchw,c->nhw', patch, w[o, :, i, j])
    return out + b.reshape(1, -1, 1, 1)


def same_upper(size, k, s):
    total = max(0, (-(-size // s) - 1) * s + k - size)
    return total // 2, total - total // 2


def tiny_graph(path, rng):
    """input -> SAME s2 conv -> ReLU6 -> dilated depthwise + Add -> GAP branch expanded -> Concat -> 1x1 conv."""
    weights = {'w1': rng.normal(size=(4, 3, 3, 3)), 'b1': rng.normal(size=4), 'w2': rng.normal(size=(4, 1, 3, 3)),
               'b2': rng.normal(size=4), 'w3': rng.normal(size=(2, 8, 1, 1)), 'b3': rng.normal(size=2)}
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()]
    inits += [numpy_helper.from_array(np.array(v, np.float32), k) for k, v in [('lo', 0.0), ('hi', 6.0)]]
    inits += [numpy_helper.from_array(np.array(v, np.int64), k) for k, v in [('s', [2]), ('e', [4]), ('one', [1, 1])]]
    nodes = [
        helper.make_node('Conv', ['x', 'w1', 'b1'], ['c1'], kernel_shape=[3, 3], strides=[2, 2], auto_pad='SAME_UPPER'),
        helper.make_node('Clip', ['c1', 'lo', 'hi'], ['r1']),
        helper.make_node('Conv', ['r1', 'w2', 'b2'], ['c2'], kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2],
                         group=4),
        helper.make_node('Add', ['c2', 'r1'], ['a']),
        helper.make_node('Relu', ['a'], ['r2']),
        helper.make_node('GlobalAveragePool', ['r2'], ['g']),
        helper.make_node('Shape', ['r2'], ['sh']),
        helper.make_node('Slice', ['sh', 's', 'e'], ['hw']),
        helper.make_node('Concat', ['one', 'hw'], ['shape'], axis=0),
        helper.make_node('Expand', ['g', 'shape'], ['ge']),
        helper.make_node('Identity', ['ge'], ['gi']),
        helper.make_node('Concat', ['gi', 'r2'], ['cat'], axis=1),
        helper.make_node('Conv', ['cat', 'w3', 'b3'], ['y'], kernel_shape=[1, 1]),
    ]
    graph = helper.make_graph(nodes, 'tiny', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3, 'H', 'W'])],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 2, 'h', 'w'])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), str(path))
    return weights


def tiny_reference(x, w):
    (t, bt), (left, right) = same_upper(x.shape[2], 3, 2), same_upper(x.shape[3], 3, 2)
    r1 = np.clip(conv_reference(x, w['w1'], w['b1'], 2, 1, (t, left, bt, right), 1), 0, 6)
    r2 = np.maximum(conv_reference(r1, w['w2'], w['b2'], 1, 2, (2, 2, 2, 2), 4) + r1, 0)
    g = np.broadcast_to(r2.mean((2, 3), keepdims=True), r2.shape)
    return conv_reference(np.concatenate([g, r2], 1), w['w3'], w['b3'], 1, 1, (0, 0, 0, 0), 1)


@pytest.mark.parametrize('size', [(9, 13), (8, 12), (9, 10)])
def test_every_op_matches_numpy(tmp_path, size):
    rng = np.random.default_rng(0)
    weights = tiny_graph(tmp_path / 'tiny.onnx', rng)
    net = OnnxNet(tmp_path / 'tiny.onnx')
    x = rng.normal(size=(1, 3, *size))
    got = net(torch.tensor(x, dtype=torch.float32))
    assert got.shape == (1, 2, -(-size[0] // 2), -(-size[1] // 2))
    assert np.abs(got.detach().numpy() - tiny_reference(x, weights)).max() < 1e-4
    got.sum().backward()
    assert all(p.grad is not None for p in net.parameters()), 'the weights are trainable Parameters'


def test_cut_gives_backbone_and_head(tmp_path):
    tiny_graph(tmp_path / 'tiny.onnx', np.random.default_rng(0))
    cuts = [{}, {'outputs': ['r2']}, {'inputs': ['r2']}]
    whole, backbone, head = (OnnxNet(tmp_path / 'tiny.onnx', **kw) for kw in cuts)
    x = torch.randn(1, 3, 11, 11)
    assert torch.allclose(head(backbone(x)), whole(x))
    with pytest.raises(UsageError, match="no tensor 'nowhere'"):
        OnnxNet(tmp_path / 'tiny.onnx', outputs=['nowhere'])


def test_unsupported_op_names_node_and_op(tmp_path):
    graph = helper.make_graph([helper.make_node('Sigmoid', ['x'], ['y'], name='squash')], 'g',
                              [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 3, 4, 4])],
                              [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1, 3, 4, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), str(tmp_path / 'm.onnx'))
    with pytest.raises(UsageError, match=r"node 'squash' \(op Sigmoid\) is not supported"):
        OnnxNet(tmp_path / 'm.onnx')


def test_float16_weights_with_casts_run_as_the_rounded_float32_graph(tmp_path):
    from training.export import store_float16
    tiny_graph(tmp_path / 'tiny.onnx', np.random.default_rng(0))
    model = onnx.load(str(tmp_path / 'tiny.onnx'))
    for tensor in model.graph.initializer:  # the weights rounded to float16 values first, as export does
        if tensor.data_type == TensorProto.FLOAT:
            tensor.CopyFrom(numpy_helper.from_array(
                numpy_helper.to_array(tensor).astype(np.float16).astype(np.float32), tensor.name))
    onnx.save(model, str(tmp_path / 'rounded.onnx'))
    onnx.save(model, str(tmp_path / 'half.onnx'))
    assert store_float16(tmp_path / 'half.onnx') == 6  # w1..b3; the scalar Clip bounds stay float32
    half = onnx.load(str(tmp_path / 'half.onnx'))
    kinds = {t.name: t.data_type for t in half.graph.initializer}
    assert sorted(name for name, kind in kinds.items() if kind == TensorProto.FLOAT16) == sorted(
        f'{name}.float16' for name in ('w1', 'b1', 'w2', 'b2', 'w3', 'b3'))
    assert [n.op_type for n in half.graph.node[:6]] == ['Cast'] * 6
    x = torch.randn(1, 3, 9, 13)
    with torch.no_grad():
        assert torch.equal(OnnxNet(tmp_path / 'half.onnx')(x), OnnxNet(tmp_path / 'rounded.onnx')(x))
