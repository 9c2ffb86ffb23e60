// TFLite segmenters import: Coral's two DeepLabs lose their ARG_MAX tail, keep their logits, and run at any input
// size with a ceil(H/16) x ceil(W/16) map; the card places the cells where DeepLab computes them; a tail op tagmap
// does not convert fails clearly and writes nothing; and the bundled voc model finds the person in a portrait.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Card } from '../../model/contract/card.ts';
import { createTagmap } from '../../model/index.ts';
import { importModel } from '../../model/import/importer.ts';
import { seededInput } from '../../model/import/seeded-input.ts';
import { FlatTable } from '../../model/import/tflite/flatbuffer-table.ts';
import { FIELDS } from '../../model/import/tflite/schema.ts';
import { ModelRunner } from '../../model/import/verify.ts';
import { cellGridOf, layoutScales } from '../../model/runtime/layout.ts';
import { scratchDir, sharedModel } from './import-fixtures.ts';
import { photo, testConfig, zooModelDir } from './zoo.ts';

const scratch = scratchDir();
afterAll(() => scratch.remove());
const coral = (name: string) => sharedModel(`coral/${name}`);
const VOC = { file: 'deeplabv3_mnv2_pascal_quant.tflite', labels: 'pascal_voc_segmentation_labels.txt' };
const CITYSCAPES = {
  file: 'deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite',
  labels: 'cityscapes_segmentation_labels.txt',
};

describe.each([
  { name: 'voc', ...VOC, classes: 21, dequantize: false },
  // docs/models.md's recipe: float activations (its int8 ones stray past the 0.1 bound from the float conversion)
  { name: 'cityscapes', ...CITYSCAPES, classes: 19, dequantize: true },
])('the Coral $name DeepLab', ({ name, file, labels, classes, dequantize }) => {
  let card: Card;
  let runner: ModelRunner;
  beforeAll(async () => {
    const out = path.join(scratch.dir, name);
    ({ card } = await importModel({ file: coral(file), name, labels: coral(labels), out, dequantize }));
    runner = await ModelRunner.open(path.join(out, 'model.onnx'), card);
  }, 120_000);
  afterAll(() => runner?.close());

  it('is found to be a segmenter: ARG_MAX and the resizes after the logits cut, each cut a rewrite line', () => {
    expect(card.tasks).toEqual(['parse', 'tag']);
    expect(card.output.kind).toBe('logits');
    const rewrites = card.source.kind === 'imported' ? card.source.rewrites : [];
    expect(rewrites.filter((line) => / cut: /.test(line))).toHaveLength(3);
    expect(rewrites.some((line) => /^ARG_MAX at operator \d+ cut/.test(line))).toBe(true);
    expect(rewrites.some((line) => /RESIZE_BILINEAR at operator \d+ \(33x33 -> 513x513\) cut/.test(line))).toBe(true);
    expect(rewrites.some((line) => /-> GlobalAveragePool$/.test(line))).toBe(true);
    expect(rewrites.some((line) => /(RESIZE_BILINEAR|TILE) at operator \d+ .* -> Expand/.test(line))).toBe(true);
  });

  it('has a parse card: (q - 128) / 128 input, no padding, 513 px short side, stride 16 from pixel 0', () => {
    expect(card.input).toMatchObject({ scale: 1, mean: [128, 128, 128], std: [128, 128, 128] });
    expect(card.input).toMatchObject({ pad: 'none', shortSide: 513, minSide: 1 });
    expect(card.geometry).toEqual({ window: 33, stride: 16, offset: -16, exact: false });
    expect(card.labels).toHaveLength(classes);
  });

  it('runs at any input size, with a ceil(H/16) x ceil(W/16) map of logits', async () => {
    for (const [h, w] of [
      [129, 129],
      [257, 385],
      [513, 513],
      [641, 481],
      [100, 37],
    ]) {
      const map = await runner.run(seededInput(card.input, h, w, h));
      expect(map.dims).toEqual([1, classes, Math.ceil(h / 16), Math.ceil(w / 16)]);
      expect(map.data.every(Number.isFinite)).toBe(true);
    }
  }, 60_000);
});

describe('segmenter labels', () => {
  it('read the VOC file up to its blank line, with background 0 and the VOC colours', () => {
    const card = JSON.parse(readFileSync(path.join(scratch.dir, 'voc/card.json'), 'utf8')) as Card;
    expect(card.labels.map((l) => l.name).slice(0, 3)).toEqual(['background', 'aeroplane', 'bicycle']);
    expect(card.labels[20]).toMatchObject({ name: 'tvmonitor', color: [0, 64, 128] });
    expect(card.labels[15]).toMatchObject({ name: 'person', color: [192, 128, 128] });
    expect(card.background).toBe(0);
  });

  it('drop the Cityscapes file\'s "background" line: the model has 19 outputs, road first', () => {
    const card = JSON.parse(readFileSync(path.join(scratch.dir, 'cityscapes/card.json'), 'utf8')) as Card;
    expect(card.labels[0].name).toBe('road');
    expect(card.labels.at(-1)!.name).toBe('bicycle');
    expect(card.background).toBeUndefined();
    const rewrites = card.source.kind === 'imported' ? card.source.rewrites : [];
    expect(rewrites).toContain(
      'cityscapes_segmentation_labels.txt has 20 labels for 19 outputs: its first, "background", dropped',
    );
  });
});

