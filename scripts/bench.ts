// `npm run bench [-- --quick] [--json FILE]`: what unrolling buys and what the server costs, each figure a
// ratio of two things measured side by side in this run (absolute times drift on shared machines).
// - unrolledVsSliding: one dense pass of every bundled model against its window classifier slid over the same
//   input (bench/sliding.ts), with the analytic MAC ratio from the graph (bench/flops.ts);
// - int8VsFloat, ortVsTorch, computeEfficiency, sizeScaling: the dense pass against its float form, PyTorch, the
//   machine's peak and larger images (bench/model-parts.ts);
// - serverVsInProcess, batchVsServer, memory: the default tagger in-process, over HTTP and from `npm run tag`
//   against a real server process (bench/server-part.ts).
// Prints lines as it goes and writes JSON (--json). docs/benchmarks.md explains the figures.
import { readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { positiveInteger } from './cli-numbers.ts';
import { BUNDLED_MODELS, defaultConfig, loadRegistry, ortVersion } from '../model/index.ts';
import {
  efficiencyPart,
  int8Part,
  scalingPart,
  slidingPart,
  torchPart,
  type ModelPartOptions,
} from './bench/model-parts.ts';
import { serverPart } from './bench/server-part.ts';

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const PARTS = ['sliding', 'int8', 'torch', 'efficiency', 'scaling', 'server', 'batch'] as const;
type Part = (typeof PARTS)[number];

interface Options {
  quick: boolean;
  tiny: boolean;
  json: string;
  models: string;
  only?: string[];
  photo: string;
  photos: string;
  count: number;
  threads?: number;
  concurrency?: number;
  seconds?: number;
  skip: Part[];
}

const list = (value: string) => value.split(',').filter(Boolean);
const parts = (value: string) => {
  const names = list(value);
  const bad = names.filter((n) => !(PARTS as readonly string[]).includes(n));
  if (bad.length) throw new InvalidArgumentError(`unknown part ${bad.join(', ')}; parts: ${PARTS.join(', ')}`);
  return names as Part[];
};

function parseArgs(argv: string[]): Options {
  const shared = path.join(repoRoot, '../shared');
  return new Command('npm run bench --')
    .description(
      'unrolled vs sliding, int8 vs float, onnxruntime vs PyTorch, the peak, the server and the batch script',
    )
    .option('--quick', 'short runs: sliding timed on a sample of windows, 20 s load runs (under 10 min)', false)
    .option('--tiny', 'smoke test: fashion only at 64x64, 2 s load runs', false)
    .option('--json <file>', 'JSON results', './bench-results.json')
    .option('--models <dir>', 'folder of model folders', BUNDLED_MODELS)
    .option('--only <names>', 'comma-separated models for the per-model parts (default: all)', list)
    .option('--photo <file>', 'photo the per-model parts resize', path.join(shared, 'photos/rocket.jpg'))
    .option('--photos <dir>', 'folder of JPEG photos for the load runs', path.join(shared, 'data/msrc21/images'))
    .option('--count <n>', 'photos taken from --photos', positiveInteger, 19)
    .option(
      '--threads <n>',
      'onnxruntime intra-op threads for the per-model parts (default: the server default)',
      positiveInteger,
    )
    .option(
      '--concurrency <n>',
      'load concurrency (default: the smallest that saturates, from a sweep)',
      positiveInteger,
    )
    .option('--seconds <n>', 'length of each load run', positiveInteger)
    .option('--skip <parts>', `comma-separated: ${PARTS.join(', ')}`, parts, [])
    .parse(argv)
    .opts<Options>();
}

const round = (n: number, digits = 2) => +n.toFixed(digits);

function agreementPhotos(options: Options): string[] {
  const dir = options.photos;
  const files = readdirSync(dir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort();
  return files.slice(0, options.tiny ? 1 : options.quick ? 3 : 8).map((f) => path.join(dir, f));
}

async function modelParts(options: Options, threads: number, defaultModel: string) {
  const entries = await loadRegistry(options.models);
  const names = options.only ?? (options.tiny ? ['fashion'] : entries.map((e) => e.name));
  const missing = names.filter((n) => !entries.some((e) => e.name === n));
  if (missing.length) throw new Error(`no model ${missing.join(', ')} in ${options.models}`);
  const tiny = options.tiny;
  const o: ModelPartOptions = {
    entries: entries.filter((e) => names.includes(e.name)),
    photo: options.photo,
    agreementPhotos: agreementPhotos(options),
    threads,
    repeats: options.quick || tiny ? 3 : 5,
    sizes: tiny
      ? [[64, 64]]
      : [
          [512, 512],
          [1024, 768],
        ],
    large: tiny ? [64, 64] : [1024, 768],
    sliding: {
      full: !options.quick && !tiny,
      sampleMs: tiny ? 100 : options.quick ? 1200 : 3000,
      batches: tiny ? [1, 8] : [1, 4, 16, 64, 256],
    },
    peakSize: tiny ? 512 : 4096,
    scalingModels: tiny ? ['fashion'] : [defaultModel, 'camvid'],
    scalingSides: tiny ? [64, 128] : [256, 512, 1024, 2048],
    torchModel: tiny ? 'fashion' : 'camvid',
  };
  const want = (part: Part) => !options.skip.includes(part);
  const section = async <T>(part: Part, title: string, run: () => Promise<T>) => {
    if (!want(part)) return undefined;
    console.log(title);
    return run();
  };
  return {
    unrolledVsSliding: await section('sliding', `unrolledVsSliding (${threads} intra-op thread(s)):`, () =>
      slidingPart(o),
    ),
    int8VsFloat: await section('int8', `int8VsFloat at ${o.large.join('x')}:`, () => int8Part(o)),
    ortVsTorch: await section('torch', 'ortVsTorch:', () => torchPart(o)),
    computeEfficiency: await section('efficiency', 'computeEfficiency:', () => efficiencyPart(o)),
    sizeScaling: await section('scaling', 'sizeScaling (square inputs):', () => scalingPart(o)),
  };
}

async function serverParts(options: Options, defaultModel: string) {
  if (options.skip.includes('server')) return {};
  const part = await serverPart(
    {
      repoRoot,
      photos: options.photos,
      count: options.count,
      seconds: options.seconds ?? (options.tiny ? 2 : options.quick ? 20 : 40),
      sweepSeconds: options.tiny ? 1 : options.quick ? 5 : 10,
      sweep: options.tiny ? [1, 2] : [1, 2, 4, 8],
      concurrency: options.concurrency,
      batchImages: options.skip.includes('batch') ? 0 : options.tiny ? 6 : options.quick ? 60 : 150,
    },
    defaultModel,
  );
  const { concurrency, inProcess, http, layout } = part;
  const serverVsInProcess = {
    concurrency,
    model: defaultModel,
    inProcessImagesPerSec: inProcess.imagesPerSec,
    serverImagesPerSec: http.imagesPerSec,
    ratio: round(http.imagesPerSec / inProcess.imagesPerSec),
    p50Ms: http.p50Ms,
    p99Ms: http.p99Ms,
    inProcessP50Ms: inProcess.p50Ms,
    inProcessP99Ms: inProcess.p99Ms,
    healthzP99Ms: http.healthzP99Ms,
    layout: `${layout.workers} worker(s) x ${layout.threadsPerWorker} intra-op thread(s), ${layout.cores} cores`,
    errors: inProcess.errors + http.errors,
  };
  console.table([serverVsInProcess]);
  return {
    serverVsInProcess,
    batchVsServer: part.batch.length ? part.batch : undefined,
    memory: http.memory,
    serverDetail: { sweep: part.sweep, inProcess, http },
  };
}

async function main() {
  const options = parseArgs(process.argv);
  const started = Date.now();
  const entries = await loadRegistry(options.models);
  const defaultModel = entries.some((e) => e.name === 'imagenet') ? 'imagenet' : entries[0].name;
  const threads = options.threads ?? defaultConfig().threadsPerWorker;
  console.log(
    `tagmap bench${options.quick ? ' --quick' : ''}${options.tiny ? ' --tiny' : ''}: ${cpus()[0]?.model}, ` +
      `${availableParallelism()} cores, node ${process.version}, onnxruntime ${ortVersion()}`,
  );
  const perModel = await modelParts(options, threads, defaultModel);
  const server = await serverParts(options, defaultModel);
  const report = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpu: cpus()[0]?.model,
      cores: availableParallelism(),
      memoryGB: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      onnxruntime: ortVersion(),
      gpu: null,
    },
    defaultModel,
    threads,
    ...perModel,
    ...server,
    seconds: round((Date.now() - started) / 1000, 0),
  };
  writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${options.json} (${report.seconds} s)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
