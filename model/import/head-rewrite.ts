// Rewrites a classifier head as convolutions (the trainer's FC -> conv, for files made elsewhere):
// the first fully-connected layer becomes a Conv whose kernel is the whole feature map at the window size, later ones
// 1x1 Convs; a global pool becomes a stride-1 pool with the same kernel; flattening disappears. At the window size
// the map is 1x1 and equals the original; on larger inputs every cell is the classifier on one window.
import type { Head } from './head-find.ts';
import { CHANNELWISE_OPS } from './ops.ts';
import type { GraphIndex } from './graph.ts';
import { ImportError } from './import-error.ts';
import {
  describeNode,
  floatAttribute,
  intAttribute,
  intsAttr,
  makeNode,
  type Attribute,
  type Node,
} from './onnx-file.ts';
import type { Tensors } from './probe.ts';
import { floatTensor, tensorDims, tensorValues } from './tensors.ts';

interface Constant {
  dims: number[];
  values: Float32Array<ArrayBufferLike>;
}

const POOLS: Record<string, string> = {
  GlobalAveragePool: 'AveragePool',
  ReduceMean: 'AveragePool',
  AveragePool: 'AveragePool',
  GlobalMaxPool: 'MaxPool',
  ReduceMax: 'MaxPool',
  MaxPool: 'MaxPool',
};
const BYPASSED = new Set(['Flatten', 'Reshape', 'Squeeze']);

export interface HeadRewrite {
  /** one line per change, for the card */
  rewrites: string[];
  /** true when the head is only a pool, so the map before it already holds class scores */
  poolOnly: boolean;
}

export function rewriteHead(index: GraphIndex, head: Head, shapes: Tensors): HeadRewrite {
  const graph = index.graph;
  const constant = (name: string): Constant => {
    const initializer = index.initializers.get(name);
    if (initializer) return { dims: tensorDims(initializer), values: tensorValues(initializer) };
    const computed = shapes.get(name);
    if (!computed) throw new ImportError(`constant '${name}' could not be evaluated`);
    return { dims: computed.dims, values: computed.data };
  };
  const addInitializer = (name: string, dims: number[], values: Float32Array): string => {
    graph.initializer.push(floatTensor(name, dims, values));
    return name;
  };

  let [channels, height, width] = shapes.get(head.features)!.dims.slice(1);
  let current = head.features;
  const created: Node[] = [];
  const rewrites: string[] = [];
  const emit = (opType: string, name: string, inputs: string[], output: string, attribute: Attribute[] = []) => {
    created.push(makeNode(opType, name, inputs, [output], attribute));
    current = output;
  };

  for (let i = 0; i < head.nodes.length; i++) {
    const node = head.nodes[i];
    const name = node.name || node.output[0];
    if (BYPASSED.has(node.opType)) {
      rewrites.push(`${describeNode(node)} removed: the convolutions keep the [N, C, H, W] map`);
    } else if (POOLS[node.opType]) {
      const kernel = [height, width];
      emit(POOLS[node.opType], name, [current], node.output[0], [
        intsAttr('kernel_shape', kernel),
        intsAttr('strides', [1, 1]),
      ]);
      rewrites.push(
        `${describeNode(node)} -> ${POOLS[node.opType]} ${height}x${width}, stride 1 ` +
          '(the last feature map at the window size)',
      );
      height = width = 1;
    } else if (node.opType === 'Gemm' || node.opType === 'MatMul') {
      const matrix = fullyConnected(node, constant, channels * height * width);
      let bias: Float32Array | undefined =
        node.opType === 'Gemm' && node.input[2]
          ? constant(node.input[2]).values.map((v) => v * floatAttribute(node, 'beta', 1))
          : undefined;
      let output = node.output[0];
      const next = head.nodes[i + 1];
      if (node.opType === 'MatMul' && next?.opType === 'Add') {
        bias = constant(next.input.find((input) => input !== node.output[0])!).values;
        output = next.output[0];
        i++;
      }
      const classes = matrix.classes;
      const inputs = [
        current,
        addInitializer(`${name}_conv_weight`, [classes, channels, height, width], matrix.weight),
      ];
      if (bias) inputs.push(addInitializer(`${name}_conv_bias`, [classes], expand(bias, classes, node)));
      emit('Conv', name, inputs, output, [intsAttr('kernel_shape', [height, width])]);
      rewrites.push(
        `${describeNode(node)}${output !== node.output[0] ? ` + Add '${next.name || next.output[0]}'` : ''} ` +
          `(${channels * height * width} -> ${classes}) -> Conv ${classes}x${channels}x${height}x${width}`,
      );
      channels = classes;
      height = width = 1;
    } else if (CHANNELWISE_OPS.has(node.opType)) {
      const data = index.dataInput(node);
      const inputs = node.input.map((input) =>
        input === data ? current : channelConstant(input, node, constant, addInitializer, index),
      );
      created.push({ ...makeNode(node.opType, node.name, inputs, node.output, node.attribute), domain: node.domain });
      current = node.output[0];
    } else {
      throw new ImportError(`unsupported head: ${describeNode(node)}`);
    }
  }
  if (current !== head.logits) emit('Identity', `${head.logits}_identity`, [current], head.logits);

  const removed = new Set([...head.nodes, ...head.tail]);
  graph.node = [...graph.node.filter((node) => !removed.has(node as Node)), ...created];
  for (const node of head.tail) rewrites.push(`${describeNode(node)} after the scores removed: the map holds logits`);
  return { rewrites, poolOnly: head.nodes.every((node) => POOLS[node.opType] || BYPASSED.has(node.opType)) };
}

