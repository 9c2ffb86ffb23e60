// Keeps a TFLite model's activations quantized: a QuantizeLinear/DequantizeLinear pair with the file's scale and
// zero point after every quantized activation, so that onnxruntime fuses DQ -> op -> Q into its int8 kernels
// (QLinearConv, QLinearAdd, QLinearAveragePool) and runs close to the original integer arithmetic.
import { makeNode, onnx, type Graph, type Tensor } from '../onnx-file.ts';
import { floatTensor, tensorValues } from '../tensors.ts';
import type { Activations } from './convert.ts';

const { DataType } = onnx.TensorProto;
const INT8_ACTIVATION_TOLERANCE = 0.1;

/** True when QuantizeLinear with q gives the same integers after clipping to [min, max] as without. */
function clipIsSaturated(q: Activations extends Map<string, infer T> ? T : never, min: number, max: number): boolean {
  const [qmin, qmax] = q.type === 'uint8' ? [0, 255] : [-128, 127];
  const level = (x: number) => (Number.isFinite(x) ? Math.round(x / q.scale) + q.zeroPoint : x);
  return level(min) <= qmin && level(max) >= qmax;
}

/**
 * Removes a Clip or Relu (a fused ReLU6 or ReLU) whose output is quantized to a range it does not narrow: the
 * QuantizeLinear saturates at the same integers anyway, so the values are the same. onnxruntime's ClipQuantFusion would remove it
 * too, but in some graphs (DeepLab's first conv) its rewrite leaves two nodes of one name and the model fails to
 * load; done here, nothing is left for it to do. The op before takes over the activation's name.
 */
function dropSaturatedClips(graph: Graph, activations: Activations): number {
  const constants = new Map(graph.initializer.map((t) => [t.name, t]));
  const outputs = new Set(graph.output.map((info) => info.name));
  const readers = new Map<string, number>();
  for (const node of graph.node) for (const name of node.input) readers.set(name, (readers.get(name) ?? 0) + 1);
  const value = (name: string | undefined, fallback: number) => {
    const t = name ? constants.get(name) : undefined;
    return t ? tensorValues(t)[0] : fallback;
  };
  const producers = new Map(graph.node.flatMap((node) => node.output.map((name) => [name, node] as const)));
  const dropped = new Set<ReturnType<typeof makeNode>>();
  for (const node of graph.node) {
    const q = activations.get(node.output[0]);
    // a graph output keeps its float values: no QuantizeLinear follows it
    if (!q || outputs.has(node.output[0]) || (node.opType !== 'Clip' && node.opType !== 'Relu')) continue;
    const [min, max] =
      node.opType === 'Relu' ? [0, Infinity] : [value(node.input[1], -Infinity), value(node.input[2], Infinity)];
    const before = producers.get(node.input[0]);
    if (!clipIsSaturated(q, min, max) || !before || readers.get(node.input[0]) !== 1) continue;
    before.output = before.output.map((name) => (name === node.input[0] ? node.output[0] : name));
    dropped.add(node);
  }
  graph.node = graph.node.filter((node) => !dropped.has(node));
  // their bounds, unless another node reads them too
  const bounds = new Set([...dropped].flatMap((node) => node.input.slice(1)));
  const read = new Set(graph.node.flatMap((node) => node.input));
  graph.initializer = graph.initializer.filter((t) => !bounds.has(t.name) || read.has(t.name));
  return dropped.size;
}

export function keepActivationsQuantized(graph: Graph, activations: Activations): string | undefined {
  const clips = dropSaturatedClips(graph, activations);
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
  return (
    `${pairs.length} activations kept quantized (QuantizeLinear/DequantizeLinear with the file's scales)` +
    (clips ? `; ${clips} Clip/Relu removed where quantizing saturates at their bounds (the same values)` : '')
  );
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
