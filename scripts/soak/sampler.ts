// The server's resources over time: RSS and open descriptors from /proc when the server runs here (its
// pid known), else from its prom-client process metrics; the event-loop delay p99 from
// nodejs_eventloop_lag_p99_seconds, which prom-client computes over the time since the last scrape; the main
// thread's JS heap and external memory beside RSS, to tell a leak in JS from native memory.
import { readdirSync, readFileSync } from 'node:fs';

export interface Sample {
  /** seconds since the soak began */
  t: number;
  rssMB: number;
  fds: number;
  eventLoopP99Ms: number;
  /** the main thread's JS heap in use (nodejs_heap_size_used_bytes) */
  heapUsedMB: number;
  /** memory outside the heap held by the main thread's JS objects: Buffers and the like */
  externalMB: number;
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

function procRssMB(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

const procFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** One reading; `pid` set: RSS and descriptors from /proc. */
export async function sample(base: string, pid: number | undefined, t: number): Promise<Sample> {
  const res = await fetch(`${base}/metrics`);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  return {
    t,
    rssMB: pid ? procRssMB(pid) : metric(text, 'process_resident_memory_bytes') / 2 ** 20,
    fds: pid ? procFds(pid) : metric(text, 'process_open_fds'),
    eventLoopP99Ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    heapUsedMB: metric(text, 'nodejs_heap_size_used_bytes') / 2 ** 20,
    externalMB: metric(text, 'nodejs_external_memory_bytes') / 2 ** 20,
  };
}

/** The malloc the server says it runs on (tagmap_malloc_info on /metrics); `unknown` from a server without it. */
export async function serverMalloc(base: string): Promise<string> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return /^tagmap_malloc_info\{allocator="([^"]+)"\} 1$/m.exec(text)?.[1] ?? 'unknown';
}

/** The descriptor count once idle keep-alive sockets had time to close (at most `waitMs`). */
export async function settledFds(
  base: string,
  pid: number | undefined,
  target: number,
  waitMs: number,
): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const fds = pid ? procFds(pid) : (await sample(base, pid, 0)).fds;
    if (fds <= target || Date.now() > deadline) return fds;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
