// The one place that reads the environment. The TAGMAP_* settings of createTagmap() are the contract's fields
// (model/contract/settings.ts: ranges, defaults, descriptions) read from strings; the HTTP-only ones are here.
import { isIP } from 'node:net';
import { z } from 'zod';
import { ALL_MODELS, defaultConfig, settingsFields, type TagmapConfig } from '../model/index.ts';
import { readKeysFile, type ApiKey } from './auth-keys.ts';

const wholeNumberMessage = {
  error: (issue: { code: string }) => (issue.code === 'invalid_type' ? 'must be a whole number' : undefined),
};

/** A whole-number setting of the server's own. */
const whole = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number(wholeNumberMessage).int('must be a whole number').min(min).max(max);

/** A contract number field read from a string: the same range and default, the same message for non-numbers. */
const fromEnv = <T extends z.ZodType>(field: T) =>
  z.preprocess((v) => {
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : v;
  }, field);

/** A host name, an IP address or a CIDR block (10.0.0.0/8, fd00::/8). */
const allowEntry = z.string().refine(
  (entry) => {
    const [address, prefix, ...rest] = entry.split('/');
    if (prefix === undefined)
      return (
        isIP(address) !== 0 ||
        /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(address)
      );
    const bits = isIP(address) === 4 ? 32 : isIP(address) === 6 ? 128 : 0;
    return rest.length === 0 && bits > 0 && /^\d+$/.test(prefix) && Number(prefix) <= bits;
  },
  { message: 'each entry must be a host name, an IP address or a CIDR block such as 10.0.0.0/8' },
);

/** A comma-separated list read into a contract list field. */
const listFromEnv = <T extends z.ZodType>(field: T) =>
  z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((entry) => entry.trim())
            .filter(Boolean)
        : v,
    field,
  );

/**
 * TAGMAP_MODEL_TTL read into the modelTtl field: "300" for every model, "imagenet=0,voc=600" per model, or both
 * ("300,voc=0": every model but voc).
 */
const ttlFromEnv = <T extends z.ZodType>(field: T) =>
  z.preprocess((value, ctx) => {
    if (typeof value !== 'string') return value;
    const ttl: Record<string, number> = {};
    for (const entry of value
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)) {
      const match = /^(?:([^=\s]+)=)?(\d+)$/.exec(entry);
      if (match) ttl[match[1] ?? ALL_MODELS] = Number(match[2]);
      else
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}": each entry is SECONDS (every model) or MODEL=SECONDS, e.g. 300 or imagenet=0,voc=600`,
        });
    }
    return ttl;
  }, field);

const s = settingsFields;

/** The probes that TAGMAP_AUTH_OPEN_ROUTES may leave open; the page and /openapi.json are always open. */
const OPEN_ROUTES = ['healthz', 'readyz', 'metrics'] as const;

