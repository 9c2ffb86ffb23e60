// node --import tsx scripts/measure-tflite.ts: the int8-versus-float table of the TFLite imports (model READMEs,
// docs/models.md). Each shared Coral classifier is imported twice, activations kept int8 (the default) and all float
// (--dequantize); prints per-image time (onnxruntime CPU, 1 thread, best of N: the machine is shared) at 224x224
// and 640x480, file size, and agreement with Arm NN on the photo set of test/model/import-tflite.test.ts (top-1,
// largest probability difference), from its reference fixture.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importModel } from '../model/import/index.ts';
import { decodeImage, openSession, runSession, type Card } from '../model/index.ts';
import { argmax, softmax } from './scores.ts';

const SHARED = path.resolve(import.meta.dirname, '../../shared');
const CORAL = path.join(SHARED, 'models/coral');
/** Arm NN's outputs, made by test/model/import-tflite.test.ts (see test/model/tflite-reference.ts) */
const FIXTURE = path.resolve(import.meta.dirname, '../test/model/fixtures/tflite-reference.json');
const MODELS = [
  ['mobilenet_v2_1.0_224_quant.tflite', 'imagenet_labels.txt'],
  ['mobilenet_v2_1.0_224_inat_bird_quant.tflite', 'inat_bird_labels.txt'],
  ['mobilenet_v2_1.0_224_inat_insect_quant.tflite', 'inat_insect_labels.txt'],
];

function tensor(card: Card, image: Buffer, height: number, width: number): Float32Array {
  const { scale, mean, std } = card.input;
  const data = new Float32Array(3 * height * width);
  for (let i = 0; i < height * width; i++)
    for (let c = 0; c < 3; c++) data[c * height * width + i] = (image[3 * i + c] * scale - mean[c]) / std[c];
  return data;
}

type Session = Awaited<ReturnType<typeof openSession>>['session'];
async function scores(session: Session, card: Card, data: Float32Array, height = 224, width = 224) {
  const result = await runSession(session, card.input.name, { dims: [1, 3, height, width], data }, [card.output.name]);
  return result[card.output.name].data;
}

async function bestMs(session: Session, card: Card, height: number, width: number, runs: number): Promise<number> {
  const data = Float32Array.from({ length: 3 * height * width }, (_, i) => Math.sin(i));
  await scores(session, card, data, height, width);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await scores(session, card, data, height, width);
    times.push(performance.now() - start);
  }
  return Math.min(...times);
}

/** The test's photo set: the four shared photos and every 37th MSRC-21 image, decoded straight to 224x224. */
const msrc = path.join(SHARED, 'data/msrc21/images');
const files = [
  ...['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'].map((f) => path.join(SHARED, 'photos', f)),
  ...readdirSync(msrc)
    .sort()
    .filter((_, i) => i % 37 === 0)
    .map((f) => path.join(msrc, f)),
];
const size = { width: 224, height: 224 };
const images: Buffer[] = [];
for (const file of files)
  images.push((await decodeImage(readFileSync(file), { channels: 3, maxPixels: 50e6, size })).data);
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<
  string,
  { outputs: Array<Array<[number, number]>> }
>;
const reference = (model: string, classes: number) =>
  fixture[model].outputs.map((sparse) => {
    const dense = new Array<number>(classes).fill(0);
    for (const [i, p] of sparse) dense[i] = p;
    return dense;
  });

const scratch = mkdtempSync(path.join(tmpdir(), 'tagmap-tflite-'));
console.log(
  `| file | form | ms 224x224 | ms 640x480 | MB | top-1 = Arm NN (${files.length} photos) | max prob diff |\n` +
    '|---|---|---|---|---|---|---|',
);
for (const [model, labels] of MODELS) {
  for (const dequantize of [false, true]) {
    const out = path.join(scratch, `${model}-${dequantize}`);
    const file = path.join(CORAL, model);
    await importModel({ file, out, dequantize, name: 'measured', labels: path.join(CORAL, labels) });
    const card = JSON.parse(readFileSync(path.join(out, 'card.json'), 'utf8')) as Card;
    const expected = reference(model, card.labels.length);
    const { session } = await openSession(path.join(out, 'model.onnx'), { device: 'cpu', intraOpThreads: 1 });
    let agree = 0;
    let worst = 0;
    for (const [i, image] of images.entries()) {
      const p = softmax(await scores(session, card, tensor(card, image, 224, 224)));
      // top-1 agrees when ours is among Arm NN's best (its outputs are 1/256 steps, so they tie)
      agree += Number(expected[i][argmax(p)] === Math.max(...expected[i]));
      worst = Math.max(worst, ...p.map((v, k) => Math.abs(v - expected[i][k])));
    }
    const [small, dense] = [await bestMs(session, card, 224, 224, 30), await bestMs(session, card, 480, 640, 10)];
    const activations = dequantize ? 'float activations (--dequantize)' : 'int8 activations (default)';
    const megabytes = statSync(path.join(out, 'model.onnx')).size / 1e6;
    console.log(
      `| ${dequantize ? '' : model} | ${activations} | ${small.toFixed(1)} | ${dense.toFixed(1)} | ` +
        `${megabytes.toFixed(2)} | ${agree}/${files.length} | ${worst.toFixed(3)} |`,
    );
    await session.release();
  }
}
rmSync(scratch, { recursive: true, force: true });
