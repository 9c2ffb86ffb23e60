// int8VsFloat: for each bundled model stored with int8 activations (QuantizeLinear/DequantizeLinear pairs), the
// same graph dequantized whole (the importer's --dequantize conversion applied to the bundled file) against it:
// dense-pass time at W x H and how far their maps agree over real photos (the share of cells whose top class is
// the same, and the largest difference of a class probability, softmax over the classes of a cell).
import { readFileSync } from 'node:fs';
import { decodeModel, dequantizeModel, encodeModel, isQuantized } from '../../model/import/index.ts';
import type { ModelEntry } from '../../model/index.ts';
import { denseRunner, photoTensor } from './dense.ts';

export interface Int8Row {
  model: string;
  width: number;
  height: number;
  int8Ms: number;
  floatMs: number;
  /** floatMs / int8Ms */
  speedup: number;
  photos: number;
  cells: number;
  topAgreement: number;
  /** the same over the cells where either form gives its top class a probability of 0.5 or more */
  confidentAgreement: number;
  maxProbDiff: number;
  int8MB: number;
  floatMB: number;
}

export interface Int8Options {
  threads: number;
  repeats: number;
  width: number;
  height: number;
}

/** Per-cell softmax of a [1, K, rows, cols] map, as [cell][k]. */
function cellProbabilities(map: { dims: number[]; data: Float32Array }): Float32Array[] {
  const [, K, rows, cols] = map.dims;
  const cells = rows * cols;
  return Array.from({ length: cells }, (_, cell) => {
    const p = new Float32Array(K);
    let top = -Infinity;
    for (let k = 0; k < K; k++) top = Math.max(top, (p[k] = map.data[k * cells + cell]));
    let sum = 0;
    for (let k = 0; k < K; k++) sum += p[k] = Math.exp(p[k] - top);
    return p.map((v) => v / sum);
  });
}

const argmax = (p: Float32Array) => p.reduce((best, v, k) => (v > p[best] ? k : best), 0);

/** null for a model with no int8 form (trained here in float: camvid, fashion; fine-tuned in float: msrc21). */
export async function int8VsFloat(entry: ModelEntry, photos: string[], options: Int8Options): Promise<Int8Row | null> {
  const bytes = readFileSync(entry.modelPath);
  const model = decodeModel(bytes, entry.modelPath);
  if (!isQuantized(model)) return null;
  dequantizeModel(model);
  const floatBytes = encodeModel(model);
  const { width, height, repeats, threads } = options;
  const int8 = await denseRunner(entry, threads);
  const float = await denseRunner(entry, threads, { model: floatBytes });
  const tensors = await Promise.all(photos.map((photo) => photoTensor(photo, entry.card.input, width, height)));
  // timed on the first photo, alternating so that drift on a shared machine hits both alike
  let int8Ms = 0;
  let floatMs = 0;
  for (let round = 0; round < 2; round++) {
    int8Ms += (await int8.time(tensors[0], width, height, repeats)).ms / 2;
    floatMs += (await float.time(tensors[0], width, height, repeats)).ms / 2;
  }
  let agree = 0;
  let cells = 0;
  let confident = 0;
  let confidentAgree = 0;
  let maxProbDiff = 0;
  for (const tensor of tensors) {
    const a = cellProbabilities(await int8.run(tensor, 1, width, height));
    const b = cellProbabilities(await float.run(tensor, 1, width, height));
    for (let cell = 0; cell < a.length; cell++) {
      const [ta, tb] = [argmax(a[cell]), argmax(b[cell])];
      if (ta === tb) agree++;
      if (a[cell][ta] >= 0.5 || b[cell][tb] >= 0.5) {
        confident++;
        if (ta === tb) confidentAgree++;
      }
      for (let k = 0; k < a[cell].length; k++) maxProbDiff = Math.max(maxProbDiff, Math.abs(a[cell][k] - b[cell][k]));
    }
    cells += a.length;
  }
  await Promise.all([int8.release(), float.release()]);
  return {
    model: entry.name,
    width,
    height,
    int8Ms: +int8Ms.toFixed(1),
    floatMs: +floatMs.toFixed(1),
    speedup: +(floatMs / int8Ms).toFixed(2),
    photos: photos.length,
    cells,
    topAgreement: +(agree / cells).toFixed(4),
    confidentAgreement: +(confidentAgree / Math.max(1, confident)).toFixed(4),
    maxProbDiff: +maxProbDiff.toPrecision(3),
    int8MB: +(bytes.length / 2 ** 20).toFixed(2),
    floatMB: +(floatBytes.length / 2 ** 20).toFixed(2),
  };
}
