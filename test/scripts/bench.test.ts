// npm run bench: the window copy and the MAC counter against known figures, and the whole bench in its tiny
// mode (fashion at 64x64, 2 s load runs in-process and over HTTP) for the shape of its JSON. No timings
// are asserted: they belong to docs/benchmarks.md, not to a test.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { macCounter } from '../../scripts/bench/flops.ts';
import { copyWindow } from '../../scripts/bench/sliding.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const ZOO = path.join(REPO, 'model/zoo');

describe('copyWindow', () => {
  // a 2-channel 4x3 tensor whose value is 100c + 10y + x
  const tensor = Float32Array.from({ length: 2 * 3 * 4 }, (_, n) => {
    const c = Math.floor(n / 12);
    const y = Math.floor((n % 12) / 4);
    return 100 * c + 10 * y + (n % 4);
  });
  it('copies an inside window and reads outside as 0, over stale values', () => {
    const into = new Float32Array(1 + 2 * 2 * 2).fill(-1);
    copyWindow(tensor, 2, 4, 3, 1, 1, 2, into, 1);
    expect([...into]).toEqual([-1, 11, 12, 21, 22, 111, 112, 121, 122]);
    copyWindow(tensor, 2, 4, 3, 3, 2, 2, into, 1);
    expect([...into]).toEqual([-1, 23, 0, 0, 0, 123, 0, 0, 0]);
    copyWindow(tensor, 2, 4, 3, -1, -1, 2, into, 1);
    expect([...into]).toEqual([-1, 0, 0, 0, 0, 0, 0, 0, 100]);
  });
});

describe('macCounter', () => {
  const count = async (name: string) => {
    const card = JSON.parse(readFileSync(path.join(ZOO, name, 'card.json'), 'utf8'));
    return macCounter(readFileSync(path.join(ZOO, name, 'model.onnx')), card.input.name, card.input.channels);
  };
  it('gives MobileNetV2 at 224x224 its published 300 M multiply-adds (weights behind DequantizeLinear)', async () => {
    const counter = await count('imagenet');
    expect(counter.nodes).toBe(53);
    const macs = await counter.macs(1, 224, 224);
    expect(macs / 1e6).toBeGreaterThan(295);
    expect(macs / 1e6).toBeLessThan(306);
    // linear in the batch
    expect(await counter.macs(2, 224, 224)).toBe(2 * macs);
  });
  it('counts fashion by hand: 4 convolutions over a 28x28 window', async () => {
    const counter = await count('fashion');
    expect(counter.nodes).toBe(4);
    expect(counter.opTypes.has('GlobalAveragePool')).toBe(false);
    // 5x5x1 -> 48 at 24x24, pool, 5x5x48 -> 96 at 8x8, pool, 4x4x96 -> 256 at 1x1, 1x1x256 -> 10
    const byHand = 48 * 25 * 24 * 24 + 96 * 48 * 25 * 8 * 8 + 256 * 96 * 16 + 10 * 256;
    expect(await counter.macs(1, 28, 28)).toBe(byHand);
    // at 64x64 the first convolution runs at 60x60, the second at 26x26, the third at 10x10, the last too
    const at64 = 48 * 25 * 60 * 60 + 96 * 48 * 25 * 26 * 26 + 256 * 96 * 16 * 10 * 10 + 10 * 256 * 10 * 10;
    expect(await counter.macs(1, 64, 64)).toBe(at64);
  });
});

describe('npm run bench -- --tiny', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('writes the JSON fields of every part', async () => {
    const out = path.join(dir, 'out.json');
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(REPO, 'scripts/bench.ts'), '--tiny', '--only', 'fashion,voc', '--json', out],
      { cwd: REPO, maxBuffer: 1 << 26 },
    );
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.defaultModel).toBe('imagenet');
    const [row, ...others] = report.unrolledVsSliding;
    // voc's image pooling gives every cell the whole image: no sliding baseline, said so
    expect(others.map((r: { model: string; slidingMs: unknown }) => [r.model, r.slidingMs])).toEqual([['voc', null]]);
    expect(row).toMatchObject({
      model: 'fashion',
      width: 64,
      height: 64,
      slidingFrom: 'all',
      maxAbsDiff: expect.any(Number),
    });
    for (const key of ['windows', 'denseMs', 'slidingMs', 'ratio', 'flopRatio'])
      expect(row[key], key).toBeGreaterThan(0);
    // fashion is exact: the sliding classifier gives the dense map up to float rounding
    expect(row.maxAbsDiff).toBeLessThan(1e-3);
    expect(row.sweep.length).toBeGreaterThan(1);
    const s = report.serverVsInProcess;
    for (const key of ['concurrency', 'inProcessImagesPerSec', 'serverImagesPerSec', 'ratio', 'p50Ms', 'p99Ms'])
      expect(s[key], key).toBeGreaterThan(0);
    for (const key of ['inProcessP50Ms', 'inProcessP99Ms', 'healthzP99Ms']) expect(s[key], key).toBeGreaterThan(0);
    expect(s.layout).toMatch(/worker/);
    expect(s.errors).toBe(0);

    // voc is the one int8 model of the two; its float form agrees with it on most cells
    const [int8] = report.int8VsFloat;
    expect(int8).toMatchObject({ model: 'voc', width: 64, height: 64 });
    expect(report.int8VsFloat).toHaveLength(1);
    expect(int8.topAgreement).toBeGreaterThan(0.8);
    expect(int8.floatMB).toBeGreaterThan(2 * int8.int8MB);
    // PyTorch ran the same network: the same map up to float rounding
    expect(report.ortVsTorch).toMatchObject({ model: 'fashion', threads: report.threads });
    expect(report.ortVsTorch.maxAbsDiff).toBeLessThan(1e-3);
    expect(report.ortVsTorch.ratio).toBeGreaterThan(0);
    const { peak, rows } = report.computeEfficiency;
    expect(peak.gflopPerSec).toBeGreaterThan(0);
    expect(rows.map((r: { model: string }) => r.model)).toEqual(['fashion', 'voc']);
    expect(rows[0].profile[0].op).toBe('Conv');
    expect(rows[0].fraction).toBeCloseTo(rows[0].gflopPerSec / peak.gflopPerSec, 1);
    expect(report.sizeScaling.map((r: { side: number }) => r.side)).toEqual([64, 128]);
    // every photo of the batch folder gave one row, through the server and in-process
    expect(report.batchVsServer.map((b: { mode: string; rows: number }) => [b.mode, b.rows])).toEqual([
      ['server', 6],
      ['in-process', 6],
    ]);
    const { memory } = report;
    expect(memory.rssPeakMB).toBeGreaterThanOrEqual(memory.rssStartMB);
  }, 240_000);
});
