// The settings of createTagmap(), with their ranges and defaults. The server reads them from TAGMAP_*
// variables (server/config.ts wraps these fields); the batch CLI sets some from its flags. Defaults that
// depend on the machine (workers, threads, the bundled models folder) are filled in by defaultSettings().
import { z } from 'zod';
import { LIMITS, maxSideSchema, wholeNumber } from './options.ts';

export const DEVICES = ['auto', 'cpu', 'cuda'] as const;

/** the modelTtl key for every model that has no entry of its own */
export const ALL_MODELS = '*';
/** a week: longer idle times are as good as never */
const MAX_TTL_SECONDS = 604_800;

/** sharp's own limit is 268 MP; ours stays far below it by default */
const SHARP_PIXEL_LIMIT = 268_402_689;

export const settingsFields = {
  modelsDir: z.string().min(1).describe('folder of model folders; default: the bundled model/zoo'),
  defaultModel: z
    .string()
    .min(1)
    .max(LIMITS.modelName.max)
    .describe('the model used when a request names none; default: imagenet when present, else the first'),
  tagModels: z
    .array(z.string().min(1).max(LIMITS.modelName.max))
    .min(1)
    .max(4)
    .describe(
      'the models a tag request that names none combines: a tagger with a photo vocabulary first, then scene ' +
        'parsers whose masks add labels (e.g. person); default: imagenet and voc when both are loaded, else ' +
        'the default model alone',
    ),
  preload: z
    .array(z.string().min(1).max(LIMITS.modelName.max))
    .min(1)
    .max(64)
    .describe(
      'the models opened and warmed in every worker at start (readiness waits for them); the rest load on first ' +
        'use; default: every model',
    ),
  modelTtl: z
    .record(z.string().min(1).max(LIMITS.modelName.max), wholeNumber(0, MAX_TTL_SECONDS))
    .default({})
    .describe(
      'seconds a model may stay idle before its sessions are released in every worker (0: never), by model name; ' +
        `the key "${ALL_MODELS}" sets it for the models not named; default: never`,
    ),
  device: z
    .enum(DEVICES)
    .default('auto')
    .describe('onnxruntime execution provider: auto tries CUDA then the CPU; cuda fails start-up without it'),
  workers: wholeNumber(1, 64).describe(
    'inference worker threads, each with its own sessions; default: one per two cores, at most 4',
  ),
  threadsPerWorker: wholeNumber(1, 256).describe(
    'onnxruntime intra-op threads per worker; default: the cores divided by the workers',
  ),
  maxQueue: wholeNumber(0, 10_000)
    .default(16)
    .describe('requests waiting beyond the running ones before new ones are refused with 503'),
  maxPixels: wholeNumber(1, SHARP_PIXEL_LIMIT)
    .default(40_000_000)
    .describe('largest decoded image, in pixels (width x height); larger ones are refused with 422'),
  maxSide: maxSideSchema.default(2048).describe("a request's default maxSide, and the largest it may ask for (px)"),
  tagsAllow: z
    .array(z.string().min(1))
    .max(LIMITS.labels.count)
    .default([])
    .describe(
      'only these labels may be tags (photo labels or aliases; a raw class passes when it or its photo label is ' +
        'listed); empty: every label',
    ),
  tagsDeny: z
    .array(z.string().min(1))
    .max(LIMITS.labels.count)
    .default([])
    .describe('these labels are never tags (photo labels, aliases or raw classes, as for the allow list)'),
};

export const settingsSchema = z.strictObject({
  ...settingsFields,
  modelsDir: settingsFields.modelsDir.optional(),
  defaultModel: settingsFields.defaultModel.optional(),
  tagModels: settingsFields.tagModels.optional(),
  preload: settingsFields.preload.optional(),
  workers: settingsFields.workers.optional(),
  threadsPerWorker: settingsFields.threadsPerWorker.optional(),
});

export type Device = (typeof DEVICES)[number];
/** What a caller may pass: everything optional. */
export type SettingsInput = z.input<typeof settingsSchema>;

export interface TagmapLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** Every setting filled in, as createTagmap() runs with it. */
export type TagmapConfig = Required<Omit<z.output<typeof settingsSchema>, 'defaultModel' | 'tagModels' | 'preload'>> & {
  defaultModel?: string;
  tagModels?: string[];
  preload?: string[];
  /** where start-up facts go (provider, CUDA fallback reason); default: warnings to the console */
  logger?: TagmapLogger;
};
