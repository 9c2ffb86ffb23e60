// Finds the classifier head: the chain of nodes from the last spatial feature map to the output. Walking back from
// the output it passes a trailing Softmax, the fully-connected layers and their activations, then the node that
// collapses the map (Flatten, Reshape, Squeeze, a global pool or a spatial ReduceMean/ReduceMax), and a pool over
// the whole map just before it.
import type { GraphIndex } from './graph.ts';
import { ImportError } from './import-error.ts';
import { describeNode, intAttribute, intsAttribute, stringAttribute, type Node } from './onnx-file.ts';
import { CHANNELWISE_OPS } from './ops.ts';
import type { Tensors } from './probe.ts';

/** Nodes after the logits that are dropped: the map keeps logits, the runtime applies softmax per cell. */
const TAIL_OPS = new Set(['Softmax', 'LogSoftmax', 'Identity']);
/** Nodes that turn the [N, C, h, w] feature map into a vector. */
const COLLAPSE_OPS = new Set([
  'Flatten',
  'Reshape',
  'Squeeze',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'ReduceMean',
  'ReduceMax',
]);
const FC_OPS = new Set(['Gemm', 'MatMul']);

export interface Head {
  /** the last spatial feature map, [1, C, h, w] at the window size */
  features: string;
  /** the head's nodes in forward order, from the features to the logits */
  nodes: Node[];
  /** the tensor that becomes the class map */
  logits: string;
  /** trailing nodes removed after the logits (Softmax and the like) */
  tail: Node[];
}

const dimsOf = (shapes: Tensors, name: string): number[] => shapes.get(name)?.dims ?? [];

function isSpatialReduce(node: Node, shapes: Tensors): boolean {
  if (node.opType !== 'ReduceMean' && node.opType !== 'ReduceMax') return true;
  const rank = dimsOf(shapes, node.input[0]).length;
  const axes = (intsAttribute(node, 'axes') ?? []).map((axis) => (axis < 0 ? axis + rank : axis)).sort();
  return rank === 4 && axes.join() === '2,3';
}

/**
 * A MaxPool or AveragePool whose kernel is the whole map at the window size (how PyTorch exports
 * AdaptiveMaxPool2d(1)) is a global pool: returns its input, the real features.
 */
function wholeMapPool(node: Node, shapes: Tensors): string | undefined {
  if (node.opType !== 'MaxPool' && node.opType !== 'AveragePool') return undefined;
  const [, , height, width] = dimsOf(shapes, node.input[0]);
  const kernel = intsAttribute(node, 'kernel_shape') ?? [];
  const unpadded =
    (intsAttribute(node, 'pads') ?? []).every((pad) => pad === 0) &&
    stringAttribute(node, 'auto_pad', 'NOTSET') === 'NOTSET';
  return kernel[0] === height && kernel[1] === width && unpadded ? node.input[0] : undefined;
}

export function findHead(index: GraphIndex, shapes: Tensors): Head {
  const graph = index.graph;
  let logits = graph.output[0].name;
  let node = index.producers.get(logits);
  const tail: Node[] = [];
  while (node && TAIL_OPS.has(node.opType)) {
    tail.unshift(node);
    logits = index.dataInput(node);
    node = index.producers.get(logits);
  }

  const nodes: Node[] = [];
  for (;;) {
    if (!node)
      throw new ImportError(
        `no classifier head: the walk back from output '${graph.output[0].name}' reached the input ` +
          'without a Flatten, Reshape, global pool or ReduceMean',
      );
    if (COLLAPSE_OPS.has(node.opType)) {
      if (!isSpatialReduce(node, shapes))
        throw new ImportError(`unsupported head: ${describeNode(node)} does not reduce over H and W (axes 2, 3)`);
      if (node.opType === 'Flatten' && intAttribute(node, 'axis', 1) !== 1)
        throw new ImportError(
          `unsupported head: ${describeNode(node)} flattens from axis ${intAttribute(node, 'axis', 1)}, not 1`,
        );
      nodes.unshift(node);
      const features = index.dataInput(node);
      const producer = index.producers.get(features);
      if (producer && COLLAPSE_OPS.has(producer.opType)) {
        node = producer;
        continue;
      }
      const pool = producer && wholeMapPool(producer, shapes);
      if (pool) {
        nodes.unshift(producer);
        return { features: pool, nodes, logits, tail };
      }
      const dims = dimsOf(shapes, features);
      if (dims.length !== 4)
        throw new ImportError(
          `unsupported head: ${describeNode(node)} collapses a tensor of shape [${dims.join(', ')}], ` +
            'expected [N, C, H, W]',
        );
      return { features, nodes, logits, tail };
    }
    if (!FC_OPS.has(node.opType) && !CHANNELWISE_OPS.has(node.opType)) {
      const where = nodes.length ? `between the features and ${describeNode(nodes[0])}` : `at the output '${logits}'`;
      throw new ImportError(
        `${nodes.some((n) => FC_OPS.has(n.opType)) ? 'unsupported head' : 'no classifier head'}: ` +
          `${describeNode(node)} ${where}; ` +
          'tagmap rewrites Flatten/Reshape -> Gemm or MatMul (+Add), later fully-connected layers, ' +
          'and GlobalAveragePool/GlobalMaxPool/ReduceMean heads',
      );
    }
    nodes.unshift(node);
    node = index.producers.get(index.dataInput(node));
  }
}
