// npm run measure-parse -- --server URL --model NAME --data DIR [--split test]
// Scores a running tagmap's scene parsing over real HTTP: every image of a split of a scene data set (the
// trainer's layout: SPLIT/images/*.jpg|png, SPLIT/labels/*.png, classes.json) goes to POST /v1/parse as an
// upload, and the grey label PNG that comes back is scored against the ground truth as the trainer scores it
// (void pixels skipped; global pixel accuracy, class average recall, mean IoU over the classes present,
// and recall and IoU per class).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { decodeLabelPng } from '../model/index.ts';
import { parseOrExit } from './parse-or-exit.ts';

const program = new Command('measure-parse')
  .description("Score a running tagmap server's label maps on a scene data set split, over HTTP.")
  .requiredOption('--server <url>', 'the running server, e.g. http://localhost:8080')
  .requiredOption('--model <name>', 'a scene model the server serves, e.g. camvid')
  .requiredOption('--data <dir>', 'the data set folder, e.g. ../shared/data/camvid')
  .option('--split <name>', 'which split to score', 'test')
  .option('--limit <n>', 'score only the first N images', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
    return n;
  });

parseOrExit(program);

interface Classes {
  labels: Array<{ id: number; name: string }>;
  ignore: number;
}
const options = program.opts<{ server: string; model: string; data: string; split: string; limit?: number }>();
const server = options.server.replace(/\/$/, '');

const classes: Classes = JSON.parse(readFileSync(path.join(options.data, 'classes.json'), 'utf8'));
const K = classes.labels.length;
const modelInfo = await fetch(`${server}/v1/models/${encodeURIComponent(options.model)}`);
if (!modelInfo.ok)
  fail(`${server} does not serve model ${options.model}: ${modelInfo.status} ${await modelInfo.text()}`);
const card = (await modelInfo.json()) as {
  labels: Array<{ id: number; name: string }>;
  metrics?: Record<string, unknown>;
};
// model ids -> data set ids by name, so that no ordering is assumed; -1 for a model label the data set lacks
const datasetId = new Map(classes.labels.map((l) => [l.name, l.id]));
const toDataset = new Int32Array(256).fill(-1);
for (const label of card.labels) toDataset[label.id] = datasetId.get(label.name) ?? -1;

const imagesDir = path.join(options.data, options.split, 'images');
const names = readdirSync(imagesDir)
  .filter((f) => /\.(jpe?g|png)$/i.test(f))
  .sort()
  .slice(0, options.limit);
const confusion = new Float64Array(K * K); // rows: true class, columns: predicted
let unmatched = 0;
const started = performance.now();

for (const [i, name] of names.entries()) {
  const form = new FormData();
  form.append('image', new Blob([readFileSync(path.join(imagesDir, name))]), name);
  const res = await fetch(`${server}/v1/parse?model=${encodeURIComponent(options.model)}&format=png`, {
    method: 'POST',
    body: form,
  });
  if (!res.ok) fail(`${name}: ${res.status} ${await res.text()}`);
  const predicted = await decodeLabelPng(Buffer.from(await res.arrayBuffer()));
  const truth = await decodeLabelPng(
    readFileSync(path.join(options.data, options.split, 'labels', name.replace(/\.\w+$/, '.png'))),
  );
  if (predicted.width !== truth.width || predicted.height !== truth.height) {
    fail(`${name}: label map is ${predicted.width}x${predicted.height}, the truth ${truth.width}x${truth.height}`);
  }
  for (let p = 0; p < truth.labels.length; p++) {
    const t = truth.labels[p];
    if (t === classes.ignore || t >= K) continue;
    const q = toDataset[predicted.labels[p]];
    if (q < 0) unmatched++;
    else confusion[t * K + q]++;
  }
  if ((i + 1) % 25 === 0 || i + 1 === names.length) {
    process.stderr.write(
      `${i + 1}/${names.length} images, ${((i + 1) / ((performance.now() - started) / 1000)).toFixed(1)} images/s\n`,
    );
  }
}

let hits = 0;
let total = unmatched;
const perClass: Record<string, { recall: number; iou: number }> = {};
for (const { id, name } of classes.labels) {
  let row = 0;
  let column = 0;
  for (let j = 0; j < K; j++) {
    row += confusion[id * K + j];
    column += confusion[j * K + id];
  }
  const hit = confusion[id * K + id];
  hits += hit;
  total += row;
  // absent classes are not averaged
  if (row > 0) perClass[name] = { recall: hit / row, iou: hit / (row + column - hit) };
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const present = Object.values(perClass);
const measured = {
  globalAccuracy: hits / total,
  classAverage: mean(present.map((c) => c.recall)),
  meanIoU: mean(present.map((c) => c.iou)),
};
console.log(
  JSON.stringify(
    {
      model: options.model,
      split: options.split,
      images: names.length,
      measured,
      card: card.metrics ?? null,
      perClass,
    },
    null,
    2,
  ),
);

function fail(message: string): never {
  process.stderr.write(`measure-parse: ${message}\n`);
  process.exit(1);
}
