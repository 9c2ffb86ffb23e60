// The Tagmap: models from the registry, the worker pool, and the path every request takes:
// options -> admission -> decode -> size plan -> worker (class map, label map) -> tags | parse | class map.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type {
  ClassMapResult, ModelRef, ModelSummary, ParseOptions, ParseResult, Plan, RunOptions, TagOptions, TagResult, Tagmap,
  TagmapConfig, TagmapLogger, Timings,
} from './api.ts';
import type { Card } from './contract/card.ts';
import { TagmapError } from './contract/errors.ts';
import { decodeImage, encodeLabelPng, encodeOverlayPng, readHeader, type ImageHeader } from './io/image.ts';
import type { InferResult } from './runtime/job.ts';
import { colourLayer, legendOf } from './tasks/legend.ts';
import { resolveRun, resolveTag, type ResolvedRun } from './runtime/options.ts';
import { planScales, type Grid } from './runtime/size-plan.ts';
import { InferencePool } from './runtime/worker-pool.ts';
import { loadRegistry, pickDefault, type ModelEntry } from './runtime/registry.ts';
import { encodeMasks } from './tasks/rle.ts';
import { tagsFromMap } from './tasks/tag-scores.ts';

type Task = Card['tasks'][number];

interface Ran {
  entry: ModelEntry;
  header: ImageHeader;
  result: InferResult;
  plan: Plan;
  /** decodeMs, queueMs and inferMs; the rest of the time is post-processing */
  timings: Omit<Timings, 'postMs' | 'totalMs'>;
  started: number;
}

const defaultLogger: TagmapLogger = { info: () => undefined, warn: (message) => console.warn(message) };

function checkConfig(config: TagmapConfig): void {
  const whole = (v: number, min: number) => Number.isInteger(v) && v >= min;
  const problems = [
    !['auto', 'cpu', 'cuda'].includes(config.device) && `device must be auto, cpu or cuda (got ${config.device})`,
    !whole(config.workers, 1) && `workers must be a whole number >= 1 (got ${config.workers})`,
    !whole(config.threadsPerWorker, 1) && `threadsPerWorker must be a whole number >= 1 (got ${config.threadsPerWorker})`,
    !whole(config.maxQueue, 0) && `maxQueue must be a whole number >= 0 (got ${config.maxQueue})`,
    !whole(config.maxPixels, 1) && `maxPixels must be a whole number >= 1 (got ${config.maxPixels})`,
    !whole(config.maxSide, 1) && `maxSide must be a whole number >= 1 (got ${config.maxSide})`,
    config.workers * config.threadsPerWorker > availableParallelism() &&
      `workers x threadsPerWorker = ${config.workers * config.threadsPerWorker} exceeds the ${availableParallelism()} CPU cores`,
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`bad tagmap settings: ${problems.join('; ')}`);
}

