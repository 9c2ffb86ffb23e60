// The model/ API end to end on bundled models and real photos: tags, parse, class maps, options.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tagmap } from '../../model/index.ts';
import { createTagmap } from '../../model/index.ts';
import { decodeImage, readHeader } from '../../model/io/image.ts';
import { openSession, runSession } from '../../model/runtime/ort.ts';
import { layoutScales } from '../../model/runtime/layout.ts';
import { decodeMask } from '../../model/tasks/rle.ts';
import { buildTensor } from '../../model/runtime/tensor.ts';
import { modelsFolder, photo, testConfig, zooModelDir } from './zoo.ts';

const camvidTest = path.resolve(import.meta.dirname, '../../../shared/data/camvid/test');
const STREETS = ['0001TP_008550', '0001TP_010350', 'Seq05VD_f01740'];

let tagmap: Tagmap;
let folder: ReturnType<typeof modelsFolder>;

beforeAll(async () => {
  folder = modelsFolder(['camvid', 'imagenet']);
  tagmap = await createTagmap(testConfig(folder.dir));
  await tagmap.ready();
});
afterAll(async () => {
  await tagmap?.close();
  folder?.remove();
});

async function rejection(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected a rejection').toBeDefined();
  return error as { code: string; message: string };
}

describe('tag()', () => {
  it('names the model with the sha256 of its model.onnx, and reports the plan and timings', async () => {
    const result = await tagmap.tag(photo('chelsea.png'), { model: 'camvid' });
    const sha256 = createHash('sha256')
      .update(readFileSync(path.join(zooModelDir('camvid'), 'model.onnx')))
      .digest('hex');
    expect(result.model).toEqual({ name: 'camvid', version: tagmap.card('camvid').version, sha256 });
    expect(result.plan).toMatchObject({ image: { width: 451, height: 300 }, scales: [1], density: 1, provider: 'cpu' });
    expect(result.plan.grid.rows * result.plan.grid.cols).toBeGreaterThan(1);
    expect(result.timings.totalMs).toBeGreaterThanOrEqual(result.timings.inferMs);
  });

  it('returns at most topK tags over minScore, best first, each inside the image with its box around its peak', async () => {
    const result = await tagmap.tag(photo('coffee.png'), { model: 'camvid', topK: 3, minScore: 0.01 });
    expect(result.tags.length).toBeGreaterThan(0);
    expect(result.tags.length).toBeLessThanOrEqual(3);
    const names = tagmap.card('camvid').labels.map((l) => l.name);
    result.tags.forEach((tag, n) => {
      if (n > 0) expect(tag.score).toBeLessThanOrEqual(result.tags[n - 1].score);
      expect(tag.score).toBeGreaterThanOrEqual(0.01);
      expect(tag.label).toBe(names[tag.id]);
      expect(tag.coverage).toBeGreaterThanOrEqual(0);
      expect(tag.coverage).toBeLessThanOrEqual(1);
      expect(tag.peak.x).toBeGreaterThanOrEqual(tag.box.x);
      expect(tag.peak.x).toBeLessThanOrEqual(tag.box.x + tag.box.width);
      expect(tag.peak.y).toBeGreaterThanOrEqual(tag.box.y);
      expect(tag.peak.y).toBeLessThanOrEqual(tag.box.y + tag.box.height);
      expect(tag.box.x + tag.box.width).toBeLessThanOrEqual(600);
      expect(tag.box.y + tag.box.height).toBeLessThanOrEqual(400);
      expect(Array.isArray(tag.parents)).toBe(true);
    });
  });

  it('keeps only included labels and drops excluded ones', async () => {
    const names = tagmap.card('camvid').labels.map((l) => l.name);
    const only = await tagmap.tag(photo('coffee.png'), {
      model: 'camvid',
      include: [names[2], names[5]],
      minScore: 0,
      topK: 10,
    });
    expect(only.tags.map((t) => t.label).sort()).toEqual([names[2], names[5]].sort());
    const without = await tagmap.tag(photo('coffee.png'), {
      model: 'camvid',
      exclude: [names[0]],
      minScore: 0,
      topK: names.length,
    });
    expect(without.tags.map((t) => t.label)).not.toContain(names[0]);
    expect(without.tags).toHaveLength(names.length - 1);
  });

  it('refuses an unknown label name with unknown_label, listing valid ones', async () => {
    const error = await rejection(tagmap.tag(photo('coffee.png'), { model: 'camvid', include: ['unicorn'] }));
    expect(error.code).toBe('unknown_label');
    expect(error.message).toContain('"unicorn"');
    expect(error.message).toContain(tagmap.card('camvid').labels[0].name);
  });

  it('refuses bad options with bad_options and an unknown model with unknown_model, saying what is allowed', async () => {
    const cases: Array<[object, string, string]> = [
      [{ model: 'camvid', scales: [0.1] }, 'bad_options', 'between 0.25 and 4'],
      [{ model: 'camvid', density: 3 }, 'bad_options', 'density must be one of'],
      [{ model: 'camvid', density: 8 }, 'bad_options', 'at most 4'],
      [{ model: 'camvid', topK: 0 }, 'bad_options', 'topK'],
      [{ model: 'camvid', minScore: 2 }, 'bad_options', 'minScore'],
      [{ model: 'camvid', maxSide: 5 }, 'bad_options', 'maxSide'],
      [{ model: 'nope' }, 'unknown_model', 'available: camvid'],
    ];
    for (const [options, code, text] of cases) {
      const error = await rejection(tagmap.tag(photo('coffee.png'), options));
      expect(error.code, JSON.stringify(options)).toBe(code);
      expect(error.message, JSON.stringify(options)).toContain(text);
    }
  });

  it('gives every EXIF orientation of a photo the same confident tags, each peaking inside its upright box', async () => {
    const tagsOf = async (n: number) => {
      const result = await tagmap.tag(photo(`exif-orientation/Landscape_${n}.jpg`), {
        model: 'camvid',
        topK: 11,
        minScore: 0,
      });
      expect(result.plan.image, `Landscape_${n}`).toEqual({ width: 600, height: 450 });
      return result.tags;
    };
    // weak tags swing with the re-encoding noise of the turned copies, and among cells that all say 0.99 the
    // peak may hop; the sure tags must stay sure and peak inside their upright box (a mirror would not)
    const upright = (await tagsOf(1)).filter((t) => t.score >= 0.95);
    expect(upright.length).toBeGreaterThanOrEqual(2);
    for (let n = 2; n <= 8; n++) {
      const turned = await tagsOf(n);
      for (const tag of upright) {
        const { score, peak } = turned.find((t) => t.label === tag.label)!;
        expect(score, `${tag.label} on Landscape_${n}`).toBeGreaterThan(0.9);
        expect(peak.x, `${tag.label} on Landscape_${n} peak x`).toBeGreaterThanOrEqual(tag.box.x);
        expect(peak.x, `${tag.label} on Landscape_${n} peak x`).toBeLessThanOrEqual(tag.box.x + tag.box.width);
        expect(peak.y, `${tag.label} on Landscape_${n} peak y`).toBeGreaterThanOrEqual(tag.box.y);
        expect(peak.y, `${tag.label} on Landscape_${n} peak y`).toBeLessThanOrEqual(tag.box.y + tag.box.height);
      }
    }
  });

  it('tags the cat photo with a cat, with its WordNet parents, using the default model (imagenet)', async () => {
    const result = await tagmap.tag(photo('chelsea.png'), { topK: 3 });
    expect(result.model.name).toBe('imagenet');
    const cats = result.tags.filter((t) => t.label === 'cat' || t.parents.includes('cat'));
    expect(cats.length, result.tags.map((t) => t.label).join(', ')).toBeGreaterThan(0);
    expect(cats[0].parents).toContain('feline');
    // the cat fills most of the photo: its box does too
    expect(cats[0].box.width * cats[0].box.height).toBeGreaterThan(0.3 * 451 * 300);
  });

  it('tags CamVid street scenes with road and building or sky, each with a score, box and peak', async () => {
    for (const name of STREETS) {
      const result = await tagmap.tag(readFileSync(path.join(camvidTest, 'images', `${name}.jpg`)), {
        model: 'camvid',
      });
      const labels = result.tags.map((t) => t.label);
      expect(labels, name).toContain('road');
      expect(labels.includes('building') || labels.includes('sky'), `${name}: ${labels}`).toBe(true);
      for (const tag of result.tags) expect(tag.box.width * tag.box.height, `${name} ${tag.label}`).toBeGreaterThan(0);
    }
  });
});

