"""Reference logits of a TFLite DeepLab segmenter from Arm NN (Debian's python3-pyarmnn), an independent runtime.

Arm NN 22 cannot run the files as they are: it has no ARG_MAX (the last op) nor TILE (Cityscapes' image-pooling
broadcast), and it takes every tensor's shape from the file. So this writes a patched copy of the flatbuffer, changed
in place (same layout; no flatbuffers module needed):
- the subgraph's `operators` vector is shortened to end at the logits conv (the trailing RESIZE_BILINEARs and the
  ARG_MAX go) and its `outputs` point at the logits tensor;
- a TILE of a 1x1 map is replaced by a RESIZE_BILINEAR of it (a 1x1 map resized is the same broadcast), a new
  operator table appended at the end of the file, with the opcode index, options type and size input of the file's
  own RESIZE_BILINEAR;
- for another input size, the input and every intermediate tensor's H and W (TF SAME: ceil(in / stride)), the global
  AVERAGE_POOL_2D's filter and the RESIZE_BILINEAR size constants are rewritten.

Usage:
  segmenter_reference.py cut MODEL.tflite OUT.tflite [HEIGHT WIDTH]
  segmenter_reference.py run MODEL.tflite PIXELS.raw HEIGHT WIDTH [BACKEND]
PIXELS.raw holds N images of HEIGHT x WIDTH as uint8 RGB, row by row (HWC). `run` prints one JSON line:
{"backend": ..., "shape": [h, w, classes], "scale": s, "zeroPoint": z, "outputs": [[q, ...], ...]} with the logits
as Arm NN's uint8 values (HWC order; logit = s * (q - z)).
"""
import json
import os
import struct
import sys
import tempfile

import numpy as np

# schema.fbs field ids (union fields count twice: the type byte, then the value)
MODEL_OPERATOR_CODES, MODEL_SUBGRAPHS, MODEL_BUFFERS = 1, 2, 4
CODE_DEPRECATED, CODE_BUILTIN = 0, 3
GRAPH_TENSORS, GRAPH_INPUTS, GRAPH_OUTPUTS, GRAPH_OPERATORS = 0, 1, 2, 3
TENSOR_SHAPE, TENSOR_BUFFER, TENSOR_NAME, TENSOR_QUANTIZATION = 0, 2, 3, 4
QUANT_SCALE, QUANT_ZERO_POINT = 2, 3
OP_OPCODE, OP_INPUTS, OP_OUTPUTS, OP_OPTIONS_TYPE, OP_OPTIONS = 0, 1, 2, 3, 4
POOL_STRIDE_W, POOL_STRIDE_H, POOL_FILTER_W, POOL_FILTER_H = 1, 2, 3, 4
CONV_STRIDE_W, CONV_STRIDE_H = 1, 2
BUFFER_DATA = 0
# BuiltinOperator codes
ADD, AVERAGE_POOL_2D, CONCATENATION, CONV_2D, DEPTHWISE_CONV_2D = 0, 1, 2, 3, 4
RESIZE_BILINEAR, ARG_MAX, TILE, QUANTIZE = 23, 56, 69, 114
STRIDED = {CONV_2D: (CONV_STRIDE_H, CONV_STRIDE_W), DEPTHWISE_CONV_2D: (CONV_STRIDE_H, CONV_STRIDE_W),
           AVERAGE_POOL_2D: (POOL_STRIDE_H, POOL_STRIDE_W)}


class Flat:
    """Reads (and patches in place) the tables of a flatbuffer held in a bytearray."""

    def __init__(self, data):
        self.data = data

    def u32(self, pos):
        return struct.unpack_from("<I", self.data, pos)[0]

    def i32(self, pos):
        return struct.unpack_from("<i", self.data, pos)[0]

    def put_i32(self, pos, value):
        struct.pack_into("<i", self.data, pos, value)

    def field(self, table, index):
        """Byte position of a table's field, 0 when it is absent (the schema default)."""
        vtable = table - self.i32(table)
        slot = 4 + 2 * index
        if slot >= struct.unpack_from("<H", self.data, vtable)[0]:
            return 0
        offset = struct.unpack_from("<H", self.data, vtable + slot)[0]
        return table + offset if offset else 0

    def scalar(self, table, index, fmt, default=0):
        pos = self.field(table, index)
        return struct.unpack_from("<" + fmt, self.data, pos)[0] if pos else default

    def ref(self, table, index):
        pos = self.field(table, index)
        return pos + self.u32(pos) if pos else 0

    def vector(self, table, index):
        """(position of the first element, length), or (0, 0) when absent."""
        at = self.ref(table, index)
        return (at + 4, self.u32(at)) if at else (0, 0)

    def tables(self, table, index):
        start, length = self.vector(table, index)
        return [start + 4 * k + self.u32(start + 4 * k) for k in range(length)]

    def ints(self, table, index):
        start, length = self.vector(table, index)
        return list(struct.unpack_from("<%di" % length, self.data, start)) if length else []

    def put_ints(self, table, index, values):
        start, length = self.vector(table, index)
        if length != len(values):
            sys.exit("cannot patch %d values over %d in place" % (len(values), length))
        struct.pack_into("<%di" % length, self.data, start, *values)

    def string(self, table, index):
        start, length = self.vector(table, index)
        return self.data[start:start + length].decode() if start else ""


