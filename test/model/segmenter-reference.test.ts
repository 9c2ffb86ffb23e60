// TFLite DeepLab segmenters import: each shared Coral file becomes a model of free input size whose stride-16 logits
// agree with an independent runtime (Arm NN, on a copy of the file cut before its resizes and ARG_MAX) on real
// photos, at the file's own 513 x 513 and at three other sizes (test/model/segmenter-reference.ts).
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../model/contract/card.ts';
import { importModel } from '../../model/import/importer.ts';
import { ModelRunner } from '../../model/import/verify.ts';
import { scratchDir, sharedModel } from './import-fixtures.ts';
import { armnn, PHOTOS, pixels, reference, refresh, SIZES, type Logits } from './segmenter-reference.ts';
import { REFRESHING } from './tflite-reference.ts';

const scratch = scratchDir();
afterAll(() => scratch.remove());
const coral = (name: string) => sharedModel(`coral/${name}`);
const MODELS = [
  {
    name: 'voc',
    file: 'deeplabv3_mnv2_pascal_quant.tflite',
    labels: 'pascal_voc_segmentation_labels.txt',
    classes: 21,
    dequantize: false,
    agreement: 0.98,
    logitNoise: 1.5,
  },
  {
    name: 'cityscapes',
    file: 'deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite',
    labels: 'cityscapes_segmentation_labels.txt',
    classes: 19,
    // imported with float activations, as docs/models.md's recipe says (its int8 ones stray from the float
    // conversion past the importer's 0.1 bound: see the note there)
    dequantize: true,
    agreement: 0.93,
    logitNoise: 4,
  },
];
/**
 * agreement: the share of logits-grid cells whose class must agree with Arm NN at every size; logitNoise: the largest
 * |logit difference| allowed at 513 x 513. Both runtimes round every layer to 8 bits, in different orders; Arm NN's
 * logits are uint8 steps of 0.2015. Measured (the figures these tests print) for VOC (model/zoo/voc of 2026-12-01
 * 11:35): max |diff| 0.712 at 513 (0.66-0.95 at the other sizes), mean 0.12-0.14; classes agree on 99.79% of the
 * cells at 513, 99.88%, 99.92%, 99.95% at 257, 385 x 513, 321 x 449. Cityscapes (float activations, each quantized
 * activation clamped to its range as the file does): max |diff| 3.47 at 513 (2.9-4.1 at the others), mean 0.46-0.54;
 * classes agree on 95.01%, 95.62%, 95.56%, 93.60%. That is this net's floor, not a conversion error: every op of the
 * int8 import matches Arm NN's to the step when fed Arm NN's own inputs (bisected at 129 x 129), yet its rounding
 * differences grow through the MobileNet-EdgeTPU trunk and the image-pooling branch so much that onnxruntime's
 * fused int8 kernels and its unfused QuantizeLinear/DequantizeLinear arithmetic, on the same int8 model, agree with
 * each other on only 95.0% of the cells at 513 (max |diff| 3.08).
 */

/** The input as the card says to make it, HWC bytes to NCHW floats. */
function tensor(card: Card, image: Buffer, height: number, width: number) {
  const { scale, mean, std } = card.input;
  const data = new Float32Array(3 * height * width);
  for (let i = 0; i < height * width; i++)
    for (let c = 0; c < 3; c++) data[c * height * width + i] = (image[3 * i + c] * scale - mean[c]) / std[c];
  return { data, dims: [1, 3, height, width] };
}

interface Comparison {
  agree: number;
  cells: number;
  maxDiff: number;
  meanDiff: number;
}

/** Compares an NCHW float map with Arm NN's HWC uint8 logits: classes per cell (ties counted as agreeing), |diff|. */
function compare(map: Float32Array, expected: Logits, image: number, into: Comparison) {
  const [h, w, classes] = expected.shape;
  const q = expected.outputs[image];
  const plane = h * w;
  for (let cell = 0; cell < plane; cell++) {
    let best = 0;
    let top = -Infinity;
    for (let k = 0; k < classes; k++) {
      const v = map[k * plane + cell];
      if (v > top) [best, top] = [k, v];
      const diff = Math.abs(v - expected.scale * (q[cell * classes + k] - expected.zeroPoint));
      into.maxDiff = Math.max(into.maxDiff, diff);
      into.meanDiff += diff / classes;
    }
    const theirs = q.subarray(cell * classes, (cell + 1) * classes);
    if (theirs[best] === Math.max(...theirs)) into.agree++;
    into.cells++;
  }
}

describe.each(MODELS)('the Coral $name DeepLab segmenter', (model) => {
  const { name, file, labels, classes, dequantize, agreement: minAgreement, logitNoise } = model;
  let card: Card;
  let runner: ModelRunner;
  beforeAll(async () => {
    if (REFRESHING) await refresh(coral(file));
  }, 1_800_000);
  beforeAll(async () => {
    const out = path.join(scratch.dir, name);
    ({ card } = await importModel({ file: coral(file), name, labels: coral(labels), out, dequantize }));
    runner = await ModelRunner.open(path.join(out, 'model.onnx'), card);
  }, 120_000);
  afterAll(() => runner?.close());

  it('takes (pixel - 128) / 128, read from the input quantization, and has a class per output channel', () => {
    const { scale, mean, std } = card.input;
    for (const c of [0, 1, 2]) {
      expect(scale / std[c]).toBeCloseTo(1 / 128, 9);
      expect(mean[c] / std[c]).toBeCloseTo(1, 9);
    }
    expect(card.labels).toHaveLength(classes);
  });

  it.each(SIZES)(
    'at %i x %i gives the stride-16 logits grid and Arm NN’s classes',
    async (height, width) => {
      const images = await pixels(PHOTOS, height, width);
      const expected = reference(coral(file), images, height, width);
      const grid = [Math.ceil(height / 16), Math.ceil(width / 16)];
      expect(expected.shape).toEqual([...grid, classes]);
      const result: Comparison = { agree: 0, cells: 0, maxDiff: 0, meanDiff: 0 };
      for (const [i, image] of images.entries()) {
        const map = await runner.run(tensor(card, image, height, width));
        expect(map.dims).toEqual([1, classes, ...grid]);
        compare(map.data, expected, i, result);
      }
      const agreement = result.agree / result.cells;
      console.log(
        `${name} ${height}x${width}: classes agree on ${result.agree}/${result.cells} cells ` +
          `(${(100 * agreement).toFixed(2)}%), |logit diff| max ${result.maxDiff.toFixed(3)} ` +
          `mean ${(result.meanDiff / result.cells).toFixed(4)} (Arm NN step ${expected.scale.toFixed(4)})`,
      );
      expect(agreement).toBeGreaterThanOrEqual(minAgreement);
      if (height === 513 && width === 513) expect(result.maxDiff).toBeLessThan(logitNoise);
    },
    60_000,
  );

  it('has a fixture that Arm NN still reproduces (one photo at 257 x 257, live)', async () => {
    const [height, width] = [257, 257];
    const images = await pixels(PHOTOS, height, width);
    const live = await armnn(coral(file), images.slice(1, 2), height, width);
    const fixture = reference(coral(file), images, height, width);
    expect(live.shape).toEqual(fixture.shape);
    expect(live.scale).toBe(fixture.scale);
    expect(Buffer.from(live.outputs[0]).equals(Buffer.from(fixture.outputs[1]))).toBe(true);
  }, 120_000);
});