describe('classMap()', () => {
  it('gives cells equal to the window classifier on their crops, also between shifted passes (density 2)', async () => {
    const card = tagmap.card('camvid');
    expect(card.geometry.exact).toBe(true);
    const bytes = photo('astronaut.png');
    const result = await tagmap.classMap(bytes, { model: 'camvid', density: 2 });
    const [K, rows, cols] = result.shape;
    expect(result.data.length).toBe(K * rows * cols);

    // rebuild the padded input the same way and run single windows through onnxruntime
    const [plan] = layoutScales(await readHeader(bytes, 40_000_000), card, { scales: [1], maxSide: 2048, density: 2 });
    const resized = await decodeImage(bytes, { channels: card.input.channels, maxPixels: 40_000_000, size: plan });
    const canvas = buildTensor(
      resized,
      {
        padLeft: plan.padLeft,
        padTop: plan.padTop,
        left: 0,
        top: 0,
        width: plan.canvasWidth,
        height: plan.canvasHeight,
      },
      card.input,
    );
    const { session } = await openSession(path.join(zooModelDir('camvid'), 'model.onnx'), {
      device: 'cpu',
      intraOpThreads: 1,
    });
    const { window, offset } = card.geometry;
    const C = card.input.channels;
    let worst = 0;
    for (const [I, J] of [
      [0, 0],
      [1, 1],
      [0, 1],
      [rows - 1, cols - 1],
      [Math.floor(rows / 2), Math.floor(cols / 3)],
      [rows - 2, 3],
    ]) {
      const x0 = offset + J * plan.shiftStep;
      const y0 = offset + I * plan.shiftStep;
      const crop = new Float32Array(C * window * window);
      for (let c = 0; c < C; c++)
        for (let y = 0; y < window; y++)
          for (let x = 0; x < window; x++) {
            crop[(c * window + y) * window + x] = canvas[(c * plan.canvasHeight + y0 + y) * plan.canvasWidth + x0 + x];
          }
      const out = await runSession(session, card.input.name, { dims: [1, C, window, window], data: crop }, [
        card.output.name,
      ]);
      for (let k = 0; k < K; k++)
        worst = Math.max(worst, Math.abs(out[card.output.name].data[k] - result.data[(k * rows + I) * cols + J]));
    }
    await session.release();
    expect(worst).toBeLessThan(1e-3);
  });

  it('fuses scales on the finest grid', async () => {
    const fine = await tagmap.classMap(photo('rocket.jpg'), { model: 'camvid', scales: [2] });
    const fused = await tagmap.classMap(photo('rocket.jpg'), { model: 'camvid', scales: [1, 2], fuse: 'max' });
    expect(fused.plan.inputs.map((i) => i.scale)).toEqual([1, 2]);
    expect(fused.shape).toEqual(fine.shape);
    expect(fused.grid).toEqual(fine.grid);
    expect(fused.plan.cellSize).toBeCloseTo(fine.plan.cellSize, 6);
  });
});

