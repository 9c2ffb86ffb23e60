// `npm run bench`: one dense pass of an unrolled net against the same cells computed the classic way, one
// window crop at a time, through onnxruntime on a real photo. Each method runs in its own child process so
// its peak RSS is its own. Prints a table and writes JSON (--out).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import {
  BUNDLED_MODELS,
  buildTensor,
  decodeImage,
  defaultConfig,
  loadRegistry,
  openSession,
  ortVersion,
  layoutScales,
  readHeader,
  runSession,
  type ModelEntry,
} from '../model/index.ts';

const repoRoot = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const METHODS = ['dense', 'windows', 'windows-batched'] as const;
type Method = (typeof METHODS)[number];

interface Options {
  model?: string;
  models: string;
  image: string;
  out: string;
  repeats: number;
  threads: number;
  batch: number;
  scale: number;
  only?: Method;
}

interface Measured {
  method: Method;
  passes: number;
  ms: number;
  peakRssMiB: number;
  /** the class map, for the parent to compare methods */
  scores?: number[];
}

const positive = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a whole number >= 1');
  return n;
};

function parseArgs(argv: string[]): Options {
  return new Command('npm run bench --')
    .description('dense one-pass class map vs a sliding window of crops, through onnxruntime')
    .option('--model <name>', 'model folder name (default: camvid when present, else fashion)')
    .option('--models <dir>', 'folder of model folders', BUNDLED_MODELS)
    .option('--image <file>', 'photo to run on', path.join(repoRoot, '../shared/photos/rocket.jpg'))
    .option('--out <file>', 'JSON results', './bench-results.json')
    .option('--repeats <n>', 'timed repeats per method (median reported)', positive, 3)
    .option('--threads <n>', 'onnxruntime intra-op threads', positive, 1)
    .option('--batch <n>', 'crops per run for windows-batched', positive, 64)
    .option('--scale <s>', "image scale relative to the card's shortSide, as the request option scales", Number, 1)
    .addOption(
      new Command()
        .createOption('--only <method>', 'internal: run one method in this process')
        .choices(METHODS)
        .hideHelp(),
    )
    .parse(argv)
    .opts<Options>();
}

async function pickModel(options: Options): Promise<ModelEntry> {
  const entries = await loadRegistry(options.models);
  const wanted = options.model ?? ['camvid', 'fashion'].find((n) => entries.some((e) => e.name === n));
  const entry = entries.find((e) => e.name === wanted);
  if (!entry)
    throw new Error(
      `no model "${wanted ?? 'camvid or fashion'}" in ${options.models} ` +
        `(have: ${entries.map((e) => e.name).join(', ')})`,
    );
  return entry;
}

/** The padded tensor of one dense pass, as tagmap would feed it. */
async function denseInput(entry: ModelEntry, imageFile: string, scale: number) {
  const { card } = entry;
  const bytes = readFileSync(imageFile);
  const { maxPixels } = defaultConfig();
  const decoded = await readHeader(bytes, maxPixels);
  const [plan] = layoutScales(decoded, card, { scales: [scale], maxSide: 4096, density: 1 });
  const resized = await decodeImage(bytes, { channels: card.input.channels, maxPixels, size: plan });
  const crop = {
    padLeft: plan.padLeft,
    padTop: plan.padTop,
    left: 0,
    top: 0,
    width: plan.tensorWidth,
    height: plan.tensorHeight,
  };
  return { decoded, plan, tensor: buildTensor(resized, crop, card.input) };
}

