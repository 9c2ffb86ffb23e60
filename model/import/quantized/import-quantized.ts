// The importer's step for int8 ONNX (QDQ or QOperator), run right after decoding: the int8 trunk stays as it is
// (onnxruntime's int8 kernels were 1.4 to 3.7x faster than a dequantized float trunk on 640x480 inputs, see
// docs/models.md), the head is converted to float so the float head finder and rewrite take it (then its
// fully-connected layer goes back to int8), and fixed-size reshapes are freed.
import type { NamedTensor } from '../../runtime/ort.ts';
import { GraphIndex, pruneUnused } from '../graph.ts';
import { ImportError } from '../import-error.ts';
import { cloneModel, graphOf, toNumber, type Model } from '../onnx-file.ts';
import { runModel } from '../probe.ts';
import { dequantizeModel, isQuantized } from './dequantize-graph.ts';
import { findIntLayers, requantizeHead } from './head-requantize.ts';
import { quantizedHead } from './head-scope.ts';
import { fixReshapes } from './reshape-fixes.ts';

/**
 * How far the imported model's scores may be from the int8 original's, relative to the largest score: the import
 * computes in float what the original rounds to int8 (the head's pooling and additions; with --dequantize, every
 * layer). Measured on real photos at 224 px by scripts/measure-int8.ts (docs/models.md): at most 0.011 and 0.31.
 */
const HEAD_TOLERANCE = 0.05;
const WHOLE_GRAPH_TOLERANCE = 0.5;

export interface QuantizedModel {
  rewrites: string[];
  /** the int8 original's scores (its graph output) on an input */
  originalScores(input: NamedTensor): Promise<Float32Array>;
  /** after the float head rewrite: its fully-connected layer back in int8 (a QLinearConv) */
  requantizeHead(model: Model): string[];
  /** the window check's bound against those scores, with its reason */
  tolerance(originalScores: ArrayLike<number>): { tolerance: number; why: string };
}

function tolerance(originalScores: ArrayLike<number>, wholeGraph: boolean): { tolerance: number; why: string } {
  let largest = 1;
  for (let i = 0; i < originalScores.length; i++) largest = Math.max(largest, Math.abs(originalScores[i]));
  const relative = wholeGraph ? WHOLE_GRAPH_TOLERANCE : HEAD_TOLERANCE;
  const where = wholeGraph ? 'every layer' : 'the pooling and additions of its head';
  return {
    tolerance: relative * largest,
    why: `${relative} of the largest score: the int8 original rounds ${where} to int8, the import computes it in float`,
  };
}

/**
 * Converts in place and returns what was done; undefined (and nothing changed) for a model without int8 ops.
 * wholeGraph: dequantize the trunk too (a float model: slower on the CPU, for providers without int8 kernels).
 */
export async function prepareQuantized(
  model: Model,
  window: number | undefined,
  wholeGraph = false,
): Promise<QuantizedModel | undefined> {
  if (!isQuantized(model)) return undefined;
  const original = cloneModel(model);
  // every scale and zero point is read once here, so a bad one is an ImportError naming its node, not an
  // onnxruntime failure later (the kept int8 trunk is otherwise not read by tagmap)
  if (!wholeGraph) dequantizeModel(cloneModel(model), undefined, [], true);
  const graph = graphOf(model);
  const inputName = new GraphIndex(graph).imageInput();
  const dims = graph.input.find((info) => info.name === inputName)?.type?.tensorType?.shape?.dim ?? [];
  const [, channels, height, width] = dims.map((d) => (d.dimParam ? 0 : toNumber(d.dimValue ?? 0)));
  // the declared size when there is one (a --window that differs is the importer's error to report)
  const h = height || window;
  const w = width || window;
  if (!channels || !h || !w) throw new ImportError(`input '${inputName}' has no fixed size; pass --window N`);
  const probe = { dims: [1, channels, h, w], data: new Float32Array(channels * h * w) };
  const shapes = await runModel(model, inputName, probe);

  const head = quantizedHead(graph, shapes);
  const headOutputs = new Set([...head.nodes].flatMap((node) => node.output));
  const layers = wholeGraph ? [] : findIntLayers(graph, head.nodes);
  const rewrites = [
    wholeGraph
      ? 'int8 graph converted to float (--dequantize):'
      : `int8 trunk kept up to '${head.features}' (onnxruntime's int8 kernels); the head converted to float:`,
    ...dequantizeModel(model, wholeGraph ? undefined : head.nodes, wholeGraph ? [] : head.entries),
    ...fixReshapes(graph, shapes, headOutputs),
  ];
  pruneUnused(graph);
  const outputName = graphOf(original).output[0].name;
  return {
    rewrites,
    requantizeHead: (rewritten) => requantizeHead(rewritten, layers),
    tolerance: (scores) => tolerance(scores, wholeGraph),
    originalScores: async (input) => (await runModel(original, inputName, input, [outputName])).get(outputName)!.data,
  };
}
