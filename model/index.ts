// model/'s public face: createTagmap() and the settings it takes. The server and the batch script import
// from here only.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TagmapConfig } from './api.ts';

export { createTagmap } from './tagmap.ts';
export { TagmapError, isTagmapError, type TagmapErrorCode } from './contract/errors.ts';
export { ModelLoadError } from './runtime/registry.ts';
export { ACCEPTED_FORMATS } from './io/image.ts';
export type * from './api.ts';

export const BUNDLED_MODELS = fileURLToPath(new URL('./zoo', import.meta.url));

/**
 * Settings for createTagmap: the bundled zoo, device auto, workers x threads filling the cores (one worker
 * per two cores, at most four), 16 queued requests, 40 MP, long side at most 2048 px.
 */
export function defaultConfig(overrides: Partial<TagmapConfig> = {}): TagmapConfig {
  const cores = availableParallelism();
  const workers = overrides.workers ?? Math.max(1, Math.min(4, Math.floor(cores / 2)));
  return {
    modelsDir: BUNDLED_MODELS,
    device: 'auto',
    workers,
    threadsPerWorker: Math.max(1, Math.floor(cores / workers)),
    maxQueue: 16,
    maxPixels: 40_000_000,
    maxSide: 2048,
    ...overrides,
  };
}
