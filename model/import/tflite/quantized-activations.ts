// Keeps a TFLite model's activations quantized: a QuantizeLinear/DequantizeLinear pair with the file's scale and
// zero point after every quantized activation, so that onnxruntime fuses DQ -> op -> Q into its int8 kernels
// (QLinearConv, QLinearAdd, QLinearAveragePool) and runs close to the original integer arithmetic.
import { makeNode, onnx, type Graph, type Tensor } from '../onnx-file.ts';
import { floatTensor } from '../tensors.ts';
import type { Activations } from './convert.ts';

const { DataType } = onnx.TensorProto;
const INT8_ACTIVATION_TOLERANCE = 0.1;

export function keepActivationsQuantized(graph: Graph, activations: Activations): string | undefined {
  const outputs = new Set(graph.output.map((info) => info.name));
  const produced = new Set([...graph.node.flatMap((node) => node.output), ...graph.input.map((info) => info.name)]);
  const pairs = [...activations].filter(([name]) => produced.has(name) && !outputs.has(name));
  if (!pairs.length) return undefined;
  const renamed = new Map<string, string>();
  const constants: Tensor[] = [];
  const inserted = new Map<string, ReturnType<typeof makeNode>[]>();
  for (const [name, q] of pairs) {
    const type = q.type === 'uint8' ? DataType.UINT8 : DataType.INT8;
    constants.push(
      floatTensor(`${name}_act_scale`, [], Float32Array.of(q.scale)),
      onnx.TensorProto.create({
        name: `${name}_act_zero_point`,
        dims: [],
        dataType: type,
        rawData: Uint8Array.of(q.zeroPoint & 0xff),
      }),
    );
    const params = [`${name}_act_scale`, `${name}_act_zero_point`];
    inserted.set(name, [
      makeNode('QuantizeLinear', `${name}_quantize`, [name, ...params], [`${name}_q`]),
      makeNode('DequantizeLinear', `${name}_dequantize_act`, [`${name}_q`, ...params], [`${name}_dq`]),
    ]);
    renamed.set(name, `${name}_dq`);
  }
  for (const node of graph.node) node.input = node.input.map((input) => renamed.get(input) ?? input);
  const nodes = [...(graph.input.flatMap((info) => inserted.get(info.name) ?? []) ?? [])];
  for (const node of graph.node) nodes.push(node, ...node.output.flatMap((output) => inserted.get(output) ?? []));
  graph.node = nodes;
  graph.initializer.push(...constants);
  return `${pairs.length} activations kept quantized (QuantizeLinear/DequantizeLinear with the file's scales)`;
}

/** The window check's bound against the float conversion: int8 activations round every layer, as the file does. */
export function quantizedActivationTolerance(originalScores: ArrayLike<number>): { tolerance: number; why: string } {
  const largest = Math.max(1, ...Array.from(originalScores, Math.abs));
  return {
    tolerance: INT8_ACTIVATION_TOLERANCE * largest,
    why:
      `${INT8_ACTIVATION_TOLERANCE} of the largest score: the int8 activations round every layer as the TFLite file ` +
      'does, the float conversion does not (the test checks both against Arm NN)',
  };
}
