// What a soak found: the figures of the JSON report and the gates CI holds it to.
import type { Outcome } from './clients.ts';
import type { Sample } from './sampler.ts';

export interface SoakReport {
  seconds: number;
  warmupSeconds: number;
  requests: number;
  rssStartMB: number;
  /** RSS when the warm-up ended */
  rssWarmMB: number;
  rssPeakMB: number;
  rssEndMB: number;
  /** least-squares slope of RSS over the samples after the warm-up */
  rssSlopeMBPerHour: number;
  /**
   * the same slope over the median RSS of each minute after the warm-up: a burst's peak then weighs no more
   * than any other reading of its minute; null when fewer than 5 minutes follow the warm-up
   */
  rssMinuteMedianSlopeMBPerHour: number | null;
  /** the main thread's JS heap in use: median of the first and last quarter after the warm-up, and its slope */
  heapUsedWarmMB: number;
  heapUsedEndMB: number;
  heapSlopeMBPerHour: number;
  /**
   * the growth gate's figure: the median RSS of the last quarter of the samples after the warm-up less that
   * of their first quarter (medians, because RSS swings by tens of MB with the traffic of the moment)
   */
  rssGrowthMB: number;
  /** the worst p99 of the event-loop delay over one sampling interval after the warm-up */
  eventLoopP99Ms: number;
  /** the median of those interval p99s */
  eventLoopP99MedianMs: number;
  /** latency of the answered good requests (uploads, URLs, slow uploads, bursts) with 200 */
  p50Ms: number;
  p99Ms: number;
  statusCounts: Record<string, number>;
  countsByKind: Record<string, Record<string, number>>;
  fdStart: number;
  fdEnd: number;
  /** answers a request of that kind must not get (a bad input with 200, a reset connection), first few */
  unexpected: Array<Pick<Outcome, 'kind' | 'status' | 'detail'>>;
  unexpectedCount: number;
  failures: string[];
  /**
   * every reading, for plotting: seconds since the start, RSS, descriptors, event-loop p99 of the interval,
   * the main thread's heap in use and external memory
   */
  samples: Sample[];
  /** the machine: cores and its 1-minute load average when the soak began and ended (shared machines) */
  machine?: { cores: number; loadAverageStart: number; loadAverageEnd: number };
  /** the malloc the server ran on, as its /metrics reports it (docs/reliability.md, "Memory allocator") */
  malloc?: string;
}

const GATES = { rssGrowthMB: 50 } as const;

const round = (n: number, digits = 1) => +n.toFixed(digits);

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Slope of y over x by ordinary least squares (0 for fewer than two points). */
function slope(points: Array<[number, number]>): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / points.length;
  const my = points.reduce((s, [, y]) => s + y, 0) / points.length;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

const tally = (values: string[]) =>
  Object.fromEntries([...new Set(values)].sort().map((value) => [value, values.filter((v) => v === value).length]));

export interface SoakRun {
  seconds: number;
  warmupSeconds: number;
  outcomes: Outcome[];
  samples: Sample[];
  fdStart: number;
  fdEnd: number;
}

