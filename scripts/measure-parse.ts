// npm run measure-parse -- --server URL --model NAME --data DIR [--split test] [--map FILE] [--limit N]
// Scores a running tagmap's scene parsing over real HTTP: every image of a split of a scene data set goes to
// POST /v1/parse as an upload (with the API key in TAGMAP_API_KEY, if set), and the grey label PNG that comes back is scored against the ground truth as the
// trainer scores it (void pixels skipped; global pixel accuracy, class average recall, mean IoU over the classes
// present, and recall and IoU per class).
// Data sets in either layout: the trainer's (SPLIT/images/*.jpg|png, SPLIT/labels/*.png, classes.json) or
// MSRC-21's (images/, labels/, classes.json and splits.json naming each split's images).
// Model classes match data-set classes by name, or through --map FILE (scripts/measure-parse/mapping.ts says how
// a mapping scores: over the data-set classes it reaches, unmapped model classes wrong or ignored).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { positiveInteger } from './cli-numbers.ts';
import { decodeLabelPng } from '../model/index.ts';
import { authorization, readApiKey } from './batch/api-key.ts';
import { parseOrExit } from './parse-or-exit.ts';
import { byName, MappingError, readMapping, type Scoring } from './measure-parse/mapping.ts';
import { DatasetError, imagesOf, readDataset } from './measure-tags/dataset.ts';

const program = new Command('measure-parse')
  .description("Score a running tagmap server's label maps on a scene data set split, over HTTP.")
  .requiredOption('--server <url>', 'the running server, e.g. http://localhost:8080 (sends TAGMAP_API_KEY if set)')
  .requiredOption('--model <name>', 'a scene model the server serves, e.g. camvid')
  .requiredOption('--data <dir>', 'the data set folder, e.g. ../shared/data/camvid or ../shared/data/msrc21')
  .option('--split <name>', 'which split to score (a folder, or a list of splits.json)', 'test')
  .option('--map <file>', 'model classes -> data-set classes, e.g. scripts/measure-parse/voc-msrc21.json')
  .option('--limit <n>', 'score only the first N images', positiveInteger);

parseOrExit(program);

interface Classes {
  labels: Array<{ id: number; name: string }>;
  ignore: number;
}
const options = program.opts<{
  server: string;
  model: string;
  data: string;
  split: string;
  map?: string;
  limit?: number;
}>();
const server = options.server.replace(/\/$/, '');
let headers: Record<string, string> = {};
try {
  headers = authorization(readApiKey(undefined, process.env));
} catch (error) {
  fail((error as Error).message);
}

const classes: Classes = JSON.parse(readFileSync(path.join(options.data, 'classes.json'), 'utf8'));
const modelInfo = await fetch(`${server}/v1/models/${encodeURIComponent(options.model)}`, { headers });
if (!modelInfo.ok)
  fail(`${server} does not serve model ${options.model}: ${modelInfo.status} ${await modelInfo.text()}`);
const card = (await modelInfo.json()) as {
  labels: Array<{ id: number; name: string }>;
  metrics?: Record<string, unknown>;
};

let scoring: Scoring;
try {
  scoring = options.map
    ? readMapping(options.map, classes.labels, classes.ignore, card.labels)
    : byName(classes.labels, classes.ignore, card.labels);
} catch (error) {
  if (error instanceof MappingError) fail(error.message);
  throw error;
}
const S = scoring.scored.length;

const images = listImages().slice(0, options.limit);
// rows: the scored true classes, then (row S) truth of classes the mapping does not reach;
// columns: the scored predicted classes, then (column S) predictions of unmapped model classes
const confusion = new Float64Array((S + 1) * (S + 1));
let ignoredUnmapped = 0;
const started = performance.now();

