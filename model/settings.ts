// createTagmap()'s settings filled in and checked: the contract's schema (model/contract/settings.ts) gives
// the ranges and fixed defaults; the machine gives the rest.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { settingsSchema, type SettingsInput, type TagmapConfig, type TagmapLogger } from './contract/settings.ts';

// from the repository root, so that the bundles in dist/ (`npm run build`), also one folder down, find it too
export const BUNDLED_MODELS = fileURLToPath(new URL('../model/zoo', import.meta.url));

/** Most workers the default picks: one per two cores, at most this many. */
const DEFAULT_MAX_WORKERS = 4;

/** Parse problems as one line: "field: message; field: message". */
function problemsOf(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || 'settings'}: ${i.message}`).join('; ');
}

/** Workers x threads beyond the cores only makes threads wait on each other; createTagmap() refuses it. */
export function checkCores(config: TagmapConfig): void {
  const cores = availableParallelism();
  const threads = config.workers * config.threadsPerWorker;
  if (threads > cores) {
    throw new Error(`bad tagmap settings: workers x threadsPerWorker = ${threads} exceeds the ${cores} CPU cores`);
  }
}

/**
 * Settings for createTagmap: the schema's defaults (device auto, 16 queued requests, 40 MP, long side at most
 * 2048 px), the bundled zoo, and workers x threads filling the cores. A value out of range throws, naming it.
 */
export function defaultConfig(overrides: SettingsInput & { logger?: TagmapLogger } = {}): TagmapConfig {
  const { logger, ...input } = overrides;
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) throw new Error(`bad tagmap settings: ${problemsOf(parsed.error)}`);
  const settings = parsed.data;
  const cores = availableParallelism();
  const workers = settings.workers ?? Math.max(1, Math.min(DEFAULT_MAX_WORKERS, Math.floor(cores / 2)));
  const threadsPerWorker = settings.threadsPerWorker ?? Math.max(1, Math.floor(cores / workers));
  return {
    ...settings,
    modelsDir: settings.modelsDir ?? BUNDLED_MODELS,
    workers,
    threadsPerWorker,
    ...(logger && { logger }),
  };
}
