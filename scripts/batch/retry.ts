// --server requests with retries: on 503 (overloaded, shutting down, not ready) and on connection errors,
// wait and try again, doubling the wait each time (with jitter), or as long as Retry-After asks. A 429
// (rate_limited) is the server pacing this caller, not a failure: it is waited out as Retry-After asks
// without using up the retries, until it has waited rateLimitedMs in all.
import { Abandoned, BatchError } from './errors.ts';

export interface RetryPolicy {
  retries: number;
  baseMs: number;
  maxMs: number;
  /** per attempt, connect to last byte */
  timeoutMs: number;
  /** once one request has waited out 429s this long in all, the next 429 is handed back */
  rateLimitedMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 6,
  baseMs: 250,
  maxMs: 30_000,
  timeoutMs: 120_000,
  rateLimitedMs: 600_000,
};

/** Retry-After in ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const backoffMs = (attempt: number, policy: RetryPolicy) =>
  Math.min(policy.maxMs, policy.baseMs * 2 ** attempt) * (0.5 + Math.random() / 2);

/**
 * As long as Retry-After asks (at most maxMs), plus up to 10 % so that callers told the same second do not all
 * come back at once; else the backoff.
 */
function waitMs(response: Response, attempt: number, policy: RetryPolicy): number {
  const asked = retryAfterMs(response.headers.get('retry-after'));
  if (asked === undefined) return backoffMs(attempt, policy);
  return Math.min(asked, policy.maxMs) * (1 + Math.random() / 10);
}

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
  let failures = 0; // 503s and connection errors: each retry after one uses up one of policy.retries
  let rateLimitedMs = 0;
  for (;;) {
    let response: Response;
    try {
      response = await fetch(url, { ...init(), signal: AbortSignal.timeout(policy.timeoutMs) });
    } catch (error) {
      if (failures >= policy.retries) {
        throw new BatchError(
          'server_unreachable',
          `${url.origin} did not answer after ${failures + 1} tries: ${describe(error)}`,
        );
      }
      await sleep(backoffMs(failures++, policy), stop);
      continue;
    }
    let wait: number;
    if (response.status === 429 && rateLimitedMs < policy.rateLimitedMs) {
      wait = waitMs(response, 0, policy);
      rateLimitedMs += wait;
    } else if (response.status === 503 && failures < policy.retries) {
      wait = waitMs(response, failures++, policy);
    } else {
      return response;
    }
    await response.body?.cancel();
    await sleep(wait, stop);
  }
}
