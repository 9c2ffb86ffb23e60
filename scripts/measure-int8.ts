// node --import tsx scripts/measure-int8.ts: the figures behind "Importing int8 ONNX" in docs/models.md. Each shared
// int8 classifier is imported twice, keeping the int8 trunk (the default) and dequantized whole (--dequantize);
// prints per-image time (onnxruntime CPU, 1 thread, best of 50 or 20 runs: the machine is shared) at 224x224 and
// 640x480, file size, and agreement with the int8 original at 224 px on real photos (top-1, largest probability
// difference, and the largest score difference relative to the largest score, which the import's window check bounds).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importModel } from '../model/import/index.ts';
import { buildTensor, decodeImage, openSession, runSession, type Card } from '../model/index.ts';
import { argmax, softmax } from './scores.ts';

const SHARED = path.resolve(import.meta.dirname, '../../shared');
const MODELS = ['mobilenetv2-12-int8.onnx', 'shufflenet-v2-12-qdq.onnx'];
const PHOTO_COUNT = 60;
const input: Pick<Card['input'], 'color' | 'scale' | 'mean' | 'std'> = {
  color: 'rgb',
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

const photoFiles = [
  ...readdirSync(path.join(SHARED, 'photos'))
    .filter((name) => /\.(png|jpg)$/.test(name))
    .map((name) => path.join(SHARED, 'photos', name)),
  ...readdirSync(path.join(SHARED, 'data/msrc21/images'))
    .sort()
    .map((name) => path.join(SHARED, 'data/msrc21/images', name)),
].slice(0, PHOTO_COUNT);

async function photoTensors(): Promise<Float32Array[]> {
  const tensors = [];
  for (const file of photoFiles) {
    const size = { width: 224, height: 224 };
    const pixels = await decodeImage(readFileSync(file), { channels: 3, maxPixels: 40e6, size });
    tensors.push(buildTensor(pixels, { padLeft: 0, padTop: 0, left: 0, top: 0, ...size }, input));
  }
  return tensors;
}

type Session = Awaited<ReturnType<typeof openSession>>['session'];
async function scores(session: Session, data: Float32Array, height = 224, width = 224): Promise<Float32Array> {
  const [output] = session.outputNames;
  const result = await runSession(session, session.inputNames[0], { dims: [1, 3, height, width], data }, [output]);
  return result[output].data;
}

async function bestMs(session: Session, height: number, width: number, runs: number): Promise<number> {
  const data = Float32Array.from({ length: 3 * height * width }, (_, i) => Math.sin(i));
  await scores(session, data, height, width);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await scores(session, data, height, width);
    times.push(performance.now() - start);
  }
  return Math.min(...times);
}

const scratch = mkdtempSync(path.join(tmpdir(), 'tagmap-int8-'));
const photos = await photoTensors();
console.log(
  `| file | form | ms 224x224 | ms 640x480 | MB | top-1 = original (${photos.length} photos) | max prob diff | ` +
    'max score diff / largest score |\n|---|---|---|---|---|---|---|---|',
);
for (const model of MODELS) {
  const file = path.join(SHARED, 'models/onnx-zoo', model);
  const original = (await openSession(file, { device: 'cpu', intraOpThreads: 1 })).session;
  const logits: Float32Array[] = [];
  for (const photo of photos) logits.push(await scores(original, photo));
  const reference = logits.map(softmax);
  const mb = (name: string) => (statSync(name).size / 1e6).toFixed(2);
  console.log(
    `| ${model} | int8 original | ${(await bestMs(original, 224, 224, 50)).toFixed(1)} | | ${mb(file)} | | | |`,
  );
  for (const dequantize of [false, true]) {
    const out = path.join(scratch, `${model}-${dequantize}`);
    await importModel({
      ...{ file, out, dequantize, name: 'measured', labels: path.join(SHARED, 'models/imagenet_class_index.json') },
      ...input,
    });
    const { session } = await openSession(path.join(out, 'model.onnx'), { device: 'cpu', intraOpThreads: 1 });
    let agree = 0;
    let worst = 0;
    let worstScore = 0;
    for (let i = 0; i < photos.length; i++) {
      const map = await scores(session, photos[i]);
      const p = softmax(map);
      agree += Number(argmax(p) === argmax(reference[i]));
      worst = Math.max(worst, ...p.map((v, k) => Math.abs(v - reference[i][k])));
      const largest = Math.max(1, ...Array.from(logits[i], Math.abs));
      worstScore = Math.max(worstScore, ...Array.from(map, (v, k) => Math.abs(v - logits[i][k]) / largest));
    }
    const [small, dense] = [await bestMs(session, 224, 224, 50), await bestMs(session, 480, 640, 20)];
    console.log(
      `| | ${dequantize ? 'imported, all float (--dequantize)' : 'imported, int8 (default)'} | ` +
        `${small.toFixed(1)} | ${dense.toFixed(1)} | ${mb(path.join(out, 'model.onnx'))} | ` +
        `${agree}/${photos.length} | ${worst.toFixed(3)} | ${worstScore.toFixed(3)} |`,
    );
    await session.release();
  }
  await original.release();
}
rmSync(scratch, { recursive: true, force: true });
