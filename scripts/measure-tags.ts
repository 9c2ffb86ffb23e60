// npm run measure-tags -- --data DIR [--split test] [--server URL] [--model M] [--map FILE] [--classes A,B] [--pool P]
//   [--scales 1,2] [--limit N] [--min-share 0.01] [--json FILE]
// Scores image-level tags against a scene-labelled data set (MSRC-21's layout): a data-set class is present in
// an image when it covers at least --min-share of its non-void pixels; its score is the best score of the model
// labels the mapping file gives it; per class, the average precision of ranking the images by that score, and
// their mean (mAP). Tags come from a running server (--server) or from createTagmap() in-process.
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { positiveInteger } from './cli-numbers.ts';
import { LIMITS, SCORE_POOLINGS, type ScorePooling } from '../model/index.ts';
import { readApiKey } from './batch/api-key.ts';
import { DatasetError } from './measure-tags/dataset.ts';
import { readEvaluation } from './measure-tags/evaluation.ts';
import { MappingError } from './measure-tags/mapping.ts';
import { formatTable } from './measure-tags/report.ts';
import { ImageError, measure } from './measure-tags/run.ts';
import { TagRequestError, localTagger, remoteTagger, type Tagger } from './measure-tags/taggers.ts';
import { parseOrExit } from './parse-or-exit.ts';

const DEFAULT_MAP = path.relative(process.cwd(), path.join(import.meta.dirname, 'measure-tags/msrc21-imagenet.json'));

const share = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
};
const { min, max, count } = LIMITS.scale;
const scaleList = (v: string) => {
  const values = v.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
  if (values.length > count || values.some((s) => !(s >= min && s <= max))) {
    throw new InvalidArgumentError(`expected 1 to ${count} comma-separated numbers from ${min} to ${max}`);
  }
  return values;
};

const program = new Command('measure-tags')
  .description('Score image-level tags on a scene-labelled data set split: per-class average precision and mAP.')
  .requiredOption('--data <dir>', 'the data set folder, e.g. ../shared/data/msrc21')
  .option('--split <names>', 'the split(s) to score, comma-separated, e.g. train,val', 'test')
  .option('--server <url>', 'a running server (POST /v1/tags; sends TAGMAP_API_KEY if set); default: in-process')
  .option('--models <dir>', 'in-process: the models folder (default: the bundled zoo)')
  .option('--model <name>', "the model (default: the mapping's model, else the server's default tagger)")
  .option('--map <file>', 'the mapping file: data-set class -> model labels', DEFAULT_MAP)
  .option('--classes <names>', 'evaluate only these classes of the mapping, comma-separated')
  .addOption(new Option('--pool <how>', "score pooling (default: the model's)").choices(SCORE_POOLINGS))
  .option('--scales <list>', "scales, e.g. 1,2 (default: the model's)", scaleList)
  .option('--limit <n>', 'score only the first N images', positiveInteger)
  .option('--min-share <share>', 'a class is present from this share of the non-void pixels', share, 0.01)
  .option(
    '--concurrency <n>',
    'requests in flight (in-process: as many worker threads, at most one per core)',
    positiveInteger,
    2,
  )
  .option('--json <file>', 'also write the report, with every image’s scores, as JSON');

parseOrExit(program);

interface Options {
  data: string;
  split: string;
  server?: string;
  models?: string;
  model?: string;
  map: string;
  classes?: string;
  pool?: ScorePooling;
  scales?: number[];
  limit?: number;
  minShare: number;
  concurrency: number;
  json?: string;
}
const options = program.opts<Options>();

function exit(code: 1 | 2, message: string): never {
  process.stderr.write(`measure-tags: ${message}\n`);
  if (code === 2) process.stderr.write(`\n${program.helpInformation()}`);
  process.exit(code);
}

let apiKey;
try {
  apiKey = options.server ? readApiKey(undefined, process.env) : undefined;
} catch (error) {
  exit(2, (error as Error).message);
}

let tagger: Tagger | undefined;
try {
  const evaluation = readEvaluation(options);
  const { mapping } = evaluation;
  const images = evaluation.images.slice(0, options.limit);
  const model = options.model ?? mapping.model;
  tagger = options.server
    ? remoteTagger(options.server, apiKey)
    : await localTagger({ modelsDir: options.models, workers: Math.min(options.concurrency, availableParallelism()) });
  const started = performance.now();
  const report = await measure({
    ...evaluation,
    images,
    tagger,
    options: {
      ...(model && { model }),
      ...(options.pool && { pool: options.pool }),
      ...(options.scales && { scales: options.scales }),
    },
    minShare: options.minShare,
    concurrency: options.concurrency,
    progress: (done, total) => {
      if (done % 50 === 0 || done === total) {
        const rate = done / ((performance.now() - started) / 1000);
        process.stderr.write(`${done}/${total} images, ${rate.toFixed(1)} images/s\n`);
      }
    },
  });
  console.log(formatTable(report));
  if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
} catch (error) {
  if (error instanceof DatasetError || error instanceof MappingError) exit(2, error.message);
  const cause = error instanceof ImageError ? error.cause : error;
  if (cause instanceof TagRequestError && cause.isUsage) exit(2, `${cause.code}: ${cause.message}`);
  exit(1, (error as Error).message);
} finally {
  await tagger?.close();
}