export async function createTagmap(config: TagmapConfig): Promise<Tagmap> {
  checkConfig(config);
  const logger = config.logger ?? defaultLogger;
  const entries = await loadRegistry(config.modelsDir);
  const defaultName = pickDefault(entries, config.defaultModel);
  const byName = new Map(entries.map((e) => [e.name, e]));

  const pool = new InferencePool({
    workers: config.workers,
    maxQueue: config.maxQueue,
    device: config.device,
    intraOpThreads: config.threadsPerWorker,
    models: entries.map((e) => ({
      name: e.name, path: e.modelPath, classes: e.card.labels.length, input: e.card.input, output: e.card.output, geometry: e.card.geometry,
    })),
    onFallback: (reason) => logger.warn(`CUDA execution provider unavailable, running on the CPU: ${reason}`),
    onWorkerError: (error) => logger.warn(`inference worker error: ${error.message}`),
  });
  let ready = false;
  const warmed = pool.ready.then(() => {
    ready = true;
    logger.info(`tagmap ready: ${entries.length} models (${entries.map((e) => e.name).join(', ')}) on ${pool.providerName()}, ` +
      `${config.workers} workers x ${config.threadsPerWorker} threads`);
  });
  warmed.catch(() => undefined);

  function named(name: string): ModelEntry {
    const entry = byName.get(name);
    if (!entry) throw new TagmapError('unknown_model', `no model "${name}"; available: ${entries.map((e) => e.name).join(', ')}`, { available: [...byName.keys()] });
    return entry;
  }

  /** The named model, or the default one for this task (else the first model meant for it). */
  function pick(name: string | undefined, task?: Task): ModelEntry {
    if (name !== undefined) {
      const entry = named(name);
      if (task && !entry.card.tasks.includes(task)) {
        const able = entries.filter((e) => e.card.tasks.includes(task)).map((e) => e.name);
        throw new TagmapError('bad_options', `model "${name}" is not meant for ${task} (its tasks: ${entry.card.tasks.join(', ')}); models for ${task}: ${able.join(', ') || 'none'}`);
      }
      return entry;
    }
    const preferred = byName.get(defaultName)!;
    if (!task || preferred.card.tasks.includes(task)) return preferred;
    const fallback = entries.find((e) => e.card.tasks.includes(task));
    if (!fallback) throw new TagmapError('bad_options', `no loaded model is meant for ${task}`);
    return fallback;
  }

  async function run(image: Buffer, entry: ModelEntry, options: ResolvedRun, labelMap: boolean): Promise<Ran> {
    const started = performance.now();
    const release = pool.admit();
    try {
      const { channels } = entry.card.input;
      const header = await readHeader(image, config.maxPixels);
      const plans = planScales(header, entry.card, options);
      // one decode per scale, straight to its size (JPEG shrinks while decoding)
      const resized = await Promise.all(plans.map((p) => decodeImage(image, { channels, maxPixels: config.maxPixels, size: p })));
      const decodeMs = performance.now() - started;
      const scales = plans.map((plan, n) => ({ plan, pixels: Uint8Array.from(resized[n].data).buffer }));
      const result = await pool.run({ model: entry.name, image: header, scales, fuse: options.fuse, labelMap });
      const poolMs = performance.now() - started - decodeMs;
      const plan: Plan = {
        image: { width: header.width, height: header.height },
        inputs: plans.map((p) => ({ scale: p.scale, width: p.tensorWidth, height: p.tensorHeight })),
        scales: options.scales,
        density: options.density,
        grid: { rows: result.grid.rows, cols: result.grid.cols },
        cellSize: (result.grid.stepX + result.grid.stepY) / 2,
        provider: result.provider,
      };
      const timings = { decodeMs, queueMs: Math.max(0, poolMs - result.workerMs), inferMs: result.runMs };
      return { entry, header, result, plan, timings, started };
    } finally {
      release();
    }
  }

  const ref = (e: ModelEntry): ModelRef => ({ name: e.name, version: e.card.version, sha256: e.sha256 });
  const finish = (ran: Ran): Timings => {
    const totalMs = performance.now() - ran.started;
    const { decodeMs, queueMs, inferMs } = ran.timings;
    return { decodeMs, queueMs, inferMs, postMs: totalMs - decodeMs - queueMs - inferMs, totalMs };
  };
  const denseOf = (r: InferResult) => ({ data: r.map, classes: r.classes, rows: r.grid.rows, cols: r.grid.cols });

  return {
    ready: () => warmed,
    isReady: () => ready,
    provider: () => pool.providerName() ?? 'starting',
    queueDepth: () => pool.queueDepth(),
    close: () => pool.close(),

    models: (): ModelSummary[] => entries.map((e) => ({
      name: e.name, version: e.card.version, sha256: e.sha256, description: e.card.description, tasks: e.card.tasks,
      labels: e.card.labels.length, window: e.card.geometry.window, default: e.name === defaultName,
    })),

    card(name: string) {
      const entry = named(name);
      return { ...entry.card, sha256: entry.sha256 };
    },

    async tag(image: Buffer, options: TagOptions = {}): Promise<TagResult> {
      const entry = pick(options.model, 'tag');
      const request = resolveTag(options, entry.card, config.maxSide);
      const ran = await run(image, entry, request, false);
      const tags = tagsFromMap(denseOf(ran.result), entry.card.output.kind, ran.result.grid, ran.plan.image, entry.card.labels, request);
      return { model: ref(entry), plan: ran.plan, timings: finish(ran), tags };
    },

    async parse(image: Buffer, options: ParseOptions = {}): Promise<ParseResult> {
      const entry = pick(options.model, 'parse');
      const format = options.format ?? 'json';
      if (!['json', 'png', 'overlay'].includes(format)) throw new TagmapError('bad_options', 'format must be json, png or overlay', { format });
      const ran = await run(image, entry, resolveRun(options, entry.card, config.maxSide), true);
      const labels = ran.result.labels!;
      const { width, height } = ran.plan.image;
      const legend = legendOf(labels, entry.card);
      const result: ParseResult = { model: ref(entry), plan: ran.plan, timings: finish(ran), width, height, legend, labels };
      if (format === 'png') result.png = await encodeLabelPng(labels, width, height);
      if (format === 'overlay') result.png = await encodeOverlayPng(image, colourLayer(labels, entry.card), config.maxPixels);
      if (format === 'json') {
        const shares = new Map(legend.map((l) => [l.id, l]));
        result.masks = [...encodeMasks(labels, width, height)].map(([id, rle]) => ({ id, name: shares.get(id)!.name, share: shares.get(id)!.share, rle }));
      }
      result.timings = finish(ran);
      return result;
    },

    async classMap(image: Buffer, options: RunOptions = {}): Promise<ClassMapResult> {
      const entry = pick(options.model);
      const ran = await run(image, entry, resolveRun(options, entry.card, config.maxSide), false);
      const grid: Grid = ran.result.grid;
      return {
        model: ref(entry), plan: ran.plan, timings: finish(ran),
        shape: [ran.result.classes, grid.rows, grid.cols],
        kind: entry.card.output.kind,
        data: ran.result.map,
        geometry: { ...entry.card.geometry, cellSize: ran.plan.cellSize },
        grid: { originX: grid.originX, originY: grid.originY, stepX: grid.stepX, stepY: grid.stepY },
        labels: entry.card.labels.map((l) => l.name),
      };
    },
  };
}
