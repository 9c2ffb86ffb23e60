// Makes a float32 classifier fully convolutional: the head as convolutions, a trailing softmax dropped, the input's
// batch, height and width freed, the class map (and optionally the map before a pooling head) as outputs.
import { GraphIndex, pruneUnused } from './graph.ts';
import { findHead } from './head-find.ts';
import { rewriteHead } from './head-rewrite.ts';
import { cloneModel, graphOf, makeNode, onnx, toNumber, type Model } from './onnx-file.ts';
import type { Tensors } from './probe.ts';

const ACTIVATION_OUTPUT = 'activation';

export interface Rewritten {
  model: Model;
  rewrites: string[];
  /** the class activation map output, when the head is only a pool and the caller asked for it */
  activationName?: string;
}

const { FLOAT } = onnx.TensorProto.DataType;
const valueInfo = (name: string, dims: Array<number | string>) =>
  onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });

/** shapes: every node output of the float32 original at the window size (from probe.runModel). */
export function rewriteToConvolutional(original: Model, shapes: Tensors, exposeActivation: boolean): Rewritten {
  const model = cloneModel(original);
  const graph = graphOf(model);
  const index = new GraphIndex(graph);
  const input = index.imageInput();
  const head = findHead(index, shapes);
  const { rewrites, poolOnly } = rewriteHead(index, head, shapes);

  const classes = shapes.get(head.logits)!.dims[1];
  graph.output = [valueInfo(head.logits, ['N', classes, 'rows', 'cols'])];
  let activationName: string | undefined;
  if (exposeActivation && poolOnly) {
    activationName = ACTIVATION_OUTPUT;
    graph.node.push(makeNode('Identity', 'activation_output', [head.features], [activationName]));
    graph.output.push(valueInfo(activationName, ['N', classes, 'H', 'W']));
    rewrites.push(
      `the map before the pool ('${head.features}') exposed as output '${activationName}' (class activation map)`,
    );
  }

  const inputInfo = graph.input.find((info) => info.name === input)!;
  const tensorType = inputInfo.type!.tensorType!;
  const channels = toNumber(tensorType.shape!.dim![1].dimValue!);
  tensorType.shape = { dim: [{ dimParam: 'N' }, { dimValue: channels }, { dimParam: 'H' }, { dimParam: 'W' }] };
  rewrites.push(`input '${input}': batch, height and width freed`);
  graph.valueInfo = [];
  pruneUnused(graph);
  return { model, rewrites, activationName };
}
