// Stores weights (8-bit) and biases (int32) that were integers in the source file as those integers plus a
// DequantizeLinear node: the same float32 values ((q - zero_point) * scale, computed as onnxruntime does) in a
// quarter of the bytes. With quantized activations onnxruntime fuses them into its int8 kernels; in an all-float
// graph it keeps them (it does not fold DequantizeLinear) and dequantizes once per run.
import { makeNode, onnx, type Graph, type Tensor } from '../onnx-file.ts';
import { floatTensor, tensorDims, tensorValues } from '../tensors.ts';
import type { QuantizedWeight } from './weights.ts';
import { intAttr } from './onnx-builder.ts';

const { DataType } = onnx.TensorProto;

function dequantized(q: QuantizedWeight, dims: number[]): Float32Array {
  const out = new Float32Array(q.data.length);
  const inner = q.scale.length > 1 ? dims.slice(q.axis + 1).reduce((a, b) => a * b, 1) : q.data.length;
  const scales = Float32Array.from(q.scale);
  for (let i = 0; i < out.length; i++) {
    const c = q.scale.length > 1 ? Math.floor(i / inner) % dims[q.axis] : 0;
    out[i] = (q.data[i] - q.zeroPoint[c]) * scales[c];
  }
  return out;
}

const equal = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/**
 * The integers behind a float initializer: by name, else (a head rewrite renames the weights it reshapes) the
 * quantized weight whose values it holds exactly, in the same order.
 */
function integersFor(tensor: Tensor, quantized: Map<string, QuantizedWeight>): QuantizedWeight | undefined {
  const dims = tensorDims(tensor);
  const count = dims.reduce((a, b) => a * b, 1);
  const candidates = quantized.has(tensor.name)
    ? [quantized.get(tensor.name)!]
    : [...quantized.values()].filter((q) => q.data.length === count);
  if (!candidates.length) return undefined;
  const values = tensorValues(tensor);
  return candidates.find(
    (q) => (q.scale.length === 1 || dims[q.axis] === q.scale.length) && equal(dequantized(q, dims), values),
  );
}

/** Rewrites the graph in place; returns the line for the card's rewrites (undefined when nothing was stored). */
export function storeQuantizedWeights(graph: Graph, quantized: Map<string, QuantizedWeight>): string | undefined {
  if (!quantized.size) return undefined;
  const kept: Tensor[] = [];
  const nodes = [];
  let bytes = 0;
  for (const tensor of graph.initializer) {
    const q = tensor.dataType === DataType.FLOAT ? integersFor(tensor, quantized) : undefined;
    if (!q) {
      kept.push(tensor);
      continue;
    }
    const dims = tensorDims(tensor);
    const type =
      q.data instanceof Uint8Array ? DataType.UINT8 : q.data instanceof Int8Array ? DataType.INT8 : DataType.INT32;
    const perChannel = q.scale.length > 1;
    const zeroBytes =
      type === DataType.INT32
        ? new Uint8Array(Int32Array.from(q.zeroPoint).buffer)
        : Uint8Array.from(q.zeroPoint, (z) => z & 0xff);
    const name = tensor.name;
    kept.push(
      onnx.TensorProto.create({
        name: `${name}_int`,
        dims,
        dataType: type,
        rawData: new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.byteLength),
      }),
      floatTensor(`${name}_scale`, perChannel ? [q.scale.length] : [], Float32Array.from(q.scale)),
      onnx.TensorProto.create({
        name: `${name}_zero_point`,
        dims: perChannel ? [q.scale.length] : [],
        dataType: type,
        rawData: zeroBytes,
      }),
    );
    nodes.push(
      makeNode(
        'DequantizeLinear',
        `${name}_dequantize`,
        [`${name}_int`, `${name}_scale`, `${name}_zero_point`],
        [name],
        perChannel ? [intAttr('axis', q.axis)] : [],
      ),
    );
    bytes += q.data.byteLength;
  }
  graph.initializer = kept;
  graph.node = [...nodes, ...graph.node];
  return (
    `${nodes.length} weights and biases stored as their original integers (${(bytes / 1e6).toFixed(2)} MB) + ` +
    'DequantizeLinear (the same float32 values)'
  );
}
