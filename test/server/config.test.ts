// Settings: one zod schema over the environment; defaults filled in, and every bad value a start-up error
// that names the variable, what it got and what is allowed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('loadConfig', () => {
  it('fills in the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      logLevel: 'info',
      upload: { maxBytes: 20 * 1024 * 1024 },
      url: { allow: [], timeoutMs: 10_000, maxBytes: 20 * 1024 * 1024 },
      tagmap: {
        modelsDir: path.join(ROOT, 'model/zoo'),
        device: 'auto',
        maxQueue: 16,
        maxPixels: 40_000_000,
        maxSide: 2048,
      },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      TAGMAP_MODELS: '/srv/models',
      TAGMAP_DEFAULT_MODEL: 'camvid',
      TAGMAP_DEVICE: 'cpu',
      TAGMAP_WORKERS: '1',
      TAGMAP_THREADS: '1',
      TAGMAP_MAX_QUEUE: '0',
      TAGMAP_MAX_PIXELS: '1000000',
      TAGMAP_MAX_SIDE: '1024',
      TAGMAP_TAGS_ALLOW: ' dog, cat ,',
      TAGMAP_TAGS_DENY: 'person',
      TAGMAP_PRELOAD: 'camvid, imagenet',
      TAGMAP_MODEL_TTL: '300,camvid=0',
      TAGMAP_MAX_UPLOAD_BYTES: '5000',
      TAGMAP_URL_ALLOW: ' images.internal, 10.0.0.0/8 ,fd00::/8,192.168.1.5',
      TAGMAP_URL_TIMEOUT_MS: '2500',
      TAGMAP_URL_MAX_BYTES: '7000',
      TAGMAP_AUTH_OPEN_ROUTES: 'healthz, readyz',
      TAGMAP_RATE_PER_SEC: '2.5',
      TAGMAP_RATE_BURST: '10',
      LOG_LEVEL: 'warn',
    });
    expect(config).toEqual({
      port: 9000,
      host: '127.0.0.1',
      logLevel: 'warn',
      tagmap: {
        modelsDir: '/srv/models',
        defaultModel: 'camvid',
        device: 'cpu',
        workers: 1,
        threadsPerWorker: 1,
        maxQueue: 0,
        maxPixels: 1_000_000,
        maxSide: 1024,
        tagsAllow: ['dog', 'cat'],
        tagsDeny: ['person'],
        preload: ['camvid', 'imagenet'],
        modelTtl: { '*': 300, camvid: 0 },
      },
      upload: { maxBytes: 5000 },
      url: { allow: ['images.internal', '10.0.0.0/8', 'fd00::/8', '192.168.1.5'], timeoutMs: 2500, maxBytes: 7000 },
      // TAGMAP_API_KEYS_FILE needs a real file: test/server/auth.test.ts reads good and bad ones
      auth: { keys: undefined, openRoutes: ['/healthz', '/readyz'] },
      rateLimit: { perSec: 2.5, burst: 10 },
    });
  });

  it.each([
    [{ TAGMAP_DEVICE: 'gpu' }, /TAGMAP_DEVICE="gpu": .*"auto"\|"cpu"\|"cuda"/],
    [{ PORT: 'eighty' }, /PORT="eighty": must be a whole number/],
    [{ PORT: '70000' }, /PORT="70000": .*<=65535/],
    [{ TAGMAP_WORKERS: '1.5' }, /TAGMAP_WORKERS="1.5": must be a whole number/],
    [{ TAGMAP_RATE_PER_SEC: 'fast' }, /TAGMAP_RATE_PER_SEC="fast": must be a number/],
    [{ TAGMAP_RATE_BURST: '-1' }, /TAGMAP_RATE_BURST="-1": .*>=0/],
    [
      { TAGMAP_AUTH_OPEN_ROUTES: 'healthz,docs' },
      /TAGMAP_AUTH_OPEN_ROUTES="healthz,docs": .*"healthz"\|"readyz"\|"metrics"/,
    ],
    [
      { TAGMAP_URL_ALLOW: '10.0.0.0/33' },
      /TAGMAP_URL_ALLOW="10.0.0.0\/33": each entry must be a host name, an IP address or a CIDR block/,
    ],
    [{ TAGMAP_URL_ALLOW: 'http://x.com/' }, /TAGMAP_URL_ALLOW=.*each entry must be/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL="loud": .*"info"/],
    [
      { TAGMAP_MODEL_TTL: 'voc=5m' },
      /TAGMAP_MODEL_TTL="voc=5m": "voc=5m": each entry is SECONDS \(every model\) or MODEL=SECONDS, e\.g\. 300/,
    ],
    [{ TAGMAP_MODEL_TTL: 'voc=-1' }, /TAGMAP_MODEL_TTL="voc=-1": "voc=-1": each entry is SECONDS/],
    [{ TAGMAP_MODEL_TTL: '700000' }, /TAGMAP_MODEL_TTL="700000": .*<=604800/],
    [{ TAGMAP_PRELOAD: ',' }, /TAGMAP_PRELOAD=",": .*>=1/],
  ])('refuses %o naming the variable and what is allowed', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('reads TAGMAP_MODEL_TTL for every model, per model, or both; unset or empty: never', () => {
    const ttl = (value?: string) => loadConfig(value === undefined ? {} : { TAGMAP_MODEL_TTL: value }).tagmap.modelTtl;
    expect(ttl('300')).toEqual({ '*': 300 });
    expect(ttl(' imagenet=0 , voc=600 ')).toEqual({ imagenet: 0, voc: 600 });
    expect(ttl('60,voc=0')).toEqual({ '*': 60, voc: 0 });
    expect(ttl('')).toEqual({});
    expect(ttl()).toEqual({});
    expect(loadConfig({}).tagmap.preload).toBeUndefined();
  });

  it('stops the process with exit code 2 and the message on stderr', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, TAGMAP_DEVICE: 'gpu', TAGMAP_MAX_QUEUE: '-1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^tagmap: bad settings: TAGMAP_DEVICE="gpu": .*; TAGMAP_MAX_QUEUE="-1": /);
  });
});
