// TFLite classifiers import: each shared Coral MobileNetV2 becomes a fully convolutional model whose 1x1 map at
// 224 px agrees with an independent runtime (Arm NN) on real photos, and whose larger inputs give the promised grid;
// bad files fail with clear errors and write nothing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../model/contract/card.ts';
import { importModel } from '../../model/import/importer.ts';
import { fitLabels } from '../../model/import/label-fit.ts';
import { ModelRunner } from '../../model/import/verify.ts';
import { scratchDir, sharedModel, softmax } from './import-fixtures.ts';
import { armnn, photoSet, pixels, PYTHON, reference, REFRESHING } from './tflite-reference.ts';
import { tinyTflite } from './tflite-builder.ts';

const scratch = scratchDir();
afterAll(() => scratch.remove());
const coral = (name: string) => sharedModel(`coral/${name}`);
const MODELS = [
  { name: 'imagenet', file: 'mobilenet_v2_1.0_224_quant.tflite', labels: 'imagenet_labels.txt' },
  { name: 'birds', file: 'mobilenet_v2_1.0_224_inat_bird_quant.tflite', labels: 'inat_bird_labels.txt' },
  { name: 'insects', file: 'mobilenet_v2_1.0_224_inat_insect_quant.tflite', labels: 'inat_insect_labels.txt' },
];
/**
 * Largest |probability difference| allowed against Arm NN: its outputs are uint8 steps of 1/256 and both round every
 * layer to 8 bits, in different orders; measured 0.040 (imagenet), 0.091 (birds), 0.027 (insects) on this photo set
 * (node --import tsx scripts/measure-tflite.ts prints them; the float variant: 0.068, 0.115, 0.252).
 */
const PROBABILITY_NOISE = 0.12;

/** tensor = (pixel * scale - mean) / std, HWC bytes to NCHW floats, as the card says. */
function tensor(card: Card, image: Buffer, height: number, width: number) {
  const { scale, mean, std } = card.input;
  const data = new Float32Array(3 * height * width);
  for (let i = 0; i < height * width; i++)
    for (let c = 0; c < 3; c++) data[c * height * width + i] = (image[3 * i + c] * scale - mean[c]) / std[c];
  return { data, dims: [1, 3, height, width] };
}

const argmax = (values: ArrayLike<number>) => Array.from(values).reduce((best, v, i, a) => (v > a[best] ? i : best), 0);

describe.each(MODELS)('the Coral $name TFLite classifier', ({ name, file, labels }) => {
  let card: Card;
  let runner: ModelRunner;
  beforeAll(async () => {
    const out = path.join(scratch.dir, name);
    const wnids = name === 'imagenet' ? sharedModel('imagenet_class_index.json') : undefined;
    ({ card } = await importModel({ file: coral(file), name, labels: coral(labels), out, wnids }));
    runner = await ModelRunner.open(path.join(out, 'model.onnx'), card);
  }, 60_000);
  afterAll(() => runner?.close());

  it('reads its input convention from the input quantization: (q - 128) / 128', () => {
    expect(card.input).toMatchObject({ color: 'rgb', scale: 1, mean: [128, 128, 128], std: [128, 128, 128] });
    expect(card.geometry).toMatchObject({ window: 224, stride: 32 });
  });

  it(
    'agrees with Arm NN on real photos at 224 px: top-1 on at least 90%, probabilities within quantization noise',
    async () => {
      const files = photoSet();
      const images = await pixels(files, 224);
      const expected = await reference(coral(file), files, images, card.labels.length);
      let agree = 0;
      let worst = 0;
      for (const [i, image] of images.entries()) {
        const map = await runner.run(tensor(card, image, 224, 224));
        expect(map.dims).toEqual([1, card.labels.length, 1, 1]);
        const probabilities = softmax(map.data);
        if (expected[i][argmax(probabilities)] === Math.max(...expected[i])) agree++; // ties: Arm NN's 1/256 steps
        worst = Math.max(worst, ...probabilities.map((p, k) => Math.abs(p - expected[i][k])));
      }
      console.log(`${name}: top-1 agrees on ${agree}/${images.length}, max |probability diff| ${worst.toFixed(4)}`);
      expect(agree / images.length).toBeGreaterThanOrEqual(0.9);
      expect(worst).toBeLessThan(PROBABILITY_NOISE);
    },
    REFRESHING ? 600_000 : 20_000,
  );

  it.runIf(existsSync(PYTHON))(
    'has a fixture that Arm NN still reproduces (one image, live)',
    async () => {
      const files = photoSet().slice(1, 2);
      const images = await pixels(files, 224);
      const [live] = await armnn(coral(file), images);
      const [fixture] = (
        await reference(coral(file), photoSet(), await pixels(photoSet(), 224), live.length, false)
      ).slice(1);
      expect(live).toEqual(fixture);
    },
    30_000,
  );

  it('gives a 9 x 14 map of windows on a 480 x 640 input (stride 32)', async () => {
    const [image] = await pixels([photoSet()[1]], 224);
    const big = Buffer.alloc(480 * 640 * 3);
    for (let y = 0; y < 480; y++)
      for (let x = 0; x < 640; x++)
        image.copy(big, 3 * (y * 640 + x), 3 * ((y % 224) * 224 + (x % 224)), 3 * ((y % 224) * 224 + (x % 224)) + 3);
    const map = await runner.run(tensor(card, big, 480, 640));
    expect(map.dims).toEqual([1, card.labels.length, 9, 14]);
  });
});

