// Where the class map's cells sit: the stride (product of the conv and pool strides from the input to the features)
// and whether every cell equals the classifier on its crop exactly (no padding, no ceil-mode pooling, only local ops).
import type { GraphIndex } from './graph.ts';
import { ImportError } from './import-error.ts';
import { CHANNELWISE_OPS } from './ops.ts';
import { describeNode, intAttribute, intsAttribute, stringAttribute, type Node } from './onnx-file.ts';

const STRIDED_OPS = new Set(['Conv', 'MaxPool', 'AveragePool', 'LpPool', 'QLinearConv', 'QLinearAveragePool']);
/** Ops whose output at a position depends only on the input around it, the same way everywhere. */
const LOCAL_OPS = new Set([...STRIDED_OPS, ...CHANNELWISE_OPS, 'Concat', 'Sum', 'Max', 'Min', 'LRN', 'Cast']);

export interface TrunkGeometry {
  stride: number;
  exact: boolean;
  padded: string[];
}

const isPadded = (node: Node): boolean =>
  (intsAttribute(node, 'pads') ?? []).some((pad) => pad !== 0) ||
  !['NOTSET', 'VALID'].includes(stringAttribute(node, 'auto_pad', 'NOTSET')) ||
  intAttribute(node, 'ceil_mode', 0) === 1;

/** Follows the image from the input to the features (nodes are in topological order in a valid ONNX graph). */
export function trunkGeometry(index: GraphIndex, input: string, features: string): TrunkGeometry {
  const strides = new Map<string, number>([[input, 1]]);
  let exact = true;
  const padded: string[] = [];
  for (const node of index.graph.node) {
    const fed = node.input.filter((name) => strides.has(name));
    if (fed.length === 0) continue;
    let stride = Math.max(...fed.map((name) => strides.get(name)!));
    if (STRIDED_OPS.has(node.opType)) {
      const [sh, sw] = intsAttribute(node, 'strides') ?? [1, 1];
      if (sh !== sw)
        throw new ImportError(`${describeNode(node)} has strides ${sh}x${sw}; only square strides are supported`);
      stride *= sh;
    }
    if (!LOCAL_OPS.has(node.opType) || isPadded(node)) {
      exact = false;
      padded.push(describeNode(node as Node));
    }
    for (const output of node.output) strides.set(output, stride);
    if (node.output.includes(features)) break;
  }
  const stride = strides.get(features);
  if (stride === undefined) throw new ImportError(`the features '${features}' do not depend on the input '${input}'`);
  return { stride, exact, padded };
}