export function soakReport(run: SoakRun): SoakReport {
  const { outcomes, samples } = run;
  const warm = samples.filter((s) => s.t >= run.warmupSeconds);
  const steady = warm.length > 0 ? warm : samples;
  const rssWarmMB = steady[0].rssMB;
  const rssEndMB = samples[samples.length - 1].rssMB;
  const loopP99s = steady.map((s) => s.eventLoopP99Ms).filter(Number.isFinite);
  const served = outcomes.filter((o) => o.status === '200' && !o.kind.startsWith('bad')).map((o) => o.ms);
  const unexpected = outcomes.filter((o) => !o.expected);
  const statusCounts = tally(outcomes.map((o) => o.status));
  const kinds = [...new Set(outcomes.map((o) => o.kind))].sort();

  const perHour = slope(steady.map((s) => [s.t / 3600, s.rssMB]));
  const quarter = Math.max(1, Math.floor(steady.length / 4));
  const median = (part: Sample[], field: 'rssMB' | 'heapUsedMB') =>
    percentile(
      part.map((s) => s[field]),
      50,
    );
  const rssGrowthMB = median(steady.slice(-quarter), 'rssMB') - median(steady.slice(0, quarter), 'rssMB');
  const minutes = new Map<number, Sample[]>();
  for (const s of steady) {
    const minute = Math.floor(s.t / 60);
    minutes.set(minute, [...(minutes.get(minute) ?? []), s]);
  }
  const minuteMedians = [...minutes].map(([minute, part]): [number, number] => [
    (minute + 0.5) / 60,
    median(part, 'rssMB'),
  ]);

  const failures: string[] = [];
  if (rssGrowthMB > GATES.rssGrowthMB)
    failures.push(`RSS grew ${round(rssGrowthMB)} MB after the warm-up (limit ${GATES.rssGrowthMB} MB)`);
  if (run.fdEnd > run.fdStart) failures.push(`open descriptors grew from ${run.fdStart} to ${run.fdEnd}`);
  const bad5xx = Object.keys(statusCounts).filter((s) => /^5\d\d$/.test(s) && s !== '503');
  if (bad5xx.length > 0)
    failures.push(`5xx answers other than 503: ${bad5xx.map((s) => `${s} x${statusCounts[s]}`).join(', ')}`);
  if (unexpected.length > 0) failures.push(`${unexpected.length} unexpected answers (see unexpected)`);
  if (!outcomes.some((o) => o.status === '200')) failures.push('no request succeeded');

  return {
    seconds: round(run.seconds),
    warmupSeconds: run.warmupSeconds,
    requests: outcomes.length,
    rssStartMB: round(samples[0].rssMB),
    rssWarmMB: round(rssWarmMB),
    rssPeakMB: round(Math.max(...samples.map((s) => s.rssMB))),
    rssEndMB: round(rssEndMB),
    rssSlopeMBPerHour: round(perHour),
    rssMinuteMedianSlopeMBPerHour: minuteMedians.length >= 5 ? round(slope(minuteMedians)) : null,
    heapUsedWarmMB: round(median(steady.slice(0, quarter), 'heapUsedMB')),
    heapUsedEndMB: round(median(steady.slice(-quarter), 'heapUsedMB')),
    heapSlopeMBPerHour: round(slope(steady.map((s) => [s.t / 3600, s.heapUsedMB]))),
    rssGrowthMB: round(rssGrowthMB),
    eventLoopP99Ms: round(Math.max(...loopP99s)),
    eventLoopP99MedianMs: round(percentile(loopP99s, 50)),
    p50Ms: round(percentile(served, 50)),
    p99Ms: round(percentile(served, 99)),
    statusCounts,
    countsByKind: Object.fromEntries(
      kinds.map((k) => [k, tally(outcomes.filter((o) => o.kind === k).map((o) => o.status))]),
    ),
    fdStart: run.fdStart,
    fdEnd: run.fdEnd,
    unexpected: unexpected
      .slice(0, 10)
      .map(({ kind, status, detail }) => ({ kind, status, ...(detail && { detail }) })),
    unexpectedCount: unexpected.length,
    failures,
    samples: samples.map((s) => ({
      t: round(s.t),
      rssMB: round(s.rssMB),
      fds: s.fds,
      eventLoopP99Ms: round(s.eventLoopP99Ms),
      heapUsedMB: round(s.heapUsedMB),
      externalMB: round(s.externalMB),
    })),
  };
}

export function printReport(report: SoakReport, write: (text: string) => void): void {
  const lines = [
    `soak: ${report.seconds} s, ${report.requests} requests (warm-up ${report.warmupSeconds} s)${report.malloc ? `, server on ${report.malloc}` : ''}`,
    `  RSS MB: start ${report.rssStartMB}, after warm-up ${report.rssWarmMB}, peak ${report.rssPeakMB}, end ${report.rssEndMB}; slope ${report.rssSlopeMBPerHour} MB/h, growth ${report.rssGrowthMB} MB (median of the last quarter less the first)${report.rssMinuteMedianSlopeMBPerHour === null ? '' : `; slope of the minute medians ${report.rssMinuteMedianSlopeMBPerHour} MB/h`}`,
    `  main-thread JS heap MB: ${report.heapUsedWarmMB} after warm-up, ${report.heapUsedEndMB} at the end (medians of quarters); slope ${report.heapSlopeMBPerHour} MB/h`,
    `  event-loop delay p99: worst interval ${report.eventLoopP99Ms} ms, median interval ${report.eventLoopP99MedianMs} ms`,
    `  latency of 200s: p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms`,
    `  statuses: ${Object.entries(report.statusCounts)
      .map(([s, n]) => `${s} x${n}`)
      .join(', ')}`,
    ...Object.entries(report.countsByKind).map(
      ([kind, counts]) =>
        `    ${kind}: ${Object.entries(counts)
          .map(([s, n]) => `${s} x${n}`)
          .join(', ')}`,
    ),
    `  open descriptors: start ${report.fdStart}, end ${report.fdEnd}`,
    ...report.unexpected.map((u) => `  unexpected: ${u.kind} got ${u.status}${u.detail ? ` (${u.detail})` : ''}`),
    report.failures.length > 0 ? `FAILED: ${report.failures.join('; ')}` : 'passed',
  ];
  write(`${lines.join('\n')}\n`);
}
