// The importer: a third-party ONNX classifier (or a TFLite classifier or segmenter) in, a tagmap model folder out
// (model.onnx, card.json, golden.json), verified against the original before anything is written.
import { cardSchema, type Card, type Golden } from '../contract/card.ts';
import type { NamedTensor } from '../runtime/ort.ts';
import { convertFloat16 } from './float16.ts';
import { trunkGeometry } from './geometry.ts';
import { GraphIndex } from './graph.ts';
import { findHead } from './head-find.ts';
import { ImportError, readImportFile } from './import-error.ts';
import { importedCardHead, writeModelFolder } from './model-folder.ts';
import { fitLabels } from './label-fit.ts';
import { encodeModel, graphOf, toNumber } from './onnx-file.ts';
import { runModel } from './probe.ts';
import { rewriteToConvolutional } from './rewrite.ts';
import { inputCard, rounded } from './input-card.ts';
import { importSegmenter } from './segmenter.ts';
import { seededInput } from './seeded-input.ts';
import { loadSourceModel } from './source.ts';
import { storeQuantizedWeights } from './tflite/quantized-weights.ts';
import { keepActivationsQuantized, quantizedActivationTolerance } from './tflite/quantized-activations.ts';
import { prepareQuantized } from './quantized/import-quantized.ts';
import { ModelRunner, toleranceFor, verifyModel, type Check } from './verify.ts';
import { DEFAULT_WORDNET, WordNet } from './wordnet.ts';

export interface ImportOptions {
  file: string;
  name: string;
  labels: string;
  out: string;
  window?: number;
  color?: Card['input']['color'];
  scale?: number;
  mean?: number[];
  std?: number[];
  shortSide?: number;
  pad?: Card['input']['pad'];
  wordnet?: string;
  description?: string;
  license?: string;
  origin?: string;
  activation?: boolean;
  defaults?: Card['defaults'];
  /** WordNet ids for the labels by position (an ImageNet index JSON), for label files without them */
  wnids?: string;
  /** a vocabulary file to copy into the folder as vocabulary.json and name in the card */
  vocabulary?: string;
  /** int8 models: convert the trunk to float as well (default: keep onnxruntime's int8 kernels) */
  dequantize?: boolean;
}

export interface ImportResult {
  card: Card;
  checks: Check[];
  files: string[];
}

