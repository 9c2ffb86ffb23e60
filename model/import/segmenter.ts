// Imports a segmenter (a TFLite DeepLab whose ARG_MAX tail the converter cut): its logits map is already dense, so
// no head is rewritten; the input and output sizes are freed, the weights and int8 activations kept as in the file,
// and the model is checked at the file's size against the float conversion and at other sizes for its grid.
import { cardSchema, type Card, type Golden } from '../contract/card.ts';
import type { NamedTensor } from '../runtime/ort.ts';
import { trunkGeometry } from './geometry.ts';
import { GraphIndex } from './graph.ts';
import { ImportError, readImportFile } from './import-error.ts';
import { importedCardHead, writeModelFolder } from './model-folder.ts';
import type { ImportOptions, ImportResult } from './importer.ts';
import { inputCard, rounded } from './input-card.ts';
import { cloneModel, encodeModel, graphOf, onnx, toNumber, type Model } from './onnx-file.ts';
import { fitSegmenterLabels } from './segmenter-labels.ts';
import { seededInput } from './seeded-input.ts';
import type { SourceModel } from './source.ts';
import { keepActivationsQuantized, quantizedActivationTolerance } from './tflite/quantized-activations.ts';
import { storeQuantizedWeights } from './tflite/quantized-weights.ts';
import { ModelRunner, toleranceFor, verifyModel, type Check } from './verify.ts';
import { vocColor } from './voc-colors.ts';

/** Input sizes (height, width) that must run, beside the smallest one: odd and even, square and not. */
const SIZES_CHECKED = [
  [129, 129],
  [257, 385],
  [641, 481],
];

const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
const shapeOf = (dims: Array<number | string>) => ({
  tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map(dim) } },
});

/** The model with its input's batch, height and width free, and its output's map size free. */
function freeSizes(model: Model, channels: number, classes: number): Model {
  const copy = cloneModel(model);
  const graph = graphOf(copy);
  graph.input[0].type = shapeOf(['N', channels, 'H', 'W']) as never;
  graph.output[0].type = shapeOf(['N', classes, 'rows', 'cols']) as never;
  graph.valueInfo = [];
  return copy;
}

async function runOnce(model: Uint8Array, card: Card, input: NamedTensor): Promise<NamedTensor> {
  const runner = await ModelRunner.open(model, card);
  return runner.run(input).finally(() => runner.close());
}

/**
 * Where the cells sit. With TF SAME padding, a stride-2 layer on 2k + 1 px puts its output j over input pixel 2j
 * (one pixel of padding each side), so on 16k + 1 px DeepLab's cell i sits over pixel 16i, centre 16i + 0.5 in
 * continuous coordinates (pixel i spans [i, i + 1)). The runtime puts cell centres at offset + window / 2 + i *
 * stride and, with pad none, feeds tensors of (cells - 1) * stride + window + 2 * offset px (offset < 0: the net
 * pads). offset = -stride and window = 2 * stride + 1 give centres 16i + 0.5 and tensors of 16k + 1 px: the sizes
 * on which that holds. The window is nominal: the net sees far more context.
 */
function geometryOf(stride: number): Card['geometry'] {
  return { window: 2 * stride + 1, stride, offset: -stride, exact: false };
}

export async function importSegmenter(
  options: ImportOptions,
  bytes: Uint8Array,
  source: SourceModel,
  rewrites: string[],
): Promise<ImportResult> {
  if (options.window)
    throw new ImportError("--window is for classifiers: a segmenter's cells are placed by its strides");
  const graph = graphOf(source.model);
  const index = new GraphIndex(graph);
  const inputName = index.imageInput();
  const logits = graph.output[0].name;
  const [, channels, height, width] = graph.input[0].type!.tensorType!.shape!.dim!.map((d) =>
    toNumber(d.dimValue ?? 0),
  );
  if (![1, 3].includes(channels))
    throw new ImportError(`input '${inputName}' must have 1 or 3 channels, got ${channels}`);
  const [, classes, rows, cols] = graph.output[0].type!.tensorType!.shape!.dim!.map((d) => toNumber(d.dimValue ?? 0));
  const { stride } = trunkGeometry(index, inputName, logits);
  if ((rows - 1) * stride + 1 !== height || (cols - 1) * stride + 1 !== width)
    throw new ImportError(
      `a ${height}x${width} px input gives a ${rows}x${cols} map at stride ${stride}: tagmap places a segmenter's ` +
        `cell i over input pixel ${stride}i, which needs inputs of ${stride}k + 1 px (DeepLab's 513 = 16 x 32 + 1)`,
    );
  const geometry = geometryOf(stride);
  const fitted = fitSegmenterLabels(options.labels, classes);
  rewrites.push(...fitted.notes);

  const float = freeSizes(source.model, channels, classes);
  const model = cloneModel(float);
  const stored = storeQuantizedWeights(graphOf(model), source.quantized);
  if (stored) rewrites.push(stored);
  const int8 = !options.dequantize && keepActivationsQuantized(graphOf(model), source.activations);
  if (int8) rewrites.push(int8);
  rewrites.push(
    `input '${inputName}': batch, height and width freed; an H x W input gives a ` +
      `ceil(H/${stride}) x ceil(W/${stride}) map of logits`,
    `geometry: cell i over input pixel ${stride}i (TF SAME padding on ${stride}k + 1 px), as window ` +
      `${geometry.window}, offset ${geometry.offset}`,
  );
  const importedBytes = encodeModel(model);
  const floatBytes = encodeModel(float);

  const input = inputCard(options, source, inputName, channels as 1 | 3, { minSide: 1, shortSide: height });
  const card = cardSchema.parse({
    ...importedCardHead(options, bytes, rewrites, `a segmenter (${classes} classes, a cell every ${stride} px)`),
    input: { ...input, pad: options.pad ?? 'none' },
    output: { name: logits, kind: 'logits' },
    geometry,
    labels: fitted.labels.map((label, id) => ({ id, name: label.name, color: vocColor(id) })),
    // a parser's cells also pool into tags (with its vocabulary, photo labels), as camvid's do
    tasks: ['parse', 'tag'],
    background: fitted.background,
    defaults: options.defaults,
    ...(options.vocabulary && { vocabulary: 'vocabulary.json' }),
    metrics: {},
  } satisfies Card);
  const vocabulary = options.vocabulary && readImportFile(options.vocabulary);

  const checks = await sizeChecks(importedBytes, floatBytes, card, height, width, int8 !== false);
  card.input.minSide = await smallestSide(importedBytes, card);
  const golden = await makeGolden(importedBytes, floatBytes, card, int8 !== false);
  checks.push(...(await verifyModel(importedBytes, card, golden)));
  return writeModelFolder(options.out, {
    model: importedBytes,
    card,
    golden,
    vocabulary: vocabulary || undefined,
    checks,
  });
}

