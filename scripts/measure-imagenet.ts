// npm run measure-imagenet -- DIR: the measurements behind SqueezeNet's card (docs/squeezenet.md), DIR a model folder
// imported as that page says (SqueezeNet left the zoo; the measurements stay reproducible).
// 1. preprocessing: the imported SqueezeNet at 224x224 (= the original's scores) on real photos, per input convention;
// 2. defaults: the runtime's tags (createTagmap) per border padding, short side, scales and pool.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ModelRunner } from '../model/import/index.ts';
import {
  PAD_MODES,
  SCORE_POOLINGS,
  buildTensor,
  createTagmap,
  decodeImage,
  defaultConfig,
  type Card,
} from '../model/index.ts';
import { softmax } from './scores.ts';

const ZOO_DIR = process.argv[2];
if (!ZOO_DIR) {
  console.error('usage: npm run measure-imagenet -- DIR   (DIR: squeezenet imported as docs/squeezenet.md says)');
  process.exit(2);
}
const PHOTOS = path.resolve(import.meta.dirname, '../../shared/photos');
/** the photos and the ImageNet classes a person would accept for them */
const PHOTOS_AND_CLASSES: Array<[string, number[]]> = [
  ['chelsea.png', [281, 282, 283, 284, 285]],
  ['coffee.png', [967, 968, 504]],
  ['rocket.jpg', [657, 744, 812]],
  ['astronaut.png', []],
];
const CONVENTIONS: Array<[string, Pick<Card['input'], 'color' | 'scale' | 'mean' | 'std'>]> = [
  ['RGB 0..255', { color: 'rgb', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }],
  ['BGR 0..255', { color: 'bgr', scale: 1, mean: [0, 0, 0], std: [1, 1, 1] }],
  ['RGB 0..255 minus mean', { color: 'rgb', scale: 1, mean: [123.68, 116.78, 103.94], std: [1, 1, 1] }],
  ['BGR 0..255 minus mean', { color: 'bgr', scale: 1, mean: [103.94, 116.78, 123.68], std: [1, 1, 1] }],
  ['RGB ImageNet mean/std', { color: 'rgb', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }],
  ['BGR ImageNet mean/std', { color: 'bgr', scale: 1 / 255, mean: [0.406, 0.456, 0.485], std: [0.225, 0.224, 0.229] }],
  ['RGB 0..1', { color: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1] }],
];

const card: Card = JSON.parse(readFileSync(path.join(ZOO_DIR, 'card.json'), 'utf8'));
const photos = PHOTOS_AND_CLASSES.map(([name, classes]) => ({
  name,
  classes,
  bytes: readFileSync(path.join(PHOTOS, name)),
}));

async function preprocessingTable(): Promise<void> {
  console.log(`| input | ${photos.map((p) => p.name).join(' | ')} |\n|---${'|---'.repeat(photos.length)}|`);
  const runner = await ModelRunner.open(path.join(ZOO_DIR, 'model.onnx'), card);
  const window = card.geometry.window;
  for (const [title, convention] of CONVENTIONS) {
    const cells = [];
    for (const photo of photos) {
      const pixels = await decodeImage(photo.bytes, {
        channels: 3,
        maxPixels: 40e6,
        size: { width: window, height: window },
      });
      const crop = { padLeft: 0, padTop: 0, left: 0, top: 0, width: window, height: window };
      const scores = await runner.run({ dims: [1, 3, window, window], data: buildTensor(pixels, crop, convention) });
      const p = softmax(scores.data);
      const top = p.indexOf(Math.max(...p));
      const right = photo.classes.reduce((sum, k) => sum + p[k], 0);
      cells.push(
        `${photo.classes.length ? `${right.toFixed(2)} / ` : ''}${card.labels[top].name} ${p[top].toFixed(2)}`,
      );
    }
    console.log(`| ${title} | ${cells.join(' | ')} |`);
  }
  await runner.close();
}

async function defaultsTable(): Promise<void> {
  console.log(
    `\n| pad | short side | scales | pool | ${photos.map((p) => p.name).join(' | ')} |\n` +
      `|---|---|---|---${'|---'.repeat(photos.length)}|`,
  );
  for (const pad of PAD_MODES) {
    for (const shortSide of [224, 256, 320]) {
      if (pad !== 'reflect' && shortSide !== 224) continue;
      const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-measure-'));
      cpSync(ZOO_DIR, path.join(dir, 'squeezenet'), { recursive: true });
      const variant = { ...card, input: { ...card.input, pad, shortSide }, defaults: undefined };
      writeFileSync(path.join(dir, 'squeezenet', 'card.json'), JSON.stringify(variant));
      const tagmap = await createTagmap(
        defaultConfig({
          modelsDir: dir,
          device: 'cpu',
          workers: 1,
          threadsPerWorker: 1,
          logger: { info: () => undefined, warn: () => undefined },
        }),
      );
      await tagmap.ready();
      for (const scales of [[1], [1, 2]]) {
        for (const pool of SCORE_POOLINGS) {
          const cells = [];
          for (const photo of photos) {
            const { tags } = await tagmap.tag(photo.bytes, { scales, pool, topK: 3, minScore: 0, vocabulary: 'raw' });
            cells.push(tags.map((t) => `${t.label} ${t.score.toFixed(2)}`).join(', '));
          }
          console.log(`| ${pad} | ${shortSide} | ${scales.join(', ')} | ${pool} | ${cells.join(' | ')} |`);
        }
      }
      await tagmap.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

await preprocessingTable();
await defaultsTable();