/** Copies the window of cell (i, j) out of the dense input; outside the input reads as 0 (a net's own zero padding). */
function cropWindow(
  tensor: Float32Array,
  channels: number,
  width: number,
  height: number,
  x0: number,
  y0: number,
  window: number,
  into: Float32Array,
  at: number,
) {
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < window; y++) {
      const sy = y0 + y;
      for (let x = 0; x < window; x++) {
        const sx = x0 + x;
        const inside = sx >= 0 && sy >= 0 && sx < width && sy < height;
        into[at + (c * window + y) * window + x] = inside ? tensor[(c * height + sy) * width + sx] : 0;
      }
    }
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(options: Options, method: Method): Promise<Measured> {
  const entry = await pickModel(options);
  const { card } = entry;
  const { session } = await openSession(entry.modelPath, { device: 'cpu', intraOpThreads: options.threads });
  const { plan, tensor } = await denseInput(entry, options.image, options.scale);
  const C = card.input.channels;
  const { window, stride, offset } = card.geometry;
  const run = (data: Float32Array, n: number, w: number, h: number) =>
    runSession(session, card.input.name, { dims: [n, C, h, w], data }, [card.output.name]).then(
      (out) => out[card.output.name],
    );

  const dense = await run(tensor, 1, plan.tensorWidth, plan.tensorHeight); // also the warm-up
  const [, K, rows, cols] = dense.dims;
  const times: number[] = [];
  let scores: Float32Array = dense.data;
  let passes = 1;
  for (let r = 0; r < options.repeats; r++) {
    const started = performance.now();
    if (method === 'dense') {
      scores = (await run(tensor, 1, plan.tensorWidth, plan.tensorHeight)).data;
    } else {
      const batch = method === 'windows' ? 1 : options.batch;
      const size = C * window * window;
      const crops = new Float32Array(batch * size);
      scores = new Float32Array(K * rows * cols);
      passes = 0;
      for (let first = 0; first < rows * cols; first += batch) {
        const n = Math.min(batch, rows * cols - first);
        for (let b = 0; b < n; b++) {
          const cell = first + b;
          const x0 = offset + (cell % cols) * stride;
          const y0 = offset + Math.floor(cell / cols) * stride;
          cropWindow(tensor, C, plan.tensorWidth, plan.tensorHeight, x0, y0, window, crops, b * size);
        }
        const out = await run(crops.subarray(0, n * size), n, window, window);
        passes++;
        for (let b = 0; b < n; b++)
          for (let k = 0; k < K; k++) scores[k * rows * cols + first + b] = out.data[b * K + k];
      }
    }
    times.push(performance.now() - started);
  }
  return {
    method,
    passes,
    ms: median(times),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    scores: Array.from(scores),
  };
}

/** Runs one method in a fresh child process so that its peak RSS is its own. */
function measureInChild(options: Options, method: Method): Measured {
  const args = [
    '--import',
    'tsx',
    fileURLToPath(import.meta.url),
    '--only',
    method,
    '--models',
    options.models,
    '--image',
    options.image,
    '--repeats',
    String(options.repeats),
    '--threads',
    String(options.threads),
    '--batch',
    String(options.batch),
    '--scale',
    String(options.scale),
    '--out',
    '-',
  ];
  if (options.model) args.push('--model', options.model);
  const stdout = execFileSync(process.execPath, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(stdout) as Measured;
}

async function main() {
  const options = parseArgs(process.argv);
  if (!existsSync(options.image)) throw new Error(`no image at ${options.image} (give one with --image)`);
  if (options.only) {
    process.stdout.write(JSON.stringify(await measure(options, options.only)));
    return;
  }
  const entry = await pickModel(options);
  const { decoded, plan } = await denseInput(entry, options.image, options.scale);
  console.log(
    `model ${entry.name} (window ${entry.card.geometry.window}, stride ${entry.card.geometry.stride}, ` +
      `exact ${entry.card.geometry.exact}); ` +
      `${path.basename(options.image)} ${decoded.width}x${decoded.height} ` +
      `-> input ${plan.tensorWidth}x${plan.tensorHeight}; ` +
      `onnxruntime ${ortVersion()}, ${options.threads} thread(s), ${options.repeats} repeats`,
  );

  const results = METHODS.map((method) => measureInChild(options, method));
  const dense = results[0];
  const rows = results.map((r) => {
    let maxAbsDiff = 0;
    for (let n = 0; n < r.scores!.length; n++)
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(r.scores![n] - dense.scores![n]));
    return {
      method: r.method,
      passes: r.passes,
      ms: +r.ms.toFixed(1),
      ratio: +(r.ms / dense.ms).toFixed(1),
      peakRssMiB: +r.peakRssMiB.toFixed(0),
      maxAbsDiff,
    };
  });
  console.table(rows);

  const report = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), node: process.version, onnxruntime: ortVersion() },
    model: { name: entry.name, sha256: entry.sha256, geometry: entry.card.geometry },
    image: { file: path.basename(options.image), width: decoded.width, height: decoded.height },
    input: { width: plan.tensorWidth, height: plan.tensorHeight },
    cells: results[0].scores!.length / entry.card.labels.length,
    scale: options.scale,
    threads: options.threads,
    repeats: options.repeats,
    batch: options.batch,
    results: rows,
  };
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${options.out}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
