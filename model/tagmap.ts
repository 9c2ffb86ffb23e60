// createTagmap(): the models from the registry, the worker pool, and one path for every task:
// pick the model -> resolve the options -> admit, decode, plan, run on the pool (runtime/run.ts) -> the
// task module turns the inference result into its answer (tasks/).
import type { SettingsInput, TagmapConfig, TagmapLogger } from './contract/settings.ts';
import { checkCores, defaultConfig } from './settings.ts';
import { createCatalog } from './runtime/catalog.ts';
import type { ResolvedRun } from './runtime/options.ts';
import { loadRegistry } from './runtime/registry.ts';
import { createRunner } from './runtime/run.ts';
import { InferencePool } from './runtime/worker-pool.ts';
import { tagModelsOf } from './runtime/tag-models.ts';
import { classMapTask } from './tasks/classmap.ts';
import { combinedTags } from './tasks/combined-tags.ts';
import { parseTask } from './tasks/parse.ts';
import { tagTask } from './tasks/tag.ts';
import type { Task } from './tasks/task.ts';
import type { Tagmap } from './tagmap-api.ts';

const defaultLogger: TagmapLogger = { info: () => undefined, warn: (message) => console.warn(message) };

function startPool(config: TagmapConfig, entries: Awaited<ReturnType<typeof loadRegistry>>, logger: TagmapLogger) {
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
    onFallback: (reason) => logger.warn(`CUDA execution provider unavailable, running on the CPU: ${reason}`),
    onWorkerError: (error) => logger.warn(`inference worker error: ${error.message}`),
  });
}

/** Takes settings as defaultConfig() fills them in, or any part of them (checked and filled in here). */
export async function createTagmap(settings: SettingsInput & { logger?: TagmapLogger }): Promise<Tagmap> {
  const config = defaultConfig(settings);
  checkCores(config);
  const logger = config.logger ?? defaultLogger;
  const catalog = createCatalog(await loadRegistry(config.modelsDir), config.defaultModel);
  const { entries } = catalog;
  const tagModels = tagModelsOf(entries, catalog.defaultName, config.tagModels, config.defaultModel);
  const pool = startPool(config, entries, logger);
  const runOnPool = createRunner(pool, config.maxPixels);

  let ready = false;
  const warmed = pool.ready.then(() => {
    ready = true;
    logger.info(
      `tagmap ready: ${entries.length} models (${entries.map((e) => e.name).join(', ')}) on ${pool.providerName()}, ` +
        `${config.workers} workers x ${config.threadsPerWorker} threads`,
    );
  });
  warmed.catch(() => undefined);

  const lists = { tagsAllow: config.tagsAllow, tagsDeny: config.tagsDeny };

  async function perform<O extends { model?: string }, Q extends ResolvedRun, R>(
    task: Task<O, Q, R>,
    image: Buffer,
    options: O,
  ): Promise<R> {
    const entry = catalog.pick(options.model, task.cardTask);
    const request = task.resolve(options, entry.card, config.maxSide, { ...lists, vocabulary: entry.vocabulary });
    const ran = await runOnPool(image, entry, request, task.labelMap);
    return task.answer(ran, request, { maxPixels: config.maxPixels });
  }

  return {
    ready: () => warmed,
    isReady: () => ready,
    provider: () => pool.providerName() ?? 'starting',
    queueDepth: () => pool.queueDepth(),
    close: () => pool.close(),
    models: () => catalog.summaries(),
    tagModels: () => [tagModels.tagger, ...tagModels.parsers.map((p) => p.entry)].map((e) => e.name),
    card(name) {
      const entry = catalog.named(name);
      return { ...entry.card, sha256: entry.sha256 };
    },
    tag: (image, options = {}) =>
      options.model === undefined && options.vocabulary !== 'raw' && tagModels.parsers.length > 0
        ? combinedTags(tagModels, image, options, { run: runOnPool, maxSide: config.maxSide, lists })
        : perform(tagTask, image, options),
    parse: (image, options = {}) => perform(parseTask, image, options),
    classMap: (image, options = {}) => perform(classMapTask, image, options),
  };
}