export const envSchema = z.object({
  PORT: whole(0, 65535).default(8080).describe('TCP port the server listens on'),
  HOST: z.string().min(1).default('0.0.0.0').describe('address the server binds'),
  TAGMAP_MODELS: s.modelsDir.optional(),
  TAGMAP_DEFAULT_MODEL: s.defaultModel.optional(),
  TAGMAP_TAG_MODELS: listFromEnv(s.tagModels.optional()).describe(`${s.tagModels.description} (comma-separated)`),
  TAGMAP_PRELOAD: listFromEnv(s.preload.optional()).describe(`${s.preload.description} (comma-separated)`),
  TAGMAP_MODEL_TTL: ttlFromEnv(s.modelTtl.unwrap().optional()).describe(
    `${s.modelTtl.description}; e.g. 300 (every model), imagenet=0,voc=600, or 300,imagenet=0`,
  ),
  TAGMAP_DEVICE: s.device,
  TAGMAP_WORKERS: fromEnv(s.workers.optional()),
  TAGMAP_THREADS: fromEnv(s.threadsPerWorker.optional()),
  TAGMAP_MAX_QUEUE: fromEnv(s.maxQueue),
  TAGMAP_MAX_PIXELS: fromEnv(s.maxPixels),
  TAGMAP_MAX_SIDE: fromEnv(s.maxSide),
  TAGMAP_TAGS_ALLOW: listFromEnv(s.tagsAllow).describe(`${s.tagsAllow.description} (comma-separated)`),
  TAGMAP_TAGS_DENY: listFromEnv(s.tagsDeny).describe(`${s.tagsDeny.description} (comma-separated)`),
  TAGMAP_MAX_UPLOAD_BYTES: whole(1, 1 << 30)
    .default(20 * 1024 * 1024)
    .describe('largest upload or base64 image, bytes'),
  TAGMAP_URL_ALLOW: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(allowEntry))
    .describe('hosts, addresses or CIDR blocks whose URLs may be fetched although private (comma-separated)'),
  TAGMAP_URL_TIMEOUT_MS: whole(100, 600_000).default(10_000).describe('time limit for fetching an image URL, ms'),
  TAGMAP_URL_MAX_BYTES: whole(1, 1 << 30)
    .default(20 * 1024 * 1024)
    .describe('largest image fetched from a URL, bytes'),
  TAGMAP_API_KEYS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('JSON file of API key hashes (made by npm run key); when set, requests need a key; unset: no keys'),
  TAGMAP_AUTH_OPEN_ROUTES: listFromEnv(
    z
      .array(z.enum(OPEN_ROUTES))
      .max(OPEN_ROUTES.length)
      .default([...OPEN_ROUTES]),
  ).describe('probes that need no key when keys are on (comma-separated; empty: all need one)'),
  TAGMAP_RATE_PER_SEC: z.coerce
    .number({ error: () => 'must be a number' })
    .min(0)
    .max(1_000_000)
    .default(0)
    .describe('requests per second per key, or per client address without keys, on this replica; 0: no limit'),
  TAGMAP_RATE_BURST: whole(0, 1_000_000)
    .default(0)
    .describe('requests a caller may send at once before the rate applies; 0: the rate rounded up'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
});

type Env = z.infer<typeof envSchema>;

export interface ServerConfig {
  port: number;
  host: string;
  logLevel: Env['LOG_LEVEL'];
  tagmap: TagmapConfig;
  upload: { maxBytes: number };
  url: { allow: string[]; timeoutMs: number; maxBytes: number };
  /** keys: the accepted keys, undefined when keys are off; openRoutes: probe paths that need none */
  auth: { keys?: ApiKey[]; openRoutes: string[] };
  rateLimit: { perSec: number; burst: number };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Reads the settings; a bad value is a ConfigError naming the variable, what it got and what is allowed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`;
    });
    throw new ConfigError(`bad setting${lines.length > 1 ? 's' : ''}: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const keysFile = e.TAGMAP_API_KEYS_FILE;
  let keys: ApiKey[] | undefined;
  try {
    keys = keysFile === undefined ? undefined : readKeysFile(keysFile);
  } catch (error) {
    throw new ConfigError(`bad setting: TAGMAP_API_KEYS_FILE=${JSON.stringify(keysFile)}: ${(error as Error).message}`);
  }
  const tagmap = defaultConfig({
    device: e.TAGMAP_DEVICE,
    maxQueue: e.TAGMAP_MAX_QUEUE,
    maxPixels: e.TAGMAP_MAX_PIXELS,
    maxSide: e.TAGMAP_MAX_SIDE,
    modelsDir: e.TAGMAP_MODELS,
    defaultModel: e.TAGMAP_DEFAULT_MODEL,
    tagModels: e.TAGMAP_TAG_MODELS,
    preload: e.TAGMAP_PRELOAD,
    modelTtl: e.TAGMAP_MODEL_TTL,
    workers: e.TAGMAP_WORKERS,
    threadsPerWorker: e.TAGMAP_THREADS,
    tagsAllow: e.TAGMAP_TAGS_ALLOW,
    tagsDeny: e.TAGMAP_TAGS_DENY,
  });
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    tagmap,
    upload: { maxBytes: e.TAGMAP_MAX_UPLOAD_BYTES },
    url: { allow: e.TAGMAP_URL_ALLOW, timeoutMs: e.TAGMAP_URL_TIMEOUT_MS, maxBytes: e.TAGMAP_URL_MAX_BYTES },
    auth: { keys, openRoutes: e.TAGMAP_AUTH_OPEN_ROUTES.map((route) => `/${route}`) },
    rateLimit: { perSec: e.TAGMAP_RATE_PER_SEC, burst: e.TAGMAP_RATE_BURST },
  };
}
