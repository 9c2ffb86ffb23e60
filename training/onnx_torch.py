"""ONNX graph -> torch.nn.Module, for fine-tuning the segmenters that `npm run import-model` writes.

Reads the file with the `onnx` package and numpy and runs its nodes in topological order with real torch
layers (each Conv an nn.Conv2d whose weight and bias are Parameters). Only the ops of the imported DeepLab
graphs are supported; any other op is an error naming the node. Int8 QDQ graphs: DequantizeLinear of a
stored weight becomes the float weight; a QuantizeLinear -> DequantizeLinear pair on an activation becomes
a clamp to the range the int8 values can hold (the importer dropped the Clips that this saturation made
redundant); the rounding is left out, so gradients flow and the values are the float model's. A Cast of a
stored tensor to float32 (float16 weights, as `export --weights float16` writes them) becomes the float32 weight.
"""
import re

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

from .errors import UsageError

SUPPORTED = ('Conv', 'Relu', 'Clip', 'Add', 'Concat', 'GlobalAveragePool', 'Shape', 'Slice', 'Expand', 'Identity',
             'QuantizeLinear', 'DequantizeLinear', 'Cast', 'MaxPool')


class OnnxConv(nn.Conv2d):
    """Conv with ONNX padding: explicit pads (maybe asymmetric) or SAME_UPPER, which depends on the input size
    when the stride is over 1 (computed from the traced shape, so an exported model keeps free H and W)."""

    def __init__(self, weight, bias, attrs):
        out_channels, in_per_group, kh, kw = weight.shape
        group = attrs.get('group', 1)
        super().__init__(in_per_group * group, out_channels, (kh, kw), stride=tuple(attrs.get('strides', [1, 1])),
                         dilation=tuple(attrs.get('dilations', [1, 1])), groups=group, bias=bias is not None)
        with torch.no_grad():
            self.weight.copy_(torch.from_numpy(np.array(weight)))
            if bias is not None:
                self.bias.copy_(torch.from_numpy(np.array(bias)))
        auto_pad = attrs.get('auto_pad', b'NOTSET').decode()
        if auto_pad not in ('NOTSET', 'SAME_UPPER', 'VALID'):
            raise ValueError(f'auto_pad {auto_pad}')
        self.same = auto_pad == 'SAME_UPPER'
        pads = attrs.get('pads', [0, 0, 0, 0])  # ONNX order: top, left, bottom, right
        self.pads = (pads[1], pads[3], pads[0], pads[2])  # F.pad order
        if self.same and self.stride == (1, 1):  # SAME at stride 1: fixed pads, the smaller half first
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            self.same, self.pads = False, (totals[1] // 2, totals[1] - totals[1] // 2, totals[0] // 2,
                                           totals[0] - totals[0] // 2)

    def forward(self, x):
        pads = self.pads
        if self.same:
            pads = []
            for axis in (3, 2):
                size, stride = x.shape[axis], self.stride[axis - 2]
                reach = self.dilation[axis - 2] * (self.kernel_size[axis - 2] - 1) + 1
                total = ((size + stride - 1) // stride - 1) * stride + reach - size  # >= 0 when reach >= stride
                pads += [total // 2, total - total // 2]
        elif pads[0] == pads[1] and pads[2] == pads[3]:  # fixed and symmetric: the conv pads (no copy)
            return F.conv2d(x, self.weight, self.bias, self.stride, (pads[2], pads[0]), self.dilation, self.groups)
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def saturate(scale, zero_point):
    """An activation's QuantizeLinear -> DequantizeLinear without the rounding: a clamp to the int8 range."""
    info, scale, zero = np.iinfo(zero_point.dtype), float(scale), int(zero_point)
    return nn.Hardtanh((info.min - zero) * scale, (info.max - zero) * scale)


class GlobalAveragePool(nn.Module):
    def forward(self, x):
        return F.adaptive_avg_pool2d(x, 1)  # exported as GlobalAveragePool (a mean would be ReduceMean)


def dequantize(value, scale, zero_point, axis):
    shape = [1] * value.ndim
    if np.ndim(scale):
        shape[axis] = -1
    return ((value.astype(np.float32) - np.reshape(zero_point, shape).astype(np.float32))
            * np.reshape(scale, shape)).astype(np.float32)


class OnnxNet(nn.Module):
    """The graph of `path` from `inputs` (default: the graph input) to `outputs` (default: the graph output),
    one input and one output tensor each; naming inner tensors cuts a backbone or a head out of it."""

    def __init__(self, path, inputs=None, outputs=None):
        super().__init__()
        graph = onnx.load(str(path)).graph
        self.input = (inputs or [graph.input[0].name])[0]
        self.output = (outputs or [graph.output[0].name])[0]
        consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        producer = {name: node for node in graph.node for name in node.output}
        self.layers = nn.ModuleDict()
        self.steps = []  # (kind, module key or constants, input names, output name)
        if self.output not in producer:
            raise UsageError(f'{path} has no tensor {self.output!r} made by a node')
        for node in self._needed(graph.node, producer):
            self._add(node, consts, producer)
        if not any(self.input in step[2] for step in self.steps):
            raise UsageError(f'{path}: tensor {self.input!r} does not lead to {self.output!r}')

    def _needed(self, nodes, producer):
        """The nodes between self.input and self.output, in the file's (topological) order."""
        keep, todo = set(), [self.output]
        while todo:
            name = todo.pop()
            node = producer.get(name)
            if name == self.input or node is None or id(node) in keep:
                continue
            keep.add(id(node))
            todo += list(node.input)
        return [node for node in nodes if id(node) in keep]

    def _add(self, node, consts, producer):
        op, ins, out = node.op_type, list(node.input), node.output[0]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        where = f"node '{node.name or out}' (op {op})"
        if op not in SUPPORTED:
            raise UsageError(f"{where} is not supported by training/onnx_torch.py (supported: {', '.join(SUPPORTED)})")
        if op == 'DequantizeLinear' and ins[0] in consts:  # a stored weight: fold to float now
            consts[out] = dequantize(consts[ins[0]], consts[ins[1]], consts[ins[2]], attrs.get('axis', 1))
        elif op == 'Cast':
            if ins[0] not in consts or attrs.get('to') != onnx.TensorProto.FLOAT:
                raise UsageError(f'{where}: only a Cast of a stored tensor to float32 is supported')
            consts[out] = consts[ins[0]].astype(np.float32)
        elif op == 'DequantizeLinear':
            source = producer.get(ins[0])
            if source is None or source.op_type != 'QuantizeLinear' or source.input[1:] != node.input[1:]:
                raise UsageError(f'{where}: only DequantizeLinear of a weight or right after its QuantizeLinear '
                                 'with the same scale is supported')
            self.steps.append(('alias', None, ins[:1], out))
        elif op == 'QuantizeLinear':
            self._module(node, saturate(consts[ins[1]], consts[ins[2]]), ins[:1], out)
        elif op == 'Conv':
            if any(name not in consts for name in ins[1:]):
                raise UsageError(f'{where}: the weights must be stored in the file')
            bias = consts[ins[2]] if len(ins) > 2 else None
            try:
                self._module(node, OnnxConv(consts[ins[1]], bias, attrs), ins[:1], out)
            except ValueError as error:
                raise UsageError(f'{where}: unsupported {error}') from None
        elif op == 'Clip':
            low, high = (float(consts[name]) if name else None for name in (ins + ['', ''])[1:3])
            self._module(node, nn.Hardtanh(-np.inf if low is None else low, np.inf if high is None else high),
                         ins[:1], out)
        elif op == 'Relu':
            self._module(node, nn.ReLU(), ins, out)
        elif op == 'MaxPool':
            pads = attrs.get('pads', [0, 0, 0, 0])
            if pads[:2] != pads[2:] or attrs.get('auto_pad', b'NOTSET') != b'NOTSET' or len(ins) > 1:
                raise UsageError(f'{where}: only MaxPool with symmetric explicit pads is supported')
            self._module(node, nn.MaxPool2d(tuple(attrs['kernel_shape']), tuple(attrs.get('strides', [1, 1])),
                                            tuple(pads[:2]), tuple(attrs.get('dilations', [1, 1])),
                                            ceil_mode=bool(attrs.get('ceil_mode', 0))), ins[:1], out)
        elif op == 'GlobalAveragePool':
            self._module(node, GlobalAveragePool(), ins, out)
        elif op == 'Slice':
            starts, ends = (int(consts[name][0]) for name in ins[1:3])
            if len(ins) > 3 and any(int(v) != 0 for v in consts[ins[3]]) or len(ins) > 4 and int(consts[ins[4]]) != 1:
                raise UsageError(f'{where}: only slices of a shape (axis 0, step 1) are supported')
            self.steps.append(('slice', (starts, ends), ins[:1], out))
        elif op in ('Concat', 'Add', 'Shape', 'Expand', 'Identity'):
            known = {name: [int(v) for v in consts[name].ravel()] for name in ins if name in consts}
            self.steps.append((op, (known, attrs.get('axis', 0)), ins, out))

    def _module(self, node, module, ins, out):
        key = re.sub(r'\W', '_', node.name or out)
        while key in self.layers:
            key += '_'
        self.layers[key] = module
        self.steps.append(('module', key, ins, out))

    def forward(self, x):
        env = {self.input: x}
        for kind, extra, ins, out in self.steps:
            if kind == 'module':
                env[out] = self.layers[extra](env[ins[0]])
            elif kind in ('alias', 'Identity'):
                env[out] = env[ins[0]]
            elif kind == 'slice':
                env[out] = env[ins[0]][extra[0]:extra[1]]
            else:
                known, axis = extra
                args = [known[name] if name in known else env[name] for name in ins]
                env[out] = OPS[kind](args, axis)
        return env[self.output]


def _concat(args, axis):
    if all(isinstance(a, list) for a in args):  # shapes, built from Shape and Slice
        return [v for a in args for v in a]
    return torch.cat(args, axis)


def _expand(args, _):
    x, shape = args
    shape = [-1] * (x.dim() - len(shape)) + list(shape)
    # ONNX broadcasts both ways: a 1 in the shape keeps x's size there
    return x.expand([-1 if isinstance(s, int) and s == 1 else s for s in shape])


OPS = {
    'Add': lambda args, _: args[0] + args[1],
    'Shape': lambda args, _: list(args[0].shape),
    'Concat': _concat,
    'Expand': _expand,
}
