// --server requests with retries: on 503 (overloaded, shutting down, not ready) and on connection errors,
// wait and try again, doubling the wait each time (with jitter), or as long as Retry-After asks.
import { Abandoned, BatchError } from './errors.ts';

export interface RetryPolicy {
  retries: number;
  baseMs: number;
  maxMs: number;
  /** per attempt, connect to last byte */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 6, baseMs: 250, maxMs: 30_000, timeoutMs: 120_000 };

/** Retry-After in ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const backoffMs = (attempt: number, policy: RetryPolicy) =>
  Math.min(policy.maxMs, policy.baseMs * 2 ** attempt) * (0.5 + Math.random() / 2);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Abandoned());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Abandoned());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const describe = (error: unknown) => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
};

/**
 * fetch() with retries. `stop` abandons waiting between attempts (the request in flight is let finish:
 * its answer is written as a row).
 */
export async function fetchWithRetry(
  url: URL,
  init: () => RequestInit,
  policy: RetryPolicy,
  stop: AbortSignal,
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, { ...init(), signal: AbortSignal.timeout(policy.timeoutMs) });
    } catch (error) {
      if (attempt >= policy.retries) {
        throw new BatchError(
          'server_unreachable',
          `${url.origin} did not answer after ${attempt + 1} tries: ${describe(error)}`,
        );
      }
      await sleep(backoffMs(attempt, policy), stop);
      continue;
    }
    if (response.status !== 503 || attempt >= policy.retries) return response;
    const wait = retryAfterMs(response.headers.get('retry-after')) ?? backoffMs(attempt, policy);
    await response.body?.cancel();
    await sleep(Math.min(wait, policy.maxMs), stop);
  }
}
