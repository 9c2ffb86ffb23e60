// SIGKILL at random moments, again and again: every row a killed run leaves is whole (JSONL lines that
// parse, CSV records with the header's fields), earlier rows stay as they were, and --resume then completes
// the set with each input exactly once. In-process and through a real server, JSONL and CSV.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvColumns } from '../../scripts/batch/formats.ts';
import { startServer, type TestServer } from '../server/server.ts';
import { LEAN, PHOTOS, finished, modelsFolder, runTag, spawnTag } from './helpers.ts';

const IMAGES = 30;
const KILLS = 3;
let server: TestServer;
let models: ReturnType<typeof modelsFolder>;
let work: string;
let inputs: string[];

beforeAll(async () => {
  server = await startServer(['imagenet']);
  models = modelsFolder(['imagenet']);
  work = mkdtempSync(path.join(tmpdir(), 'tagmap-batch-kill-'));
  // 30 small distinct JPEGs, so that a run is short and a kill lands among many rows
  const dir = path.join(work, 'images');
  mkdirSync(dir);
  const rocket = readFileSync(path.join(PHOTOS, 'rocket.jpg'));
  inputs = await Promise.all(
    Array.from({ length: IMAGES }, async (_, i) => {
      const file = path.join(dir, `small-${String(i).padStart(2, '0')}.jpg`);
      writeFileSync(
        file,
        await sharp(rocket)
          .resize({ width: 96 + 4 * i })
          .jpeg()
          .toBuffer(),
      );
      return file;
    }),
  );
});
afterAll(async () => {
  await server?.close();
  models?.remove();
  rmSync(work, { recursive: true, force: true });
});

/** The inputs of an output, one entry per row (JSONL) or per run of records of one input (CSV); throws on a torn row. */
function wholeRows(file: string, format: 'jsonl' | 'csv'): string[] {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (text === '') return [];
  if (format === 'jsonl') {
    expect(text.endsWith('\n'), 'the last JSONL line is whole').toBe(true);
    return text
      .slice(0, -1)
      .split('\n')
      .map((line) => {
        const row = JSON.parse(line) as { input: string; ok: boolean };
        expect(row.ok).toBe(true);
        return row.input;
      });
  }
  expect(text.endsWith('\r\n'), 'the last CSV record is whole').toBe(true);
  // strict: a record with fewer or more fields than the header throws
  const records = parse(text, { columns: true }) as Array<Record<string, string>>;
  expect(Object.keys(records[0] ?? Object.fromEntries(csvColumns('tag').map((c) => [c, ''])))).toEqual([
    ...csvColumns('tag'),
  ]);
  const runs: string[] = [];
  for (const record of records) {
    expect(record.ok).toBe('true');
    if (runs.at(-1) !== record.input) runs.push(record.input);
  }
  return runs;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a --resume run and SIGKILLs it a random 0 to 400 ms after its output first grows. */
async function killedRun(args: string[], out: string, format: 'jsonl' | 'csv'): Promise<boolean> {
  const size = () => (existsSync(out) ? readFileSync(out).length : 0);
  const before = size();
  const child = spawnTag(args);
  const run = finished(child);
  child.stdin!.end();
  let ended = false;
  void run.then(() => (ended = true));
  while (!ended && size() <= before + (format === 'csv' ? 400 : 0)) await pause(10);
  if (ended) return false;
  await pause(Math.random() * 400);
  child.kill('SIGKILL');
  const { code, stderr } = await run;
  // a run that finished before the kill landed exits 0
  expect(code === null || code === 0, stderr).toBe(true);
  return code === null;
}

const setups = {
  'in-process': () => ['--models', models.dir, ...LEAN],
  '--server': () => ['--server', server.url, '--concurrency', '2'],
};

describe('a batch run killed with SIGKILL, repeatedly', () => {
  for (const [where, backEnd] of Object.entries(setups)) {
    for (const format of ['jsonl', 'csv'] as const) {
      it(`${where}, ${format}: leaves only whole rows, and --resume completes the set once each`, async () => {
        const out = path.join(work, `${where.replace(/\W/g, '')}.${format}`);
        const args = [
          path.join(work, 'images'),
          '--out',
          out,
          '--resume',
          '--topK',
          '3',
          '--scales',
          '1',
          ...backEnd(),
        ];
        let kills = 0;
        let previous = '';
        for (let attempt = 0; attempt < KILLS; attempt++) {
          if (await killedRun(args, out, format)) kills++;
          const text = readFileSync(out, 'utf8');
          expect(text.startsWith(previous), 'rows of earlier runs stay as they were').toBe(true);
          previous = text;
          const rows = wholeRows(out, format);
          expect(new Set(rows).size, 'no input twice').toBe(rows.length);
          if (rows.length === IMAGES) break;
        }
        expect(kills).toBeGreaterThanOrEqual(2);

        const resumed = await runTag(args);
        expect(resumed.code, resumed.stderr).toBe(0);
        const rows = wholeRows(out, format);
        expect(rows.length).toBe(IMAGES);
        expect([...rows].sort()).toEqual(inputs);
        console.info(`${where} ${format}: ${kills} kills, then --resume: ${resumed.stderr.trim().split('\n').at(-1)}`);
      }, 120_000);
    }
  }
});
