// Reshapes written for one input size, made size-free. In the trunk, a Reshape that keeps the last two (spatial)
// dims, such as ShuffleNet's channel shuffle, takes them from its input at run time; in the head, a Reshape to
// [N, features] (PyTorch's x.reshape(x.size(0), -1), computed from Shape) becomes Flatten, moved before the Clip
// that a quantized pool leaves in front of it, so the head finder sees pool -> Flatten -> fully-connected.
import { ImportError } from '../import-error.ts';
import { describeNode, makeNode, onnx, type Graph, type Node, type Tensor } from '../onnx-file.ts';
import type { Tensors } from '../probe.ts';
import { intValues } from './int-tensors.ts';

const int64Tensor = (name: string, values: number[]): Tensor => {
  const rawData = new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer);
  return onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData });
};

const product = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

/** Returns one line per kind of change for the card. */
/** head: the outputs of the head's nodes (a Reshape there flattens; elsewhere it is in the trunk). */
export function fixReshapes(graph: Graph, shapes: Tensors, head: Set<string>): string[] {
  const initializers = new Map(graph.initializer.map((tensor) => [tensor.name, tensor as Tensor]));
  const nodes: Node[] = [];
  let freed = 0;
  const lines: string[] = [];
  for (const node of graph.node) {
    const input = shapes.get(node.input[0])?.dims ?? [];
    const output = shapes.get(node.output[0])?.dims ?? [];
    const inHead = head.has(node.output[0]);
    if (node.opType === 'Reshape' && inHead && output.length === 2 && output[1] === product(input.slice(1))) {
      nodes.push(makeNode('Flatten', node.name, [node.input[0]], node.output));
      lines.push(`${describeNode(node)} to [N, ${output[1]}] -> Flatten`);
    } else if (node.opType === 'Reshape' && !inHead && keepsSpatialDims(node, input, initializers)) {
      nodes.push(...sizeFreeReshape(node, input, initializers.get(node.input[1])!, graph));
      freed++;
    } else nodes.push(node);
  }
  graph.node = moveClipsAfterFlatten(nodes);
  if (freed) lines.push(`${freed} Reshape nodes of the trunk take H and W from their input (size-free)`);
  return lines;
}

function keepsSpatialDims(node: Node, input: number[], initializers: Map<string, Tensor>): boolean {
  const shape = initializers.get(node.input[1]);
  if (!shape || input.length < 4 || product(input.slice(-2)) <= 1) return false;
  const target = intValues(shape);
  return target.length >= 3 && target.at(-2) === input.at(-2) && target.at(-1) === input.at(-1);
}

/** shape = [batch copied (0), the middle dims as they were, H and W of the input at run time]. */
function sizeFreeReshape(node: Node, input: number[], shape: Tensor, graph: Graph): Node[] {
  const name = node.name || node.output[0];
  const target = intValues(shape);
  if (target[0] !== input[0] && target[0] !== 0)
    throw new ImportError(`unsupported trunk: ${describeNode(node)} changes the batch dimension`);
  const rank = input.length;
  graph.initializer.push(int64Tensor(`${name}_spatial_axes`, [rank - 2, rank - 1]));
  graph.initializer.push(int64Tensor(`${name}_fixed_dims`, [0, ...target.slice(1, -2)]));
  return [
    makeNode('Shape', `${name}_input_shape`, [node.input[0]], [`${name}_input_shape`]),
    makeNode('Gather', `${name}_spatial`, [`${name}_input_shape`, `${name}_spatial_axes`], [`${name}_spatial`]),
    {
      ...makeNode('Concat', `${name}_shape`, [`${name}_fixed_dims`, `${name}_spatial`], [`${name}_shape`]),
      attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 })],
    } as Node,
    { ...node, input: [node.input[0], `${name}_shape`] },
  ];
}

/** Flatten(Clip(x)) -> Clip(Flatten(x)): the same values, with the Clip now on the vector the FC layers read. */
function moveClipsAfterFlatten(nodes: Node[]): Node[] {
  const consumers = (name: string) => nodes.filter((node) => node.input.includes(name)).length;
  for (let j = 0; j < nodes.length; j++) {
    const flatten = nodes[j];
    if (flatten.opType !== 'Flatten') continue;
    const i = nodes.findIndex((node) => node.opType === 'Clip' && node.output[0] === flatten.input[0]);
    if (i < 0 || consumers(flatten.input[0]) !== 1) continue;
    const clip = nodes[i];
    nodes[i] = { ...flatten, input: [clip.input[0], ...flatten.input.slice(1)], output: [clip.output[0]] } as Node;
    nodes[j] = { ...clip, input: [clip.output[0], ...clip.input.slice(1)], output: flatten.output } as Node;
  }
  return nodes;
}
