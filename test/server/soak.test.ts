// The 90-second soak of CI: `npm run soak` against a real server process with mixed traffic, held to its
// gates (RSS growth after the warm-up, descriptors, no 5xx but 503, no answer a request must not get), and
// the gates themselves shown to trip on figures that break them.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Outcome } from '../../scripts/soak/clients.ts';
import { soakReport, type SoakReport } from '../../scripts/soak/report.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'tagmap-soak-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/soak.ts', ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run soak', () => {
  it('90 s of mixed traffic: RSS flat after warm-up, no descriptor left open, no 5xx but 503', async () => {
    const json = path.join(work, 'soak.json');
    const run = await soak(['--seconds', '90', '--json', json]);
    process.stdout.write(run.stdout);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as SoakReport;
    expect(report.failures).toEqual([]);
    expect(report.rssGrowthMB).toBeLessThanOrEqual(50);
    expect(report.fdEnd).toBeLessThanOrEqual(report.fdStart);
    expect(Object.keys(report.statusCounts).filter((s) => /^5/.test(s) && s !== '503')).toEqual([]);
    // every kind of traffic ran and got its answers: photos tagged, bad inputs refused, bursts overflowing
    expect(report.countsByKind.upload['200']).toBeGreaterThan(0);
    expect(report.countsByKind.url['200']).toBeGreaterThan(0);
    expect(report.countsByKind['bad:options']['400']).toBeGreaterThan(0);
    expect(report.countsByKind.burst['503']).toBeGreaterThan(0);
    expect(report.countsByKind['hang-up'].aborted).toBeGreaterThan(0);
    expect(report.unexpectedCount).toBe(0);
    expect(report.rssMinuteMedianSlopeMBPerHour).toBeNull(); // 45 s after the warm-up: no minutes to fit
    for (const field of [
      'rssStartMB',
      'rssPeakMB',
      'rssSlopeMBPerHour',
      'heapUsedWarmMB',
      'heapSlopeMBPerHour',
      'eventLoopP99Ms',
      'p50Ms',
      'p99Ms',
    ] as const)
      expect(Number.isFinite(report[field]), field).toBe(true);
  }, 200_000);

  it('exits 2 without a duration', async () => {
    const run = await soak([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('give --minutes or --seconds');
  });
});

describe('the soak gates', () => {
  const ok: Outcome = { kind: 'upload', status: '200', ms: 100, expected: true };
  const samples = (rss: (t: number) => number) =>
    Array.from({ length: 30 }, (_, i) => ({
      t: i * 2,
      rssMB: rss(i * 2),
      fds: 40,
      eventLoopP99Ms: 10,
      heapUsedMB: 40 + i * 0.1,
      externalMB: 5,
    }));
  const base = { seconds: 60, warmupSeconds: 15, outcomes: [ok], fdStart: 40, fdEnd: 40 };

  it('pass flat figures and fit the slope', () => {
    const report = soakReport({ ...base, samples: samples((t) => 300 + t / 60) }); // 1 MB a minute
    expect(report.failures).toEqual([]);
    expect(report.rssSlopeMBPerHour).toBeCloseTo(60, 5);
    expect(report.heapSlopeMBPerHour).toBeCloseTo(180, 5); // 0.1 MB every 2 s
  });

  it('fit the minute-median slope past a burst peak that the plain fit follows', () => {
    // 300 MB flat for 6 minutes after the warm-up, with one 500-MB reading near the end
    const flat = Array.from({ length: 90 }, (_, i) => ({
      t: 15 + i * 4,
      rssMB: i === 85 ? 500 : 300,
      fds: 40,
      eventLoopP99Ms: 10,
      heapUsedMB: 40,
      externalMB: 5,
    }));
    const report = soakReport({ ...base, seconds: 375, samples: flat });
    expect(report.rssMinuteMedianSlopeMBPerHour).toBe(0);
    expect(report.rssSlopeMBPerHour).toBeGreaterThan(20);
    expect(report.heapUsedEndMB).toBe(40);
  });

  it('fail on RSS growth, a descriptor left open, a 500 and an unexpected answer', () => {
    const report = soakReport({
      ...base,
      samples: samples((t) => (t < 15 ? 300 : 300 + 2 * t)),
      fdEnd: 41,
      outcomes: [
        ok,
        { ...ok, status: '500', expected: false },
        { ...ok, kind: 'bad:text', status: '200', expected: false },
      ],
    });
    expect(report.failures).toEqual([
      expect.stringMatching(/^RSS grew \d+(\.\d)? MB after the warm-up/),
      'open descriptors grew from 40 to 41',
      '5xx answers other than 503: 500 x1',
      '2 unexpected answers (see unexpected)',
    ]);
  });
});