class Graph:
    """Subgraph 0 of a .tflite file: its operators with builtin codes, tensors and buffers."""

    def __init__(self, data):
        self.fb = Flat(data)
        root = self.fb.u32(0)
        self.codes = [max(self.fb.scalar(c, CODE_DEPRECATED, "b"), self.fb.scalar(c, CODE_BUILTIN, "i"))
                      for c in self.fb.tables(root, MODEL_OPERATOR_CODES)]
        self.graph = self.fb.tables(root, MODEL_SUBGRAPHS)[0]
        self.tensors = self.fb.tables(self.graph, GRAPH_TENSORS)
        self.buffers = self.fb.tables(root, MODEL_BUFFERS)
        self.operators = self.fb.tables(self.graph, GRAPH_OPERATORS)

    def code(self, op):
        return self.codes[self.fb.scalar(op, OP_OPCODE, "I")]

    def inputs(self, op):
        return self.fb.ints(op, OP_INPUTS)

    def outputs(self, op):
        return self.fb.ints(op, OP_OUTPUTS)

    def shape(self, tensor):
        return self.fb.ints(self.tensors[tensor], TENSOR_SHAPE)

    def quantization(self, tensor):
        table = self.fb.ref(self.tensors[tensor], TENSOR_QUANTIZATION)
        start, _ = self.fb.vector(table, QUANT_SCALE)
        zero_start, _ = self.fb.vector(table, QUANT_ZERO_POINT)
        return struct.unpack_from("<f", self.fb.data, start)[0], struct.unpack_from("<q", self.fb.data, zero_start)[0]

    def constant(self, tensor):
        """(position, byte length) of a tensor's constant data."""
        buffer = self.buffers[self.fb.scalar(self.tensors[tensor], TENSOR_BUFFER, "I")]
        return self.fb.vector(buffer, BUFFER_DATA)


def cut(data, size=None):
    """Patches a .tflite (bytearray) in place as the module docstring says; returns the logits tensor's index."""
    g = Graph(data)
    fb = g.fb
    keep = len(g.operators)
    while g.code(g.operators[keep - 1]) in (ARG_MAX, RESIZE_BILINEAR):
        keep -= 1
    logits = g.outputs(g.operators[keep - 1])[0]
    operators_at = fb.ref(g.graph, GRAPH_OPERATORS)
    fb.put_i32(operators_at, keep)
    fb.put_ints(g.graph, GRAPH_OUTPUTS, [logits])
    ops = g.operators[:keep]
    resize = next(op for op in g.operators if g.code(op) == RESIZE_BILINEAR)
    operators_start = operators_at + 4
    for k, op in enumerate(ops):
        if g.code(op) == TILE:
            if g.shape(g.inputs(op)[0])[1:3] != [1, 1]:
                sys.exit("TILE of a map larger than 1x1: not a broadcast")
            ops[k] = append_resize(g, operators_start + 4 * k, op, resize)
    if size:
        resize_to(g, ops, *size)
    return logits


def append_resize(g, slot, tile, resize):
    """Appends a RESIZE_BILINEAR operator doing the TILE's broadcast (TILE has no options table to patch into, so
    the new table goes at the end of the file, where forward offsets can reach it) and points the operator vector's
    slot at it. Returns the new table's position."""
    data = g.fb.data
    data.extend(bytes(-len(data) % 4))
    vtable = len(data)
    table = vtable + 16
    # Operator vtable: its size, the table's size, then the byte offsets of opcode_index, inputs, outputs,
    # builtin_options_type and builtin_options
    data.extend(struct.pack("<7H2x", 14, 24, 4, 8, 12, 20, 16))
    inputs, outputs, options = table + 24, table + 36, table + 48
    data.extend(struct.pack("<iIIIIB3x", table - vtable, g.fb.scalar(resize, OP_OPCODE, "I"), inputs - (table + 8),
                            outputs - (table + 12), options - (table + 16), g.fb.scalar(resize, OP_OPTIONS_TYPE, "B")))
    data.extend(struct.pack("<3i", 2, g.inputs(tile)[0], g.inputs(resize)[1]))
    data.extend(struct.pack("<2i", 1, g.outputs(tile)[0]))
    # ResizeBilinearOptions with every field at its default (align_corners and half_pixel_centers false): a vtable
    # of no fields, then the table
    data.extend(struct.pack("<2Hi", 4, 4, 4))
    g.fb.put_i32(slot, table - slot)
    return table