describe('segmenter geometry', () => {
  const card = () => JSON.parse(readFileSync(path.join(scratch.dir, 'voc/card.json'), 'utf8')) as Card;

  it('feeds 16k + 1 px tensors and puts cell i at the centre of input pixel 16i', () => {
    // DeepLab (TF SAME padding, 4 stride-2 layers) on 16k + 1 px: cell i is computed over pixel 16i, whose centre is
    // 16i + 0.5 in continuous coordinates; the runtime's centres are offset + window / 2 + i * stride
    for (const [width, height] of [
      [513, 513],
      [700, 513],
      [513, 900],
    ]) {
      const [plan] = layoutScales({ width, height }, card(), { scales: [1], maxSide: 2000, density: 1 });
      expect((plan.tensorWidth - 1) % 16).toBe(0);
      expect((plan.tensorHeight - 1) % 16).toBe(0);
      const cols = Math.ceil(plan.tensorWidth / 16);
      const rows = Math.ceil(plan.tensorHeight / 16);
      const grid = cellGridOf(plan, card().geometry, rows, cols);
      // image coordinates: the tensor starts -padLeft px into the (unscaled, here) image
      expect(grid.originX).toBeCloseTo(0.5 - plan.padLeft, 9);
      expect(grid.originY).toBeCloseTo(0.5 - plan.padTop, 9);
      expect(grid.stepX).toBe(16);
      // the last cell sits over the tensor's last pixel
      expect(grid.originX + (cols - 1) * grid.stepX).toBeCloseTo(plan.tensorWidth - 0.5 - plan.padLeft, 9);
    }
  });
});

describe('segmenter import errors', () => {
  /** The VOC file with its ARG_MAX operator code rewritten to another code (a tail op tagmap does not convert). */
  function withArgMaxAs(code: number): string {
    const bytes = Uint8Array.from(readFileSync(coral(VOC.file)));
    const root = FlatTable.root(bytes, VOC.file);
    const ARG_MAX = 56;
    for (const table of root.tables(FIELDS.model.operatorCodes)) {
      const at = table.bb.__offset(table.pos, 4 + 2 * FIELDS.operatorCode.builtinCode);
      if (at && table.bb.readInt32(table.pos + at) === ARG_MAX) table.bb.writeInt32(table.pos + at, code);
      const old = table.bb.__offset(table.pos, 4 + 2 * FIELDS.operatorCode.deprecatedBuiltinCode);
      if (old && table.bb.readInt8(table.pos + old) === ARG_MAX) table.bb.writeInt8(table.pos + old, code);
    }
    const file = path.join(scratch.dir, `voc-code-${code}.tflite`);
    writeFileSync(file, bytes);
    return file;
  }

  it('name the tail op they do not convert and its operator index, and write nothing', async () => {
    const out = path.join(scratch.dir, 'out-argmin');
    const ARG_MIN = 79;
    await expect(
      importModel({ file: withArgMaxAs(ARG_MIN), name: 'bad', labels: coral(VOC.labels), out }),
    ).rejects.toThrow(/unsupported TFLite op ARG_MIN at operator 71/);
    expect(existsSync(out)).toBe(false);
  });

  it('say --window is for classifiers', async () => {
    const out = path.join(scratch.dir, 'out-window');
    await expect(
      importModel({ file: coral(VOC.file), name: 'bad', labels: coral(VOC.labels), out, window: 513 }),
    ).rejects.toThrow(/--window is for classifiers/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('the bundled voc model on a real photo', () => {
  it('finds the person in a portrait (astronaut.png, Eileen Collins), loaded with the whole zoo', async () => {
    const tagmap = await createTagmap(testConfig(path.dirname(zooModelDir('voc'))));
    try {
      const result = await tagmap.parse(photo('astronaut.png'), { model: 'voc' });
      const share = (name: string) => result.legend.find((l) => l.name === name)?.share ?? 0;
      console.log(`voc on astronaut.png: ${result.legend.map((l) => `${l.name} ${l.share.toFixed(3)}`).join(', ')}`);
      expect(share('person')).toBeGreaterThan(0.3);
      expect(share('person') + share('background')).toBeGreaterThan(0.9);
    } finally {
      await tagmap.close();
    }
  }, 60_000);
});