describe('parse()', () => {
  const street = () => readFileSync(path.join(camvidTest, 'images', `${STREETS[0]}.jpg`));

  it('returns a grey label PNG the size of the image whose values are the label ids', async () => {
    const result = await tagmap.parse(street(), { model: 'camvid', format: 'png' });
    expect([result.width, result.height]).toEqual([480, 360]);
    const { data, info } = await sharp(result.png!).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 480, height: 360, channels: 1 });
    expect(Buffer.compare(data, Buffer.from(result.labels))).toBe(0);
    expect(Array.from(result.labels).reduce((a, b) => Math.max(a, b), 0)).toBeLessThan(
      tagmap.card('camvid').labels.length,
    );
  });

  it('labels CamVid test pixels about as accurately as the card says the trainer measured', async () => {
    // every 10th test image: 24 street scenes; void pixels are not scored, as in training's metrics
    const names = readdirSync(path.join(camvidTest, 'images'))
      .sort()
      .filter((_, n) => n % 10 === 0);
    let right = 0;
    let scored = 0;
    for (const name of names) {
      const result = await tagmap.parse(readFileSync(path.join(camvidTest, 'images', name)), {
        model: 'camvid',
        format: 'png',
      });
      const truth = await sharp(readFileSync(path.join(camvidTest, 'labels', name.replace('.jpg', '.png'))))
        .extractChannel(0)
        .raw()
        .toBuffer();
      truth.forEach((t, p) => {
        if (t === 11) return;
        scored++;
        if (result.labels[p] === t) right++;
      });
    }
    const claimed = tagmap.card('camvid').metrics.test.globalAccuracy;
    expect(claimed).toBeGreaterThan(0);
    expect(right / scored).toBeGreaterThan(claimed - 0.05);
  });

  it('returns per-label RLE masks that rebuild the label map, with shares summing to 1', async () => {
    const result = await tagmap.parse(street(), { model: 'camvid', format: 'json' });
    expect(result.masks!.length).toBe(result.legend.length);
    expect(result.legend.reduce((a, l) => a + l.share, 0)).toBeCloseTo(1, 6);
    for (const mask of result.masks!) {
      expect(mask.rle.size).toEqual([360, 480]);
      const bits = decodeMask(mask.rle);
      bits.forEach((on, p) => {
        if (on !== (result.labels[p] === mask.id ? 1 : 0)) throw new Error(`mask ${mask.name} differs at pixel ${p}`);
      });
    }
  });

  it('returns a colour overlay PNG: each label colour blended half over the upright image', async () => {
    const bytes = photo('exif-orientation/Landscape_6.jpg');
    const result = await tagmap.parse(bytes, { model: 'camvid', format: 'overlay' });
    const { data, info } = await sharp(result.png!).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([600, 450, 3]);
    const upright = await decodeImage(bytes, { channels: 3, maxPixels: 40_000_000 });
    const colours = new Map(result.legend.map((l) => [l.id, l.color]));
    let worst = 0;
    for (let p = 0; p < result.labels.length; p += 997) {
      const colour = colours.get(result.labels[p])!;
      for (let c = 0; c < 3; c++)
        worst = Math.max(worst, Math.abs(data[p * 3 + c] - (upright.data[p * 3 + c] + colour[c]) / 2));
    }
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('gives every EXIF orientation the same-shaped, near-identical label map', async () => {
    const first = await tagmap.parse(photo('exif-orientation/Landscape_1.jpg'), { model: 'camvid', format: 'png' });
    for (let n = 2; n <= 8; n++) {
      const result = await tagmap.parse(photo(`exif-orientation/Landscape_${n}.jpg`), {
        model: 'camvid',
        format: 'png',
      });
      expect([result.width, result.height]).toEqual([600, 450]);
      // the rotated copies were re-encoded: 90-92% of pixels keep their label (measured); a mirrored map keeps 64%
      const same = Array.from(result.labels).filter((id, p) => id === first.labels[p]).length;
      expect(same / result.labels.length, `Landscape_${n}`).toBeGreaterThan(0.85);
    }
  });
});
