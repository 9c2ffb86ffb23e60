// `npm run bench [-- --quick] [--json FILE]`: what unrolling buys and what the server costs, each figure a
// ratio of two things measured side by side in this run (absolute times drift on shared machines).
// - unrolledVsSliding: one dense pass of every bundled model against its window classifier slid over
//   the same input (scripts/bench/sliding.ts), with the analytic MAC ratio from the graph (bench/flops.ts);
// - serverVsInProcess: the same photos and default tagger in-process and over HTTP with autocannon
//   against a real server process, at the concurrency that saturates the machine (bench/serve.ts).
// Prints tables and writes JSON (--json). docs/benchmarks.md explains the figures.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { BUNDLED_MODELS, defaultConfig, loadRegistry, ortVersion } from '../model/index.ts';
import { httpLoad, inProcessLoad, openTagmap, startServer, type LoadStats } from './bench/serve.ts';
import { unrolledVsSliding, type SlidingRow } from './bench/sliding.ts';

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const SIZES = [
  [512, 512],
  [1024, 768],
] as const;

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
  skip: Array<'sliding' | 'server'>;
}

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number >= 1');
  return n;
};
const list = (value: string) => value.split(',').filter(Boolean);

function parseArgs(argv: string[]): Options {
  return new Command('npm run bench --')
    .description('unrolled vs sliding window for every bundled model; the server vs in-process')
    .option('--quick', 'short runs: sliding timed on a sample of windows, 20 s load runs (under 10 min)', false)
    .option('--tiny', 'smoke test: fashion only at 64x64, 2 s load runs', false)
    .option('--json <file>', 'JSON results', './bench-results.json')
    .option('--models <dir>', 'folder of model folders', BUNDLED_MODELS)
    .option('--only <names>', 'comma-separated models for unrolledVsSliding (default: all)', list)
    .option(
      '--photo <file>',
      'photo the sliding comparison resizes',
      path.join(repoRoot, '../shared/photos/rocket.jpg'),
    )
    .option(
      '--photos <dir>',
      'folder of JPEG photos for the load runs',
      path.join(repoRoot, '../shared/data/msrc21/images'),
    )
    .option('--count <n>', 'photos taken from --photos', positive, 19)
    .option(
      '--threads <n>',
      'onnxruntime intra-op threads for unrolledVsSliding (default: the server default)',
      positive,
    )
    .option('--concurrency <n>', 'load concurrency (default: the smallest that saturates, from a sweep)', positive)
    .option('--seconds <n>', 'length of each load run', positive)
    .option('--skip <parts>', 'comma-separated: sliding, server', list, [])
    .parse(argv)
    .opts<Options>();
}

const round = (n: number, digits = 2) => +n.toFixed(digits);

async function slidingPart(options: Options, threads: number): Promise<SlidingRow[]> {
  const entries = await loadRegistry(options.models);
  const chosen = options.tiny ? ['fashion'] : (options.only ?? entries.map((e) => e.name));
  const sizes = options.tiny ? [[64, 64] as const] : SIZES;
  const rows: SlidingRow[] = [];
  for (const name of chosen) {
    const entry = entries.find((e) => e.name === name);
    if (!entry) throw new Error(`no model "${name}" in ${options.models}`);
    for (const [width, height] of sizes) {
      const row = await unrolledVsSliding(entry, options.photo, width, height, {
        threads,
        repeats: options.quick || options.tiny ? 3 : 5,
        full: !options.quick && !options.tiny,
        sampleMs: options.tiny ? 100 : options.quick ? 1200 : 3000,
        batches: options.tiny ? [1, 8] : [1, 4, 16, 64, 256],
        maxBatchBytes: 160 << 20,
      });
      rows.push(row);
      const sweep = row.sweep.map((s) => `b${s.batch} ${s.msPerWindow}`).join(', ');
      console.log(
        `  ${name} ${width}x${height}: dense ${row.denseMs} ms, sliding ${row.slidingMs ?? '-'} ms` +
          (row.ratio === null ? ` (${row.note})` : ` (x${row.ratio}, flops x${row.flopRatio}; ms/window: ${sweep})`),
      );
    }
  }
  return rows;
}

function loadPhotos(options: Options): Buffer[] {
  if (!existsSync(options.photos)) throw new Error(`no photos folder ${options.photos} (give one with --photos)`);
  const files = readdirSync(options.photos)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, options.count);
  if (!files.length) throw new Error(`no JPEG photos in ${options.photos}`);
  return files.map((f) => readFileSync(path.join(options.photos, f)));
}