/** The layer's weights as [classes, features] (row-major), alpha folded in. */
function fullyConnected(
  node: Node,
  constant: (name: string) => Constant,
  features: number,
): { weight: Float32Array; classes: number } {
  const { dims, values } = constant(node.input[1]);
  const transposed = node.opType === 'Gemm' && intAttribute(node, 'transB', 0) === 1;
  if (node.opType === 'Gemm' && intAttribute(node, 'transA', 0) !== 0)
    throw new ImportError(`unsupported head: ${describeNode(node)} has transA=1`);
  if (dims.length !== 2)
    throw new ImportError(
      `unsupported head: ${describeNode(node)} has a weight of shape [${dims.join(', ')}], expected 2-D`,
    );
  const [rows, cols] = dims;
  const classes = transposed ? rows : cols;
  if ((transposed ? cols : rows) !== features) {
    throw new ImportError(
      `unsupported head: ${describeNode(node)} expects ${transposed ? cols : rows} features ` +
        `but the map before it has ${features}`,
    );
  }
  const alpha = node.opType === 'Gemm' ? floatAttribute(node, 'alpha', 1) : 1;
  const weight = new Float32Array(classes * features);
  for (let k = 0; k < classes; k++) {
    for (let f = 0; f < features; f++)
      weight[k * features + f] = alpha * (transposed ? values[k * features + f] : values[f * classes + k]);
  }
  return { weight, classes };
}

function expand(bias: Float32Array<ArrayBufferLike>, classes: number, node: Node): Float32Array<ArrayBufferLike> {
  if (bias.length === classes) return bias;
  if (bias.length === 1) return new Float32Array(classes).fill(bias[0]);
  throw new ImportError(
    `unsupported head: ${describeNode(node)} has a bias of ${bias.length} values for ${classes} outputs`,
  );
}

/**
 * A per-class constant ([K] or [1, K]) of an element-wise node, reshaped to [1, K, 1, 1] so it broadcasts over
 * channels.
 */
function channelConstant(
  name: string,
  node: Node,
  constant: (name: string) => Constant,
  add: (n: string, d: number[], v: Float32Array) => string,
  index: GraphIndex,
): string {
  if (!name || node.opType === 'BatchNormalization' || node.opType === 'Dropout' || node.opType === 'Clip') return name;
  if (!index.isConstant(name)) return name;
  const { dims, values } = constant(name);
  if (values.length <= 1) return name;
  if (dims.length > 2 || (dims.length === 2 && dims[0] !== 1))
    throw new ImportError(`unsupported head: ${describeNode(node)} has a constant of shape [${dims.join(', ')}]`);
  return add(`${name}_per_channel`, node.opType === 'PRelu' ? [values.length, 1, 1] : [1, values.length, 1, 1], values);
}
