// Interrupted runs: rows of finished inputs survive SIGKILL and SIGTERM whole, and --resume completes the
// run with no input tagged twice.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAN, copies, finished, jsonRows, modelsFolder, runTag, spawnTag } from './helpers.ts';

const COPIES = 16;
let models: ReturnType<typeof modelsFolder>;
let work: string;
let local: string[];

beforeAll(() => {
  models = modelsFolder(['imagenet']);
  work = mkdtempSync(path.join(tmpdir(), 'tagmap-batch-resume-'));
  local = ['--models', models.dir, ...LEAN];
});
afterAll(() => {
  models?.remove();
  rmSync(work, { recursive: true, force: true });
});

async function untilRows(file: string): Promise<void> {
  for (const start = Date.now(); Date.now() - start < 60_000;) {
    if (existsSync(file) && statSync(file).size > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no rows in ${file} after 60 s`);
}

/** Starts a run over `dir` and sends `signal` once its first row is written. */
async function interrupted(dir: string, out: string, signal: NodeJS.Signals) {
  const child = spawnTag([dir, '--out', out, ...local]);
  const run = finished(child);
  child.stdin!.end();
  await untilRows(out);
  child.kill(signal);
  return run;
}

const inputsOf = (file: string) => jsonRows(readFileSync(file, 'utf8')).map((r) => r.input);

describe('--resume after a kill', () => {
  it('keeps the whole rows of a SIGKILLed run, drops a torn last line, and completes without duplicates', async () => {
    const dir = path.join(work, 'killed');
    const inputs = copies(dir, COPIES);
    const out = path.join(work, 'killed.jsonl');
    const killed = await interrupted(dir, out, 'SIGKILL');
    expect(killed.code).toBeNull();

    const before = inputsOf(out); // every line parses: no torn row
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(COPIES);
    // what a kill in the middle of a write would leave (the real writer makes one write per row)
    const torn = inputs.find((i) => !before.includes(i))!;
    appendFileSync(out, `{"input":${JSON.stringify(torn)},"ok":true,"tags":[{"lab`);

    const resumed = await runTag([dir, '--out', out, '--resume', ...local]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/dropped a torn last line \(\d+ bytes\)/);
    expect(resumed.stderr).toContain(`tag: ${COPIES - before.length} done, 0 failed, ${before.length} skipped`);
    const after = inputsOf(out);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(new Set(after).size).toBe(after.length);
    expect([...after].sort()).toEqual(inputs);

    const again = await runTag([dir, '--out', out, '--resume', ...local]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`tag: 0 done, 0 failed, ${COPIES} skipped`);
    expect(inputsOf(out)).toEqual(after);
  });

  it('on SIGTERM stops taking inputs, finishes those in flight, keeps their rows and exits 143', async () => {
    const dir = path.join(work, 'terminated');
    copies(dir, COPIES);
    const out = path.join(work, 'terminated.jsonl');
    const stopped = await interrupted(dir, out, 'SIGTERM');
    expect(stopped.code).toBe(143);
    expect(stopped.stderr).toContain('tag: SIGTERM: finishing the inputs in flight');
    const rows = jsonRows(readFileSync(out, 'utf8'));
    expect(rows.length).toBeLessThan(COPIES);
    expect(rows.every((r) => r.ok)).toBe(true);
    expect(stopped.stderr).toContain(`tag: ${rows.length} done, 0 failed, 0 skipped`);
  });
});