describe('TFLite labels', () => {
  it('keep the background output as a label and name it as the card background', async () => {
    const card = JSON.parse(readFileSync(path.join(scratch.dir, 'birds/card.json'), 'utf8')) as Card;
    expect(card.labels.at(-1)?.name).toBe('background');
    expect(card.background).toBe(card.labels.length - 1);
    expect(card.labels.find((l) => l.name === 'Blue Jay')).toMatchObject({ scientific: 'Cyanocitta cristata' });
    const imagenet = JSON.parse(readFileSync(path.join(scratch.dir, 'imagenet/card.json'), 'utf8')) as Card;
    expect(imagenet.background).toBe(0);
    expect(imagenet.labels[1]).toMatchObject({ name: 'tench', wnid: 'n01440764' });
    expect(imagenet.labels[1].parents).toContain('fish');
  });

  it('add a background label at 0 when the file has one label fewer than the outputs', () => {
    const short = path.join(scratch.dir, 'imagenet-1000.txt');
    writeFileSync(short, readFileSync(coral('imagenet_labels.txt'), 'utf8').split('\n').slice(1).join('\n'));
    const fitted = fitLabels(short, 1001, sharedModel('imagenet_class_index.json'), true);
    expect(fitted.background).toBe(0);
    expect(fitted.labels.slice(0, 2)).toEqual([{ name: 'background' }, { name: 'tench', wnid: 'n01440764' }]);
  });
});

describe('TFLite import errors', () => {
  const badFile = (name: string, bytes: Uint8Array) => {
    const file = path.join(scratch.dir, name);
    writeFileSync(file, bytes);
    return file;
  };
  const fails = async (file: string, message: RegExp, labels = coral('imagenet_labels.txt')) => {
    const out = path.join(scratch.dir, `out-${path.basename(file)}`);
    await expect(importModel({ file, name: 'bad', labels, out })).rejects.toThrow(message);
    expect(existsSync(out)).toBe(false);
  };

  it('name the unsupported op and its operator index', () =>
    fails(
      badFile('hard-swish.tflite', tinyTflite([{ code: 19, deprecated: true }, { code: 117 }])),
      /unsupported TFLite op HARD_SWISH at operator 1/,
    ));
  it('say a truncated flatbuffer is truncated', () =>
    fails(
      badFile('truncated.tflite', readFileSync(coral('mobilenet_v2_1.0_224_quant.tflite')).subarray(0, 200_000)),
      /truncated\.tflite is truncated or corrupt/,
    ));
  it('say a file that is no model is not one', () =>
    fails(badFile('notes.tflite', new TextEncoder().encode('not a model at all\n')), /is not an ONNX model/));
  it('say an embedding extractor has no classifier head', () =>
    fails(coral('mobilenet_v1_1.0_224_quant_embedding_extractor.tflite'), /no classifier head/));
  it('say when the labels do not fit the outputs', () =>
    fails(
      coral('mobilenet_v2_1.0_224_quant.tflite'),
      /inat_bird_labels\.txt has 965 labels but the model has 1001 classes/,
      coral('inat_bird_labels.txt'),
    ));
});
