// Where the int8 trunk ends and the head begins: walking back from the output to the last map with more than one
// cell at the window size. The head (that map's consumers and everything after them, plus the constants they
// read) is converted to float; the trunk keeps onnxruntime's int8 kernels.
import { GraphIndex } from '../graph.ts';
import { ImportError } from '../import-error.ts';
import type { Graph, Node } from '../onnx-file.ts';
import type { Tensors } from '../probe.ts';
import type { FloatEntry } from './dequantize-graph.ts';
import { scaleInputOf } from './qlinear-ops.ts';

export interface HeadScope {
  /** the last spatial map, [1, C, h, w] at the window size */
  features: string;
  nodes: Set<Node>;
  /** the features, when int8, dequantized as the head's first node */
  entries: FloatEntry[];
}

export function quantizedHead(graph: Graph, shapes: Tensors): HeadScope {
  const index = new GraphIndex(graph);
  let features = graph.output[0].name;
  for (;;) {
    const dims = shapes.get(features)?.dims ?? [];
    if (dims.length === 4 && dims[2] * dims[3] > 1) break;
    const producer = index.producers.get(features);
    const data = producer?.input.find((input) => input && !index.isConstant(input));
    if (!producer || !data)
      throw new ImportError(
        `no classifier head: the walk back from output '${graph.output[0].name}' found no map with more than ` +
          'one cell at the window size',
      );
    features = data;
  }

  const nodes = new Set<Node>();
  const inHead = new Set([features]);
  for (const node of graph.node) {
    if (!node.input.some((input) => inHead.has(input))) continue;
    nodes.add(node);
    for (const output of node.output) inHead.add(output);
  }
  // constants computed for the head (DequantizeLinear of its weights) move with it
  for (const node of [...graph.node].reverse()) {
    const feedsHead = node.output.some((output) => [...nodes].some((n) => n.input.includes(output)));
    if (!nodes.has(node) && feedsHead && node.input.every((input) => !input || index.isConstant(input)))
      nodes.add(node);
  }

  const entries: FloatEntry[] = [];
  for (const node of nodes) {
    const at = node.input.indexOf(features);
    const scaleAt = at < 0 ? undefined : scaleInputOf(node, at);
    if (scaleAt !== undefined) {
      entries.push({ tensor: features, node, scaleAt });
      break;
    }
  }
  return { features, nodes, entries };
}
