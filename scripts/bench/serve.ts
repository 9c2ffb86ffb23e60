// serverVsInProcess: the same JPEG photos through the same default tagger, in-process through
// createTagmap().tag() and over HTTP against a real server process (server/main.ts, as `npm start` runs
// it) driven by autocannon, at the concurrency that saturates the machine. /healthz is probed during the
// HTTP run, and the server's RSS is sampled from /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { createTagmap, type Tagmap, type Timings } from '../../model/index.ts';

export interface LoadStats {
  concurrency: number;
  requests: number;
  imagesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  /** the timings of the slowest requests, to see where their time went */
  slowest?: Timings[];
  /** medians of the per-request timings */
  medianTimings?: Partial<Timings>;
}

const percentile = (values: number[], p: number) => {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

const round = (n: number, digits = 1) => +n.toFixed(digits);

/** Closed loop: `concurrency` callers, each sending the next photo as soon as its last answer came. */
export async function inProcessLoad(
  tagmap: Tagmap,
  photos: Buffer[],
  model: string | undefined,
  concurrency: number,
  seconds: number,
): Promise<LoadStats> {
  let next = 0;
  let errors = 0;
  const latencies: number[] = [];
  const timings: Timings[] = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const caller = async () => {
    while (performance.now() < deadline) {
      const photo = photos[next++ % photos.length];
      const t0 = performance.now();
      try {
        const result = await tagmap.tag(photo, model ? { model } : {});
        latencies.push(performance.now() - t0);
        timings.push(result.timings);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = (performance.now() - started) / 1000;
  const byTotal = timings.map((t, n) => ({ t, ms: latencies[n] })).sort((a, b) => b.ms - a.ms);
  const med = (key: keyof Timings) =>
    round(
      percentile(
        timings.map((t) => t[key]),
        50,
      ),
    );
  return {
    concurrency,
    requests: latencies.length,
    imagesPerSec: round(latencies.length / elapsed, 2),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
    errors,
    medianTimings: {
      decodeMs: med('decodeMs'),
      queueMs: med('queueMs'),
      inferMs: med('inferMs'),
      postMs: med('postMs'),
    },
    slowest: byTotal.slice(0, 3).map(({ t }) => {
      const rounded = {} as Timings;
      for (const key of Object.keys(t) as Array<keyof Timings>) rounded[key] = round(t[key]);
      return rounded;
    }),
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const rssMB = (pid: number) => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return kb / 1024;
  } catch {
    return NaN;
  }
};

export interface ServerHandle {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts server/main.ts as `npm start` does (scripts/start.sh, which picks the allocator and then execs node
 * --import tsx, so the child's pid is the server's), with `env`, and waits for /readyz.
 */
export async function startServer(repoRoot: string, env: Record<string, string>): Promise<ServerHandle> {
  const port = await freePort();
  const startSh = path.join(repoRoot, 'scripts/start.sh');
  const child = spawn('sh', [startSh, process.execPath, '--import', 'tsx', path.join(repoRoot, 'server/main.ts')], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const giveUp = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before it was ready`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > giveUp) throw new Error('the server was not ready within 180 s');
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One multipart/form-data body per photo, field "image", as a client would upload it. */
function multipartBodies(photos: Buffer[]): Array<{ body: Buffer; contentType: string }> {
  return photos.map((photo, n) => {
    const boundary = `----tagmap-bench-${n}-${photo.length}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo${n}.jpg"\r\n` +
        'Content-Type: image/jpeg\r\n\r\n',
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    return { body: Buffer.concat([head, photo, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
  });
}

export interface HttpStats extends LoadStats {
  healthzP50Ms: number;
  healthzP99Ms: number;
  healthzProbes: number;
  memory: { rssStartMB: number; rssPeakMB: number; rssEndMB: number };
}

/** autocannon against the server: `concurrency` connections, each posting the next photo. */
export async function httpLoad(
  server: ServerHandle,
  photos: Buffer[],
  model: string | undefined,
  concurrency: number,
  seconds: number,
): Promise<HttpStats> {
  const bodies = multipartBodies(photos);
  const pid = server.child.pid!;
  const rssStartMB = rssMB(pid);
  let rssPeakMB = rssStartMB;
  const sampler = setInterval(() => (rssPeakMB = Math.max(rssPeakMB, rssMB(pid))), 200);

  // /healthz probes every 100 ms, one at a time, on their own connection
  const healthz: number[] = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const t0 = performance.now();
      try {
        const res = await fetch(`${server.url}/healthz`);
        await res.arrayBuffer();
        healthz.push(performance.now() - t0);
      } catch {
        healthz.push(Infinity);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  let next = 0;
  const query = model ? `?model=${encodeURIComponent(model)}` : '';
  const result = await autocannon({
    url: server.url,
    connections: concurrency,
    pipelining: 1,
    duration: seconds,
    timeout: 60,
    requests: [
      {
        method: 'POST',
        path: `/v1/tags${query}`,
        setupRequest: (request) => {
          const { body, contentType } = bodies[next++ % bodies.length];
          return { ...request, body, headers: { ...request.headers, 'content-type': contentType } };
        },
      },
    ],
  });
  probing = false;
  await probe;
  clearInterval(sampler);
  const rssEndMB = rssMB(pid);
  const ok = result['2xx'];
  return {
    concurrency,
    requests: ok,
    imagesPerSec: round(ok / result.duration, 2),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors + result.non2xx + result.timeouts,
    healthzP50Ms: round(percentile(healthz, 50)),
    healthzP99Ms: round(percentile(healthz, 99)),
    healthzProbes: healthz.length,
    memory: { rssStartMB: round(rssStartMB), rssPeakMB: round(rssPeakMB), rssEndMB: round(rssEndMB) },
  };
}

export async function openTagmap(settings: Parameters<typeof createTagmap>[0] = {}): Promise<Tagmap> {
  const tagmap = await createTagmap({ ...settings, logger: { info: () => undefined, warn: () => undefined } });
  await tagmap.ready();
  return tagmap;
}