async function serverPart(options: Options, defaultModel: string) {
  const photos = loadPhotos(options);
  const seconds = options.seconds ?? (options.tiny ? 2 : options.quick ? 20 : 40);
  const config = defaultConfig();
  const layout = {
    workers: config.workers,
    threadsPerWorker: config.threadsPerWorker,
    cores: availableParallelism(),
  };
  console.log(
    `serverVsInProcess: ${photos.length} photos, model=${defaultModel}, ` +
      `${layout.workers} worker(s) x ${layout.threadsPerWorker} intra-op thread(s) on ${layout.cores} cores`,
  );

  const tagmap = await openTagmap();
  await inProcessLoad(tagmap, photos, defaultModel, 1, 1); // warm-up
  const sweep: LoadStats[] = [];
  let concurrency = options.concurrency;
  if (!concurrency) {
    // the smallest concurrency within 5% of the best throughput saturates the machine
    for (const c of options.tiny ? [1, 2] : [1, 2, 4, 8]) {
      const stats = await inProcessLoad(tagmap, photos, defaultModel, c, options.tiny ? 1 : options.quick ? 5 : 10);
      sweep.push(stats);
      console.log(`  in-process c=${c}: ${stats.imagesPerSec} images/s, p50 ${stats.p50Ms} ms, p99 ${stats.p99Ms} ms`);
    }
    const best = Math.max(...sweep.map((s) => s.imagesPerSec));
    concurrency = sweep.find((s) => s.imagesPerSec >= 0.95 * best)!.concurrency;
    // saturated means every worker busy and one job waiting for each, at least
    concurrency = Math.max(concurrency, 2 * layout.workers);
  }
  const inProcess = await inProcessLoad(tagmap, photos, defaultModel, concurrency, seconds);
  console.log(
    `  in-process c=${concurrency}: ${inProcess.imagesPerSec} images/s, p50 ${inProcess.p50Ms} ms, ` +
      `p99 ${inProcess.p99Ms} ms; median ${JSON.stringify(inProcess.medianTimings)}`,
  );
  await tagmap.close();
  const server = await startServer(repoRoot, {});
  try {
    await httpLoad(server, photos, defaultModel, 1, options.tiny ? 1 : 2); // warm-up
    const http = await httpLoad(server, photos, defaultModel, concurrency, seconds);
    console.log(
      `  HTTP c=${concurrency}: ${http.imagesPerSec} images/s, p50 ${http.p50Ms} ms, p99 ${http.p99Ms} ms, ` +
        `/healthz p99 ${http.healthzP99Ms} ms, errors ${http.errors}`,
    );
    return { concurrency, inProcess, http, sweep, layout };
  } finally {
    await server.stop();
  }
}

async function main() {
  const options = parseArgs(process.argv);
  const started = Date.now();
  const config = defaultConfig();
  const entries = await loadRegistry(options.models);
  const defaultModel = entries.some((e) => e.name === 'imagenet') ? 'imagenet' : entries[0].name;
  const threads = options.threads ?? config.threadsPerWorker;
  console.log(
    `tagmap bench${options.quick ? ' --quick' : ''}${options.tiny ? ' --tiny' : ''}: ${cpus()[0]?.model}, ` +
      `${availableParallelism()} cores, node ${process.version}, onnxruntime ${ortVersion()}`,
  );

  let unrolled: SlidingRow[] = [];
  if (!options.skip.includes('sliding')) {
    console.log(`unrolledVsSliding (${threads} intra-op thread(s), the same session for both):`);
    unrolled = await slidingPart(options, threads);
    console.table(
      unrolled.map((r) => ({
        model: r.model,
        size: `${r.width}x${r.height}`,
        windows: r.windows,
        denseMs: r.denseMs,
        slidingMs: r.slidingMs ?? '-',
        ratio: r.ratio ?? '-',
        flopRatio: r.flopRatio ?? '-',
        'ratio/flopRatio': r.ratio && r.flopRatio ? round(r.ratio / r.flopRatio) : '-',
        bestBatch: r.bestBatch ?? '-',
        from: r.slidingFrom ?? '-',
      })),
    );
  }

  let serverVsInProcess: Record<string, unknown> | undefined;
  let serverDetail: unknown;
  if (!options.skip.includes('server')) {
    const part = await serverPart(options, defaultModel);
    const { concurrency, inProcess, layout } = part;
    const { http } = part;
    serverVsInProcess = {
      concurrency,
      model: defaultModel,
      inProcessImagesPerSec: inProcess.imagesPerSec,
      serverImagesPerSec: http?.imagesPerSec ?? null,
      ratio: http ? round(http.imagesPerSec / inProcess.imagesPerSec) : null,
      p50Ms: http?.p50Ms ?? null,
      p99Ms: http?.p99Ms ?? null,
      inProcessP50Ms: inProcess.p50Ms,
      inProcessP99Ms: inProcess.p99Ms,
      healthzP99Ms: http?.healthzP99Ms ?? null,
      layout: `${layout.workers} worker(s) x ${layout.threadsPerWorker} intra-op thread(s), ${layout.cores} cores`,
      errors: inProcess.errors + (http?.errors ?? 0),
    };
    serverDetail = { ...part, memory: http?.memory };
    console.table([serverVsInProcess]);
  }

  const report = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpu: cpus()[0]?.model,
      cores: availableParallelism(),
      memoryGB: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      onnxruntime: ortVersion(),
    },
    defaultModel,
    threads,
    unrolledVsSliding: unrolled,
    serverVsInProcess,
    serverDetail,
    seconds: round((Date.now() - started) / 1000, 0),
  };
  writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${options.json} (${report.seconds} s)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