const expectedDims = (card: Card, h: number, w: number) => [
  1,
  card.labels.length,
  Math.ceil(h / card.geometry.stride),
  Math.ceil(w / card.geometry.stride),
];

/** At the file's size against the float conversion; at other sizes, the ceil(H/stride) x ceil(W/stride) grid. */
async function sizeChecks(
  model: Uint8Array,
  float: Uint8Array,
  card: Card,
  height: number,
  width: number,
  int8: boolean,
): Promise<Check[]> {
  const at = seededInput(card.input, height, width, 1);
  const [imported, reference] = [await runOnce(model, card, at), await runOnce(float, card, at)];
  const loose = int8 ? quantizedActivationTolerance(reference.data) : undefined;
  const tolerance = loose?.tolerance ?? toleranceFor(reference.data);
  let diff = 0;
  for (let i = 0; i < reference.data.length; i++) diff = Math.max(diff, Math.abs(imported.data[i] - reference.data[i]));
  const checks: Check[] = [
    {
      name: 'file size map',
      ok: imported.dims.join() === expectedDims(card, height, width).join() && diff <= tolerance,
      maxAbsDiff: diff,
      tolerance,
      detail:
        `${height}x${width} px -> ${imported.dims.join('x')}, vs the float conversion` +
        `${loose ? ` (tolerance: ${loose.why})` : ''}`,
    },
  ];
  const runner = await ModelRunner.open(model, card);
  try {
    for (const [h, w] of SIZES_CHECKED) {
      const dims = (await runner.run(seededInput(card.input, h, w, h + w))).dims;
      const want = expectedDims(card, h, w);
      checks.push({
        name: `size ${h}x${w}`,
        ok: dims.join() === want.join(),
        detail: `${h}x${w} px -> ${dims.join('x')} (expected ${want.join('x')})`,
      });
    }
  } finally {
    await runner.close();
  }
  return checks;
}

/** The smallest side that runs (every layer pads, so a DeepLab runs from 1 px up), for the card's minSide. */
async function smallestSide(model: Uint8Array, card: Card): Promise<number> {
  const runner = await ModelRunner.open(model, card);
  try {
    for (const side of [1, card.geometry.stride, card.geometry.window]) {
      const dims = await runner.run(seededInput(card.input, side, side, 5)).then(
        (out) => out.dims,
        () => undefined,
      );
      if (dims?.join() === expectedDims(card, side, side).join()) return side;
    }
  } finally {
    await runner.close();
  }
  throw new ImportError(`the model does not run at ${card.geometry.window} px, its nominal window`);
}

/**
 * Case 1: the float conversion's map (the file's arithmetic without its 8-bit rounding) on a small input; case 2:
 * the imported model's on another. Small, to keep golden.json small; the file's size is checked at import.
 */
async function makeGolden(model: Uint8Array, float: Uint8Array, card: Card, int8: boolean): Promise<Golden> {
  const { stride, window } = card.geometry;
  const cases: Golden['cases'] = [];
  for (const [h, w, seed, computedBy] of [
    [6 * stride + 1, 8 * stride + 1, 2, 'original'],
    [window + 2 * stride, window + 5 * stride, 3, 'imported'],
  ] as const) {
    const input = seededInput(card.input, h, w, seed);
    input.data = rounded(input.data);
    const out = await runOnce(computedBy === 'original' ? float : model, card, input);
    cases.push({
      shape: [1, card.input.channels, h, w],
      input: [...input.data],
      outputShape: [1, card.labels.length, out.dims[2], out.dims[3]],
      output: [...rounded(out.data)],
      computedBy,
    });
  }
  const golden: Golden = { tolerance: toleranceFor(cases.flatMap((c) => c.output)), cases };
  if (int8) {
    const loose = quantizedActivationTolerance(cases[0].output);
    Object.assign(golden, { tolerance: Math.max(golden.tolerance, loose.tolerance), toleranceReason: loose.why });
  }
  return golden;
}