def resize_to(g, ops, height, width):
    """Rewrites the H and W of every activation tensor for a height x width input, following the strides."""
    fb = g.fb
    (source,) = fb.ints(g.graph, GRAPH_INPUTS)
    scale = {source: 1}  # tensor -> its total stride
    new = {source: [height, width]}
    full = g.shape(source)[1:3]
    for op in ops:
        code = g.code(op)
        first = g.inputs(op)[0]
        (out,) = g.outputs(op)
        if code == AVERAGE_POOL_2D and g.shape(out)[1:3] == [1, 1]:
            stride = None  # the global pool of ASPP's image pooling: a 1x1 map at any size
            options = fb.ref(op, OP_OPTIONS)
            for index, value in ((POOL_FILTER_H, new[first][0]), (POOL_FILTER_W, new[first][1])):
                fb.put_i32(fb.field(options, index), value)
        elif code in STRIDED:
            h_at, w_at = STRIDED[code]
            steps = (fb.scalar(fb.ref(op, OP_OPTIONS), h_at, "i"), fb.scalar(fb.ref(op, OP_OPTIONS), w_at, "i"))
            if steps[0] != steps[1]:
                sys.exit("unequal strides")
            stride = None if scale[first] is None else scale[first] * steps[0]
        elif code == RESIZE_BILINEAR or code == TILE:
            # every resize left is the 1x1 image pooling broadcast back to the ASPP map (stride of the backbone)
            stride = max(s for s in scale.values() if s is not None)
        elif code in (ADD, CONCATENATION, QUANTIZE):
            stride = scale[first]
        else:
            sys.exit("op %d: cannot follow shapes through it" % code)
        scale[out] = stride
        if stride is None:
            new[out] = [1, 1]
        else:
            new[out] = [-(-height // stride), -(-width // stride)]
            expected = [-(-full[0] // stride), -(-full[1] // stride)]
            if g.shape(out)[1:3] != expected:
                sys.exit("tensor %d: shape %s, expected %s at the file's size" % (out, g.shape(out), expected))
        if code in (RESIZE_BILINEAR, TILE):
            start, length = g.constant(g.inputs(op)[1])
            values = new[out] if length == 8 else [1] + new[out] + [1]
            struct.pack_into("<%di" % len(values), fb.data, start, *values)
    for tensor, (h, w) in new.items():
        shape = g.shape(tensor)
        fb.put_ints(g.tensors[tensor], TENSOR_SHAPE, [shape[0], h, w] + shape[3:])


def run(model, pixels, height, width, backend="CpuRef"):
    import pyarmnn as ann

    height, width = int(height), int(width)
    data = bytearray(open(model, "rb").read())
    logits = cut(data, (height, width))
    scale, zero = Graph(data).quantization(logits)
    with tempfile.TemporaryDirectory() as tmp:
        patched = os.path.join(tmp, "cut.tflite")
        with open(patched, "wb") as f:
            f.write(data)
        parser = ann.ITfLiteParser()
        network = parser.CreateNetworkFromBinaryFile(patched)
    input_info = parser.GetNetworkInputBindingInfo(0, parser.GetSubgraphInputTensorNames(0)[0])
    output_info = parser.GetNetworkOutputBindingInfo(0, parser.GetSubgraphOutputTensorNames(0)[0])
    runtime = ann.IRuntime(ann.CreationOptions())
    optimized, _ = ann.Optimize(network, [ann.BackendId(backend)], runtime.GetDeviceSpec(), ann.OptimizerOptions())
    net_id, _ = runtime.LoadNetwork(optimized)
    out_shape = [output_info[1].GetShape()[i] for i in range(output_info[1].GetNumDimensions())]
    images = np.fromfile(pixels, dtype=np.uint8)
    size = height * width * 3
    if images.size % size:
        sys.exit("%s: %d bytes is not a whole number of %dx%d RGB images" % (pixels, images.size, height, width))
    outputs = []
    for image in images.reshape(-1, height, width, 3):
        inputs = ann.make_input_tensors([input_info], [image[None].copy()])
        results = ann.make_output_tensors([output_info])
        runtime.EnqueueWorkload(net_id, inputs, results)
        outputs.append(ann.workload_tensors_to_ndarray(results)[0].reshape(-1).astype(int).tolist())
    print(json.dumps({"backend": backend, "shape": out_shape[1:], "scale": scale, "zeroPoint": zero,
                      "outputs": outputs}))


def main(command, *args):
    if command == "cut":
        data = bytearray(open(args[0], "rb").read())
        logits = cut(data, tuple(int(a) for a in args[2:4]) or None)
        with open(args[1], "wb") as f:
            f.write(data)
        print("output: tensor %d %s" % (logits, Graph(data).shape(logits)))
    elif command == "run":
        run(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(*sys.argv[1:])
