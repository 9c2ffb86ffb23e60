// The one place that reads the environment: every setting, its default and its allowed values, in one zod schema.
import { isIP } from 'node:net';
import { z } from 'zod';
import { defaultConfig, type TagmapConfig } from '../model/index.ts';

const whole = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number({ error: (issue) => (issue.code === 'invalid_type' ? 'must be a whole number' : undefined) }).int('must be a whole number').min(min).max(max);

/** A host name, an IP address or a CIDR block (10.0.0.0/8, fd00::/8). */
const allowEntry = z.string().refine((entry) => {
  const [address, prefix, ...rest] = entry.split('/');
  if (prefix === undefined) return isIP(address) !== 0 || /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(address);
  const bits = isIP(address) === 4 ? 32 : isIP(address) === 6 ? 128 : 0;
  return rest.length === 0 && bits > 0 && /^\d+$/.test(prefix) && Number(prefix) <= bits;
}, { message: 'each entry must be a host name, an IP address or a CIDR block such as 10.0.0.0/8' });

export const envSchema = z.object({
  PORT: whole(0, 65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  TAGMAP_MODELS: z.string().min(1).optional().describe('folder of model folders; default: the bundled model/zoo'),
  TAGMAP_DEFAULT_MODEL: z.string().min(1).optional(),
  TAGMAP_DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  TAGMAP_WORKERS: whole(1, 64).optional(),
  TAGMAP_THREADS: whole(1, 256).optional(),
  TAGMAP_MAX_QUEUE: whole(0, 10_000).default(16),
  TAGMAP_MAX_PIXELS: whole(1, 268_402_689).default(40_000_000),
  TAGMAP_MAX_SIDE: whole(16, 16_384).default(2048),
  TAGMAP_MAX_UPLOAD_BYTES: whole(1, 1 << 30).default(20 * 1024 * 1024),
  TAGMAP_URL_ALLOW: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((entry) => entry.trim()).filter(Boolean))
    .pipe(z.array(allowEntry)),
  TAGMAP_URL_TIMEOUT_MS: whole(100, 600_000).default(10_000),
  TAGMAP_URL_MAX_BYTES: whole(1, 1 << 30).default(20 * 1024 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

export interface ServerConfig {
  port: number;
  host: string;
  logLevel: Env['LOG_LEVEL'];
  tagmap: TagmapConfig;
  upload: { maxBytes: number };
  url: { allow: string[]; timeoutMs: number; maxBytes: number };
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
  const tagmap = defaultConfig({
    device: e.TAGMAP_DEVICE,
    maxQueue: e.TAGMAP_MAX_QUEUE,
    maxPixels: e.TAGMAP_MAX_PIXELS,
    maxSide: e.TAGMAP_MAX_SIDE,
    ...(e.TAGMAP_MODELS && { modelsDir: e.TAGMAP_MODELS }),
    ...(e.TAGMAP_DEFAULT_MODEL && { defaultModel: e.TAGMAP_DEFAULT_MODEL }),
    ...(e.TAGMAP_WORKERS && { workers: e.TAGMAP_WORKERS }),
    ...(e.TAGMAP_THREADS && { threadsPerWorker: e.TAGMAP_THREADS }),
  });
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    tagmap,
    upload: { maxBytes: e.TAGMAP_MAX_UPLOAD_BYTES },
    url: { allow: e.TAGMAP_URL_ALLOW, timeoutMs: e.TAGMAP_URL_TIMEOUT_MS, maxBytes: e.TAGMAP_URL_MAX_BYTES },
  };
}
