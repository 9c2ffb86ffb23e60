// Model lifecycle in-process: the preload set warm at start, the others loaded on first use (the request says so
// in timings.loadMs), idle models released after their TTL in every worker and loaded again when asked; and a
// model.onnx that is not the file its card pins stops start-up.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTagmap, ModelLoadError, type Tagmap } from '../../model/index.ts';
import { modelsFolder, photo, testConfig, zooModelDir } from './zoo.ts';

const loadedOf = (tagmap: Tagmap) => Object.fromEntries(tagmap.models().map((m) => [m.name, m.loaded]));

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

describe('preload and model TTL', () => {
  let tagmap: Tagmap;
  const folder = modelsFolder(['birds', 'fashion']);
  const logged: string[] = [];
  const loads = () => logged.filter((line) => line.startsWith('model birds loaded in every worker')).length;

  beforeAll(async () => {
    // two workers: a load and an unload must reach both
    tagmap = await createTagmap(
      testConfig(folder.dir, {
        workers: 2,
        preload: ['fashion'],
        modelTtl: { birds: 1 },
        logger: { info: (line) => logged.push(line), warn: (line) => logged.push(line) },
      }),
    );
    await tagmap.ready();
  });
  afterAll(async () => {
    await tagmap?.close();
    folder.remove();
  });

  it('warms only the preload set at start', () => {
    expect(loadedOf(tagmap)).toEqual({ birds: false, fashion: true });
  });

  it('answers a preloaded model without a load, and loads another on its first request, saying so', async () => {
    const warm = await tagmap.tag(photo('chelsea.png'), { model: 'fashion' });
    expect(warm.timings.loadMs).toBe(0);
    const first = await tagmap.tag(photo('chelsea.png'), { model: 'birds' });
    expect(first.timings.loadMs).toBeGreaterThan(0);
    expect(first.timings.totalMs).toBeGreaterThanOrEqual(first.timings.loadMs);
    expect(loadedOf(tagmap)).toEqual({ birds: true, fashion: true });
    const second = await tagmap.tag(photo('chelsea.png'), { model: 'birds' });
    expect(second.timings.loadMs).toBe(0);
    expect(second.tags).toEqual(first.tags);
  });

  it('unloads a model idle past its 1 s TTL, keeps one without a TTL, and reloads on the next request', async () => {
    const before = await tagmap.tag(photo('coffee.png'), { model: 'birds' });
    const idleMs = await until(() => !loadedOf(tagmap).birds, 'birds to unload');
    expect(idleMs).toBeGreaterThanOrEqual(900);
    expect(loadedOf(tagmap)).toEqual({ birds: false, fashion: true });
    const again = await tagmap.tag(photo('coffee.png'), { model: 'birds' });
    expect(again.timings.loadMs).toBeGreaterThan(0);
    expect(again.tags).toEqual(before.tags);
    expect(loadedOf(tagmap).birds).toBe(true);
  });

  it('serves requests that arrive together while a model loads, loading it once', async () => {
    await until(() => !loadedOf(tagmap).birds, 'birds to unload');
    const loadsBefore = loads();
    const results = await Promise.all(
      Array.from({ length: 3 }, () => tagmap.tag(photo('chelsea.png'), { model: 'birds' })),
    );
    for (const result of results) expect(result.timings.loadMs).toBeGreaterThan(0);
    expect(new Set(results.map((r) => JSON.stringify(r.tags))).size).toBe(1);
    expect(loads()).toBe(loadsBefore + 1);
    expect(logged).toContain('model birds unloaded after 1 s idle');
  });
});

describe('reload()', () => {
  it('puts a new set in place only once its models open, else keeps serving the old set', async () => {
    const folder = modelsFolder(['fashion'], true);
    const tagmap = await createTagmap(testConfig(folder.dir));
    try {
      await tagmap.ready();
      const before = await tagmap.tag(photo('chelsea.png'));
      // a card that passes and a model.onnx that onnxruntime cannot open
      cpSync(path.join(folder.dir, 'fashion'), path.join(folder.dir, 'spoilt'), { recursive: true });
      const card = JSON.parse(readFileSync(path.join(folder.dir, 'spoilt', 'card.json'), 'utf8'));
      writeFileSync(
        path.join(folder.dir, 'spoilt', 'card.json'),
        JSON.stringify({ ...card, name: 'spoilt', sha256: undefined }),
      );
      writeFileSync(path.join(folder.dir, 'spoilt', 'model.onnx'), 'not an onnx file');
      await expect(tagmap.reload()).rejects.toThrow('an inference worker failed to start');
      expect(tagmap.models().map((m) => m.name)).toEqual(['fashion']);
      expect((await tagmap.tag(photo('chelsea.png'))).tags).toEqual(before.tags);

      rmSync(path.join(folder.dir, 'spoilt'), { recursive: true });
      cpSync(zooModelDir('birds'), path.join(folder.dir, 'birds'), { recursive: true });
      const models = await tagmap.reload();
      expect(models.map((m) => [m.name, m.loaded])).toEqual([
        ['birds', true],
        ['fashion', true],
      ]);
      expect((await tagmap.tag(photo('chelsea.png'), { model: 'birds' })).timings.loadMs).toBe(0);
      expect((await tagmap.tag(photo('chelsea.png'), { model: 'fashion' })).tags).toEqual(before.tags);
    } finally {
      await tagmap.close();
      folder.remove();
    }
  });
});

describe('settings naming models', () => {
  it.each([
    [{ preload: ['imagenet'] }, 'preload: "imagenet" is not a loaded model (loaded: fashion)'],
    [{ modelTtl: { '*': 5, voc: 1 } }, 'modelTtl: "voc" is not a loaded model (loaded: fashion)'],
  ])('refuses %j at start, naming the setting and the loaded models', async (settings, message) => {
    const folder = modelsFolder(['fashion']);
    try {
      await expect(createTagmap(testConfig(folder.dir, settings))).rejects.toThrow(message);
    } finally {
      folder.remove();
    }
  });
});

describe('a pinned model.onnx', () => {
  it('stops start-up when the file changed, naming it and both hashes', async () => {
    const folder = modelsFolder(['fashion'], true);
    try {
      const file = path.join(folder.dir, 'fashion', 'model.onnx');
      const pinned = JSON.parse(readFileSync(path.join(folder.dir, 'fashion', 'card.json'), 'utf8')).sha256;
      const bytes = readFileSync(file);
      bytes[bytes.length >> 1] ^= 0xff;
      writeFileSync(file, bytes);
      const error = await createTagmap(testConfig(folder.dir)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ModelLoadError);
      const { message } = error as ModelLoadError;
      expect(message).toMatch(new RegExp(`^${file}: sha256 [0-9a-f]{64} is not the ${pinned} that `));
      expect(message).toContain(path.join(folder.dir, 'fashion', 'card.json'));
      expect(message).not.toContain(`sha256 ${pinned}`);
    } finally {
      folder.remove();
    }
  });
});