export async function importModel(options: ImportOptions): Promise<ImportResult> {
  const bytes = readImportFile(options.file);
  const source = loadSourceModel(bytes, options.file);
  const { model } = source;
  const rewrites: string[] = [...source.rewrites];
  // a segmenter (the TFLite converter found and cut an ARG_MAX tail) is already dense: no head to rewrite
  if (source.task === 'parse') return importSegmenter(options, bytes, source, rewrites);
  const widened = convertFloat16(model);
  if (widened) rewrites.push(widened);
  const quantized = await prepareQuantized(model, options.window, options.dequantize);
  if (quantized) rewrites.push(...quantized.rewrites);

  const index = new GraphIndex(graphOf(model));
  const inputName = index.imageInput();
  const dims = graphOf(model).input.find((info) => info.name === inputName)!.type?.tensorType?.shape?.dim ?? [];
  const fixed = dims.map((d) => (d.dimParam ? 0 : toNumber(d.dimValue ?? 0)));
  if (fixed.length !== 4 || ![1, 3].includes(fixed[1]))
    throw new ImportError(`input '${inputName}' must be [N, C, H, W] with C = 1 or 3, got [${fixed.join(', ')}]`);
  const channels = fixed[1] as 1 | 3;
  const window = options.window ?? (fixed[2] > 0 && fixed[2] === fixed[3] ? fixed[2] : undefined);
  if (!window) throw new ImportError(`input '${inputName}' has no fixed square size; pass --window N`);
  if ((fixed[2] > 0 && fixed[2] !== window) || (fixed[3] > 0 && fixed[3] !== window)) {
    throw new ImportError(`--window ${window} does not match the model's fixed input ${fixed[2]}x${fixed[3]}`);
  }
  const input = inputCard(options, source, inputName, channels, { minSide: window, shortSide: window });

  const windowInput: NamedTensor = seededInput(input, window, window, 1);
  windowInput.data = rounded(windowInput.data);
  const shapes = await runModel(model, inputName, windowInput);
  const head = findHead(index, shapes);
  const geometry = trunkGeometry(index, inputName, head.features);
  const classes = shapes.get(head.logits)!.dims[1];
  const { labels, background, notes } = fitLabels(options.labels, classes, options.wnids, source.format === 'tflite');
  const vocabulary = options.vocabulary && readImportFile(options.vocabulary);
  rewrites.push(...notes);
  const wordnet = labels.some((label) => label.wnid) ? WordNet.open(options.wordnet ?? DEFAULT_WORDNET) : undefined;

  const rewritten = rewriteToConvolutional(model, shapes, options.activation ?? true);
  rewrites.push(...rewritten.rewrites);
  if (quantized) rewrites.push(...quantized.requantizeHead(rewritten.model));
  const stored = storeQuantizedWeights(graphOf(rewritten.model), source.quantized);
  if (stored) rewrites.push(stored);
  const int8 = !options.dequantize && keepActivationsQuantized(graphOf(rewritten.model), source.activations);
  if (int8) rewrites.push(int8);
  const lastHeadOp = head.nodes.at(-1)?.opType;
  const card = cardSchema.parse({
    ...importedCardHead(
      options,
      bytes,
      rewrites,
      `a fully convolutional classifier (${classes} classes, ${window} px window)`,
    ),
    input,
    output: {
      name: head.logits,
      kind: lastHeadOp === 'Sigmoid' ? 'probabilities' : 'logits',
      activationName: rewritten.activationName,
    },
    geometry: { window, stride: geometry.stride, offset: 0, exact: geometry.exact },
    labels: labels.map((label, id) => ({
      id,
      name: label.name,
      ...(label.scientific && { scientific: label.scientific }),
      ...(label.wnid && { wnid: label.wnid, parents: wordnet!.parents(label.wnid) }),
    })),
    tasks: ['tag'],
    background,
    defaults: options.defaults,
    ...(options.vocabulary && { vocabulary: 'vocabulary.json' }),
    metrics: {},
  } satisfies Card);

  const importedBytes = encodeModel(rewritten.model);
  const originalScores = quantized ? await quantized.originalScores(windowInput) : shapes.get(head.logits)!.data;
  const golden = await makeGolden(importedBytes, card, windowInput, originalScores);
  const loose =
    quantized?.tolerance(golden.cases[0].output) ??
    (int8 ? quantizedActivationTolerance(golden.cases[0].output) : undefined);
  if (loose)
    Object.assign(golden, { tolerance: Math.max(golden.tolerance, loose.tolerance), toleranceReason: loose.why });
  const checks = await verifyModel(importedBytes, card, golden, {
    input: windowInput,
    output: Float32Array.from(golden.cases[0].output),
    source: 'the original',
    ...loose,
  });
  return writeModelFolder(options.out, {
    model: importedBytes,
    card,
    golden,
    vocabulary: vocabulary || undefined,
    checks,
  });
}

/** Case 1: the original's scores at the window size; case 2: the imported model's 3x2 map on a larger input. */
async function makeGolden(
  model: Uint8Array,
  card: Card,
  windowInput: NamedTensor,
  originalScores: Float32Array,
): Promise<Golden> {
  const { window, stride } = card.geometry;
  const larger = seededInput(card.input, window + 2 * stride, window + stride, 2);
  larger.data = rounded(larger.data);
  const runner = await ModelRunner.open(model, card);
  const map = await runner.run(larger).finally(() => runner.close());
  const classes = card.labels.length;
  const cases: Golden['cases'] = [
    {
      shape: [1, card.input.channels, window, window],
      input: [...windowInput.data],
      outputShape: [1, classes, 1, 1],
      output: [...rounded(originalScores)],
      computedBy: 'original',
    },
    {
      shape: [1, card.input.channels, larger.dims[2], larger.dims[3]],
      input: [...larger.data],
      outputShape: [1, classes, map.dims[2], map.dims[3]],
      output: [...rounded(map.data)],
      computedBy: 'imported',
    },
  ];
  return { tolerance: toleranceFor(cases.flatMap((c) => c.output)), cases };
}
