// The head's fully-connected layer back in int8 after the float rewrite made it a Conv: a QLinearConv with the
// original int8 weights and scales, between QuantizeLinear and DequantizeLinear. On a dense map that layer runs once
// per cell; in float it cost about as much as the whole int8 trunk, and it made the file 4 MB larger.
import {
  describeNode,
  graphOf,
  makeNode,
  onnx,
  toNumber,
  type Graph,
  type Model,
  type Node,
  type Tensor,
} from '../onnx-file.ts';
import { tensorValues } from '../tensors.ts';
import { intValues } from './int-tensors.ts';

interface Params {
  scale: Tensor;
  zero?: Tensor;
}

/** A quantized matrix product of the original head and the quantization of its input, weight and output. */
export interface IntLayer {
  /** the name of the node the float head rewrite turns into a Conv */
  node: string;
  input: Params;
  weight: Params;
  output: Params;
}

/** The head's QLinearMatMul nodes, and the MatMul/Gemm nodes between DequantizeLinear and QuantizeLinear (QDQ). */
export function findIntLayers(graph: Graph, head: Set<Node>): IntLayer[] {
  const constants = new Map(graph.initializer.map((t) => [t.name, t as Tensor]));
  const producer = (name: string) => graph.node.find((node) => node.output.includes(name));
  const params = (node: Node | undefined, at: number): Params | undefined => {
    const scale = node && constants.get(node.input[at]);
    return scale && { scale, zero: constants.get(node.input[at + 1]) };
  };
  const layers: IntLayer[] = [];
  for (const node of head) {
    let found: Array<Params | undefined> = [];
    let name = node.name || node.output[0];
    if (node.opType === 'QLinearMatMul' && constants.has(node.input[3])) {
      found = [params(node, 1), params(node, 4), params(node, 6)];
      name = `${name}_float`;
    } else if (node.opType === 'MatMul' || (node.opType === 'Gemm' && !node.input[2])) {
      const [input, weight] = node.input.map(producer);
      const consumers = graph.node.filter((n) => n.input.includes(node.output[0]));
      const quantize = consumers.length === 1 && consumers[0].opType === 'QuantizeLinear' ? consumers[0] : undefined;
      const isDequantize = (n?: Node) => n?.opType === 'DequantizeLinear';
      if (isDequantize(input) && isDequantize(weight) && constants.has(weight!.input[0]))
        found = [params(input, 1), params(weight, 1), params(quantize, 1)];
    }
    if (found.length && found.every(Boolean))
      layers.push({ node: name, input: found[0]!, weight: found[1]!, output: found[2]! });
  }
  return layers;
}

const quantizedDataType = (zero?: Tensor) => zero?.dataType ?? onnx.TensorProto.DataType.UINT8;

/** Turns each layer's Conv into a QLinearConv; a Conv that took a float bias from a merged Add stays float. */
export function requantizeHead(model: Model, layers: IntLayer[]): string[] {
  const graph = graphOf(model);
  const lines: string[] = [];
  for (const layer of layers) {
    const at = graph.node.findIndex((node) => node.opType === 'Conv' && node.name === layer.node);
    const conv = graph.node[at];
    if (!conv || conv.input[2]) continue;
    const weight = graph.initializer.find((t) => t.name === conv.input[1]) as Tensor;
    const prefix = conv.name;
    const integers = weight && quantizeWeight(weight, layer.weight, `${prefix}_weight_quantized`);
    if (!integers) continue;
    const param = (role: string, p: Params) => {
      const scale = { ...p.scale, name: `${prefix}_${role}_scale` } as Tensor;
      const zero = p.zero && ({ ...p.zero, name: `${prefix}_${role}_zero_point` } as Tensor);
      graph.initializer.push(...[scale, zero].filter((t): t is Tensor => !!t));
      return [scale.name, ...(zero ? [zero.name] : [])];
    };
    const [input, output] = [param('input', layer.input), param('output', layer.output)];
    const weightParams = param('weight', layer.weight);
    graph.initializer.push(integers);
    const y = conv.output[0];
    // QLinearConv itself, not Q/DQ around a Conv: per-channel DequantizeLinear needs opset 13, these files are 12
    const nodes = [
      makeNode('QuantizeLinear', `${prefix}_input_q`, [conv.input[0], ...input], [`${prefix}_input_q`]),
      makeNode(
        'QLinearConv',
        prefix,
        [`${prefix}_input_q`, ...input, `${prefix}_weight_quantized`, ...weightParams, ...output],
        [`${prefix}_output_q`],
        conv.attribute,
      ),
      makeNode('DequantizeLinear', `${prefix}_output_dq`, [`${prefix}_output_q`, ...output], [y]),
    ];
    graph.node.splice(at, 1, ...nodes);
    lines.push(`${describeNode(conv)} -> QLinearConv with the original int8 weights and scales`);
  }
  graph.initializer = graph.initializer.filter((t) => graph.node.some((node) => node.input.includes(t.name)));
  return lines;
}

/**
 * round(w / scale) + zero point per output channel; undefined unless that gives back exactly the float weights
 * (they were dequantized from these integers, unless a Gemm's alpha or another axis changed them).
 */
function quantizeWeight(weight: Tensor, params: Params, name: string): Tensor | undefined {
  const dims = weight.dims.map(toNumber);
  const values = tensorValues(weight);
  const scale = tensorValues(params.scale);
  const zero = params.zero ? intValues(params.zero) : [0];
  const perChannel = values.length / dims[0];
  const pick = <T>(list: ArrayLike<T>, channel: number) => list[list.length > 1 ? channel : 0];
  const q = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const channel = Math.floor(i / perChannel);
    const [s, z] = [pick(scale, channel), pick(zero, channel)];
    q[i] = Math.round(values[i] / s) + z;
    if (Math.fround((q[i] - z) * s) !== values[i]) return undefined;
  }
  const dataType = quantizedDataType(params.zero);
  const rawData =
    dataType === onnx.TensorProto.DataType.INT8 ? new Uint8Array(Int8Array.from(q).buffer) : Uint8Array.from(q);
  return onnx.TensorProto.create({ name, dims, dataType, rawData });
}
