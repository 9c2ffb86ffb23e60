// `npm run tag -- --task parse`: label PNGs of the bundled camvid model for real CamVid test images, written
// under --masks, one per input, the same in-process and through a server; a broken file gets an error row.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeLabelPng } from '../../model/io/image.ts';
import { SHARED, startServer, type TestServer } from '../server/server.ts';
import { LEAN, modelsFolder, runTag } from './helpers.ts';

const STREETS = ['0001TP_008550', 'Seq05VD_f01710'];
let dir: string;
let images: string[];
let broken: string;
let models: ReturnType<typeof modelsFolder>;
let server: TestServer;

interface ParseRow {
  input: string;
  ok: boolean;
  mask?: string;
  width?: number;
  height?: number;
  legend?: Array<{ id: number; name: string; share: number }>;
  error?: { code: string };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tagmap-batch-parse-'));
  images = STREETS.map((name) => {
    const file = path.join(dir, `${name}.jpg`);
    copyFileSync(path.join(SHARED, 'data/camvid/test/images', `${name}.jpg`), file);
    return file;
  });
  broken = path.join(dir, 'broken.jpg'); // the first street cut to a quarter
  const street = readFileSync(images[0]);
  writeFileSync(broken, street.subarray(0, street.length >> 2));
  models = modelsFolder(['camvid']);
  server = await startServer(['camvid']);
});
afterAll(async () => {
  await server?.close();
  models?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function parseRun(masks: string, extra: string[]) {
  const run = await runTag([...images, broken, '--task', 'parse', '--model', 'camvid', '--masks', masks, ...extra]);
  expect(run.code, run.stderr).toBe(1); // the broken file
  const rows = run.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ParseRow);
  return new Map(rows.map((row) => [row.input, row]));
}

const labels = async (file: string) => decodeLabelPng(readFileSync(file));

describe('--task parse', () => {
  it('writes a label PNG the size of each image, with its legend in the row, and an error row for a broken file', async () => {
    const masks = path.join(dir, 'local');
    const rows = await parseRun(masks, ['--models', models.dir, ...LEAN]);
    expect(rows.get(broken)).toMatchObject({ ok: false, error: { code: 'undecodable_image' } });
    for (const image of images) {
      const row = rows.get(image)!;
      expect(row).toMatchObject({ ok: true, width: 480, height: 360 });
      expect(path.dirname(row.mask!)).toBe(masks);
      const map = await labels(row.mask!);
      expect([map.width, map.height]).toEqual([480, 360]);
      // the legend lists the labels present with their pixel shares, which the PNG bears out
      const shares = new Map(row.legend!.map((l) => [l.id, l.share]));
      expect(row.legend!.map((l) => l.name)).toContain('road');
      const counts = new Map<number, number>();
      for (const id of map.labels) counts.set(id, (counts.get(id) ?? 0) + 1);
      for (const [id, count] of counts)
        expect(Math.abs(count / map.labels.length - shares.get(id)!), `label ${id}`).toBeLessThan(0.001);
    }
    // one mask per image, none for the broken file
    expect(readdirSync(masks).sort()).toEqual(images.map((image) => path.basename(rows.get(image)!.mask!)).sort());
  });

  it('writes the same label PNGs through --server as in-process', async () => {
    const local = path.join(dir, 'local');
    const remote = path.join(dir, 'remote');
    const rows = await parseRun(remote, ['--server', server.url]);
    expect(rows.get(broken)).toMatchObject({ ok: false, error: { code: 'undecodable_image' } });
    for (const image of images) {
      const mask = rows.get(image)!.mask!;
      const [a, b] = await Promise.all([labels(mask), labels(path.join(local, path.basename(mask)))]);
      expect(Buffer.compare(a.labels, b.labels), image).toBe(0);
    }
  });
});
