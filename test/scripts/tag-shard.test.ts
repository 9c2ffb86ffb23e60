// --shard I/N: the shards of a run are disjoint and together cover every input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../scripts/batch/shard.ts';
import { LEAN, copies, jsonRows, modelsFolder, photoFolder, runTag, type PhotoFolder } from './helpers.ts';

describe('shardOf', () => {
  it('puts each input in one shard, the same one every time, spread evenly', () => {
    const inputs = Array.from({ length: 20_000 }, (_, i) => `photos/${i}.jpg`);
    const sizes = [0, 0, 0, 0];
    for (const input of inputs) sizes[shardOf(input, 4)]++;
    expect(sizes.reduce((a, b) => a + b)).toBe(inputs.length);
    for (const size of sizes) expect(Math.abs(size - 5000)).toBeLessThan(300);
    expect(inputs.slice(0, 100).map((i) => shardOf(i, 4))).toEqual(inputs.slice(0, 100).map((i) => shardOf(i, 4)));
    expect(inputs.every((i) => shardOf(i, 1) === 0)).toBe(true);
  });
});

describe('--shard', () => {
  let models: ReturnType<typeof modelsFolder>;
  let photos: PhotoFolder;
  let inputs: string[];
  beforeAll(() => {
    models = modelsFolder(['imagenet']);
    photos = photoFolder();
    // the temp folder's random name decides the shards: add copies until each shard holds at least two images
    const originals = [...photos.good, photos.truncated, photos.fake];
    const short = () => [0, 1].some((shard) => inputs.filter((i) => shardOf(i, 2) === shard).length < 2);
    inputs = originals;
    for (let extra = 1; short(); extra++) inputs = [...originals, ...copies(photos.dir, extra)];
  });
  afterAll(() => {
    models?.remove();
    photos?.remove();
  });

  it('splits a folder into disjoint shards that cover every input', async () => {
    const shards = [];
    for (const shard of ['0/2', '1/2']) {
      const run = await runTag([photos.dir, '--shard', shard, '--models', models.dir, ...LEAN]);
      const rows = jsonRows(run.stdout);
      // the truncated and fake files fail in whichever shard takes them
      expect(run.code, run.stderr).toBe(rows.some((r) => !r.ok) ? 1 : 0);
      shards.push(rows.map((r) => r.input));
    }
    const [first, second] = shards;
    expect(first.length).toBeGreaterThanOrEqual(2);
    expect(second.length).toBeGreaterThanOrEqual(2);
    expect(first.filter((i) => second.includes(i))).toEqual([]);
    expect([...first, ...second].sort()).toEqual([...inputs].sort());
    expect(first.every((i) => shardOf(i, 2) === 0) && second.every((i) => shardOf(i, 2) === 1)).toBe(true);
  });
});