for (const [i, image] of images.entries()) {
  const form = new FormData();
  form.append('image', new Blob([readFileSync(image.imagePath)]), path.basename(image.imagePath));
  const res = await fetch(`${server}/v1/parse?model=${encodeURIComponent(options.model)}&format=png`, {
    method: 'POST',
    headers,
    body: form,
  });
  if (!res.ok) fail(`${image.name}: ${res.status} ${await res.text()}`);
  const predicted = await decodeLabelPng(Buffer.from(await res.arrayBuffer()));
  const truth = await decodeLabelPng(readFileSync(image.labelPath));
  if (predicted.width !== truth.width || predicted.height !== truth.height) {
    fail(
      `${image.name}: label map is ${predicted.width}x${predicted.height}, the truth ${truth.width}x${truth.height}`,
    );
  }
  for (let p = 0; p < truth.labels.length; p++) {
    const t = scoring.truth[truth.labels[p]];
    if (t === -2) continue; // void
    const q = scoring.predicted[predicted.labels[p]];
    if (q < 0 && scoring.unmapped === 'ignore') {
      ignoredUnmapped++;
      continue;
    }
    confusion[(t < 0 ? S : t) * (S + 1) + (q < 0 ? S : q)]++;
  }
  if ((i + 1) % 25 === 0 || i + 1 === images.length) {
    process.stderr.write(
      `${i + 1}/${images.length} images, ${((i + 1) / ((performance.now() - started) / 1000)).toFixed(1)} images/s\n`,
    );
  }
}

let hits = 0;
let total = 0;
let unmappedPredicted = 0;
let outsidePredicted = 0;
const perClass: Record<string, { recall: number; iou: number }> = {};
for (const [id, name] of scoring.scored.entries()) {
  let row = 0;
  let column = 0;
  for (let j = 0; j <= S; j++) {
    row += confusion[id * (S + 1) + j];
    column += confusion[j * (S + 1) + id];
  }
  const hit = confusion[id * (S + 1) + id];
  hits += hit;
  total += row;
  unmappedPredicted += confusion[id * (S + 1) + S];
  outsidePredicted += confusion[S * (S + 1) + id];
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
const unmappedModel = Object.entries(scoring.modelClasses)
  .filter(([, target]) => target === null)
  .map(([name]) => name);
console.log(
  JSON.stringify(
    {
      model: options.model,
      split: options.split,
      images: images.length,
      measured,
      card: card.metrics ?? null,
      perClass,
      mapping: {
        file: scoring.file,
        ...(scoring.description ? { description: scoring.description } : {}),
        scored: scoring.scored,
        merged: scoring.merged,
        unscoredDatasetClasses: scoring.unscored,
        modelClasses: scoring.modelClasses,
        unmappedModelClasses: unmappedModel,
        unmapped:
          scoring.unmapped === 'wrong'
            ? 'wrong: a pixel predicted as an unmapped model class counts as a wrong prediction'
            : 'ignore: pixels predicted as an unmapped model class are not scored',
        pixels: {
          scored: total,
          predictedUnmapped: scoring.unmapped === 'wrong' ? unmappedPredicted : ignoredUnmapped,
          ...(scoring.unscored.length > 0
            ? {
                unscored: confusion.slice(S * (S + 1)).reduce((a, b) => a + b, 0),
                unscoredPredictedAsScored: outsidePredicted,
              }
            : {}),
        },
      },
    },
    null,
    2,
  ),
);

/** The split's images and label maps, in either layout; fails naming what is missing. */
function listImages(): Array<{ name: string; imagePath: string; labelPath: string }> {
  const imagesDir = path.join(options.data, options.split, 'images');
  if (existsSync(imagesDir)) {
    return readdirSync(imagesDir)
      .filter((f) => /\.(jpe?g|png)$/i.test(f))
      .sort()
      .map((f) => ({
        name: f,
        imagePath: path.join(imagesDir, f),
        labelPath: path.join(options.data, options.split, 'labels', f.replace(/\.\w+$/, '.png')),
      }));
  }
  if (!existsSync(path.join(options.data, 'splits.json'))) {
    fail(`${options.data} has neither ${options.split}/images (the trainer's layout) nor splits.json (MSRC-21's)`);
  }
  try {
    return imagesOf(readDataset(options.data), [options.split]);
  } catch (error) {
    if (error instanceof DatasetError) fail(error.message);
    throw error;
  }
}

function fail(message: string): never {
  process.stderr.write(`measure-parse: ${message}\n`);
  process.exit(1);
}
