// Token buckets per caller (limiter's TokenBucket): per key with keys on, per client address without. A bucket
// idle long enough to be full again is dropped, and at most MAX_BUCKETS are kept (the least recently used go
// first), so memory stays bounded whatever the number of callers. Limits hold per replica (docs/http-api.md).
import type { RequestHandler } from 'express';
import { TokenBucket } from 'limiter';
import { LRUCache } from 'lru-cache';
import { callerKey } from './auth.ts';
import type { ServerConfig } from './config.ts';
import { HttpError } from './errors.ts';

const MAX_BUCKETS = 10_000;

type Limits = ServerConfig['rateLimit'];

/** Whether any caller has a rate: the setting, or a key of its own. */
export const anyRateLimit = (config: Pick<ServerConfig, 'auth' | 'rateLimit'>) =>
  config.rateLimit.perSec > 0 || (config.auth.keys ?? []).some((key) => (key.ratePerSec ?? 0) > 0);

/** A burst of 0 is the rate rounded up, at least 1. */
const bucketSize = ({ perSec, burst }: Limits) => (burst > 0 ? burst : Math.max(1, Math.ceil(perSec)));

export function rateLimit(defaults: Limits, openRoutes: string[]): RequestHandler {
  const buckets = new LRUCache<string, TokenBucket>({ max: MAX_BUCKETS, updateAgeOnGet: true });
  const open = new Set(openRoutes);
  return (req, res, next) => {
    if (open.has(req.path)) return next();
    const key = callerKey(res);
    const limits = { perSec: key?.ratePerSec ?? defaults.perSec, burst: key?.burst ?? defaults.burst };
    if (limits.perSec === 0) return next();
    const id = key ? `key:${key.name}` : `address:${req.socket.remoteAddress}`;
    const size = bucketSize(limits);
    let bucket = buckets.get(id);
    if (!bucket) {
      bucket = new TokenBucket({ bucketSize: size, tokensPerInterval: limits.perSec, interval: 'second' });
      bucket.content = size; // limiter's buckets start empty; a new caller may send its burst at once
      buckets.set(id, bucket, { ttl: Math.ceil((size / limits.perSec) * 1000) });
    }
    if (bucket.tryRemoveTokens(1)) return next();
    const seconds = Math.max(1, Math.ceil(bucket.getWaitTime(1) / 1000));
    const detail = `over ${limits.perSec} requests per second (burst ${size}); retry in ${seconds} s`;
    next(new HttpError(429, 'rate_limited', detail, { 'Retry-After': String(seconds) }));
  };
}
