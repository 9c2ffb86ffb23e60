// createTagmap(): the models from the registry, the worker pool, and one path for every task:
// pick the model -> resolve the options -> admit, hold the model (loading it on first use), decode, plan, run on
// the pool (runtime/run.ts) -> the task module turns the inference result into its answer (tasks/).
// reload() opens the models folder again as a new generation (cards checked, its own pool warmed) and only then
// puts it in place of the old one, which finishes its requests and closes; a bad folder leaves the old one serving.
import { ALL_MODELS, type SettingsInput, type TagmapConfig, type TagmapLogger } from './contract/settings.ts';
import { TagmapError } from './contract/errors.ts';
import { checkCores, defaultConfig } from './settings.ts';
import { createCatalog, type Catalog } from './runtime/catalog.ts';
import type { ResolvedRun } from './runtime/options.ts';
import { loadRegistry, ModelLoadError, type ModelEntry } from './runtime/registry.ts';
import { createResidency, type Residency } from './runtime/residency.ts';
import { createRunner, type Runner } from './runtime/run.ts';
import { InferencePool } from './runtime/worker-pool.ts';
import { tagModelsOf, type TagModels } from './runtime/tag-models.ts';
import { classMapTask } from './tasks/classmap.ts';
import { combinedTags } from './tasks/combined-tags.ts';
import { parseTask } from './tasks/parse.ts';
import { tagTask } from './tasks/tag.ts';
import type { Task } from './tasks/task.ts';
import type { Tagmap } from './tagmap-api.ts';

const defaultLogger: TagmapLogger = { info: () => undefined, warn: (message) => console.warn(message) };

/** One opening of the models folder: its models, its pool, which models are loaded, its runner. */
interface Generation {
  catalog: Catalog;
  tagModels: TagModels;
  preload: string[];
  pool: InferencePool;
  residency: Residency;
  run: Runner;
}

function startPool(config: TagmapConfig, entries: ModelEntry[], preload: string[], logger: TagmapLogger) {
  return new InferencePool({
    workers: config.workers,
    maxQueue: config.maxQueue,
    device: config.device,
    intraOpThreads: config.threadsPerWorker,
    models: entries.map((e) => ({
      name: e.name,
      path: e.modelPath,
      classes: e.card.labels.length,
      input: e.card.input,
      output: e.card.output,
      geometry: e.card.geometry,
    })),
    preload,
    onFallback: (reason) => logger.warn(`CUDA execution provider unavailable, running on the CPU: ${reason}`),
    onWorkerError: (error) => logger.warn(`inference worker error: ${error.message}`),
  });
}

/** preload and modelTtl may only name models of the folder, as tagModels. */
function checkNamed(setting: 'preload' | 'modelTtl', names: string[], entries: ModelEntry[]): void {
  const unknown = names.filter((name) => !entries.some((e) => e.name === name));
  if (unknown.length > 0)
    throw new ModelLoadError(
      setting,
      `${unknown.map((n) => `"${n}"`).join(', ')} is not a loaded model (loaded: ${entries.map((e) => e.name).join(', ')})`,
    );
}

async function openGeneration(config: TagmapConfig, logger: TagmapLogger): Promise<Generation> {
  const catalog = createCatalog(await loadRegistry(config.modelsDir), config.defaultModel);
  const { entries } = catalog;
  const tagModels = tagModelsOf(entries, catalog.defaultName, config.tagModels, config.defaultModel);
  const preload = config.preload ?? entries.map((e) => e.name);
  checkNamed('preload', preload, entries);
  checkNamed(
    'modelTtl',
    Object.keys(config.modelTtl).filter((name) => name !== ALL_MODELS),
    entries,
  );
  const pool = startPool(config, entries, preload, logger);
  const residency = createResidency({
    names: entries.map((e) => e.name),
    preload,
    ttlSeconds: (name) => config.modelTtl[name] ?? config.modelTtl[ALL_MODELS] ?? 0,
    ready: pool.ready,
    command: (kind, name) => pool.command(kind, name),
    log: (message) => logger.info(message),
  });
  return { catalog, tagModels, preload, pool, residency, run: createRunner(pool, residency, config.maxPixels) };
}

const described = (g: Generation) =>
  `${g.catalog.entries.length} models (${g.catalog.entries.map((e) => e.name).join(', ')}), ` +
  `${g.preload.length} warmed at start (${g.preload.join(', ')})`;

/** Takes settings as defaultConfig() fills them in, or any part of them (checked and filled in here). */
export async function createTagmap(settings: SettingsInput & { logger?: TagmapLogger }): Promise<Tagmap> {
  const config = defaultConfig(settings);
  checkCores(config);
  const logger = config.logger ?? defaultLogger;
  let current = await openGeneration(config, logger);
  const pools = new Set([current.pool]);
  let closed = false;

  let ready = false;
  const first = current;
  const warmed = first.pool.ready.then(() => {
    ready = true;
    logger.info(
      `tagmap ready: ${described(first)} on ${first.pool.providerName()}, ` +
        `${config.workers} workers x ${config.threadsPerWorker} threads`,
    );
  });
  warmed.catch(() => undefined);

  async function replace() {
    if (closed) throw new TagmapError('shutting_down', 'closed: no reload');
    const next = await openGeneration(config, logger);
    pools.add(next.pool);
    try {
      await next.pool.ready;
    } catch (error) {
      pools.delete(next.pool);
      await next.pool.close();
      throw error;
    }
    if (closed) {
      await next.pool.close();
      throw new TagmapError('shutting_down', 'closed during the reload');
    }
    const old = current;
    current = next;
    old.residency.close();
    void old.pool.retire().finally(() => pools.delete(old.pool));
    logger.info(`models reloaded: ${described(next)}`);
    return models();
  }
  let reloads: Promise<unknown> = Promise.resolve();

  const models = () => current.catalog.summaries(current.residency.isLoaded);
  const lists = { tagsAllow: config.tagsAllow, tagsDeny: config.tagsDeny };

  async function perform<O extends { model?: string }, Q extends ResolvedRun, R>(
    task: Task<O, Q, R>,
    image: Buffer,
    options: O,
  ): Promise<R> {
    const { catalog, run } = current;
    const entry = catalog.pick(options.model, task.cardTask);
    const request = task.resolve(options, entry.card, config.maxSide, { ...lists, vocabulary: entry.vocabulary });
    const ran = await run(image, entry, request, task.labelMap);
    return task.answer(ran, request, { maxPixels: config.maxPixels });
  }

  return {
    ready: () => warmed,
    isReady: () => ready,
    provider: () => current.pool.providerName() ?? 'starting',
    queueDepth: () => [...pools].reduce((depth, pool) => depth + pool.queueDepth(), 0),
    async close() {
      closed = true;
      current.residency.close();
      await Promise.all([...pools].map((pool) => pool.close()));
    },
    reload() {
      const done = reloads.then(replace, replace);
      reloads = done.catch(() => undefined);
      return done;
    },
    models,
    tagModels: () => [current.tagModels.tagger, ...current.tagModels.parsers.map((p) => p.entry)].map((e) => e.name),
    card(name) {
      const entry = current.catalog.named(name);
      return { ...entry.card, sha256: entry.sha256 };
    },
    tag: (image, options = {}) =>
      options.model === undefined && options.vocabulary !== 'raw' && current.tagModels.parsers.length > 0
        ? combinedTags(current.tagModels, image, options, { run: current.run, maxSide: config.maxSide, lists })
        : perform(tagTask, image, options),
    parse: (image, options = {}) => perform(parseTask, image, options),
    classMap: (image, options = {}) => perform(classMapTask, image, options),
  };
}
