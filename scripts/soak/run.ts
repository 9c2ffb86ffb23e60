// One soak: the server (started here or given), the test host for URL inputs, the traffic, the samples
// every few seconds, and the descriptor count once the traffic has stopped and idle sockets have closed.
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Outcome } from './clients.ts';
import { soakImages } from './images.ts';
import { soakReport, type SoakReport } from './report.ts';
import { sample, serverMalloc, settledFds, type Sample } from './sampler.ts';
import { startSoakServer } from './server.ts';
import { driveTraffic } from './traffic.ts';
import { startUrlHost, type UrlHost } from './url-host.ts';

export interface SoakOptions {
  seconds: number;
  server?: string;
  models: string[];
  photos?: string;
  clients: number;
  burst: number;
  urls: boolean;
  log: (line: string) => void;
}

/**
 * The first half of the run, at least 10 s and at most 5 min, is warm-up: caches, pools and arenas fill (a
 * short run's RSS is still rising towards its plateau in its first minute).
 */
const warmupSeconds = (seconds: number) => Math.round(Math.min(300, Math.max(10, seconds / 2)));

/** Keep-alive sockets close 5 s after their last request (server/main.ts); allow for that and more. */
const SETTLE_MS = 15_000;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const images = await soakImages(options.photos);
  const local = options.server ? undefined : await startSoakServer(options.models);
  const base = options.server?.replace(/\/$/, '') ?? local!.url;
  const pid = local?.pid;
  let host: UrlHost | undefined;
  try {
    if (options.urls) host = await startUrlHost(images.good);
    const loadAverageStart = loadavg()[0];
    const samples: Sample[] = [];
    const outcomes: Outcome[] = [];
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const first = await sample(base, pid, 0);
    samples.push(first);
    const malloc = await serverMalloc(base);
    options.log(
      `soak: ${base}, ${options.seconds} s, RSS ${first.rssMB.toFixed(1)} MB, ${first.fds} descriptors, malloc ${malloc}`,
    );

    // short runs sample twice a second: the gate compares medians of quarters, and RSS swings with each burst
    const everyMs = Math.min(5000, Math.max(500, options.seconds * 10));
    let sampling = true;
    const sampler = (async () => {
      let nextLog = 60;
      while (sampling) {
        await new Promise((resolve) => setTimeout(resolve, everyMs));
        const s = await sample(base, pid, elapsed());
        samples.push(s);
        if (s.t >= nextLog) {
          nextLog += 60;
          options.log(
            `  ${s.t.toFixed(0)} s: RSS ${s.rssMB.toFixed(1)} MB, ${s.fds} fds, loop p99 ${s.eventLoopP99Ms.toFixed(1)} ms, ${outcomes.length} requests`,
          );
        }
      }
    })();
    try {
      await driveTraffic(
        {
          base,
          images,
          imageUrl: host?.imageUrl,
          clients: options.clients,
          burstSize: options.burst,
          burstEveryMs: 5000,
          fastBurstsUntil: Date.now() + warmupSeconds(options.seconds) * 600,
          until: Date.now() + options.seconds * 1000,
        },
        (outcome) => outcomes.push(outcome),
      );
    } finally {
      sampling = false;
      await sampler;
    }
    const seconds = elapsed();
    samples.push(await sample(base, pid, seconds));
    const fdEnd = await settledFds(base, pid, first.fds, SETTLE_MS);
    const report = soakReport({
      seconds,
      warmupSeconds: warmupSeconds(options.seconds),
      outcomes,
      samples,
      fdStart: first.fds,
      fdEnd,
    });
    const machine = { cores: availableParallelism(), loadAverageStart, loadAverageEnd: loadavg()[0] };
    return { ...report, machine, malloc };
  } finally {
    await host?.close();
    await local?.stop();
  }
}
