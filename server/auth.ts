// API keys on requests. With keys on (TAGMAP_API_KEYS_FILE) every route mounted after this needs one, sent as
// `Authorization: Bearer KEY` or `X-API-Key: KEY`, except the open probes. The accepted key's entry (its name,
// never the key) stays on the response for the rate limit, the request log and the metrics.
import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { hashKey, type ApiKey } from './auth-keys.ts';
import type { ServerConfig } from './config.ts';
import { HttpError } from './errors.ts';

/** The metric label of requests that carry no key. */
export const ANONYMOUS = 'anonymous';
const REALM = 'Bearer realm="tagmap"';

/** The key that authenticate() accepted for this request, if any. */
export const callerKey = (res: ServerResponse): ApiKey | undefined => (res as Response).locals?.apiKey as ApiKey;

function presentedKey(req: Request): string | undefined {
  const bearer = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '')?.[1];
  return bearer ?? (req.get('x-api-key')?.trim() || undefined);
}

export function authenticate({ keys, openRoutes }: ServerConfig['auth']): RequestHandler {
  if (!keys) return (_req, _res, next) => next();
  const byHash = new Map(keys.map((key) => [key.sha256, key]));
  const open = new Set(openRoutes);
  return (req, res, next) => {
    if (open.has(req.path)) return next();
    const key = presentedKey(req);
    if (key === undefined) {
      const detail = 'this server needs an API key: send "Authorization: Bearer KEY" or "X-API-Key: KEY"';
      return next(new HttpError(401, 'unauthorized', detail, { 'WWW-Authenticate': REALM }));
    }
    // the lookup is by the key's sha256, so its timing tells nothing about stored keys; the compare is constant-time
    const digest = hashKey(key);
    const entry = byHash.get(digest);
    if (!entry || !timingSafeEqual(Buffer.from(digest, 'hex'), Buffer.from(entry.sha256, 'hex'))) {
      const challenge = `${REALM}, error="invalid_token"`;
      return next(new HttpError(401, 'unauthorized', 'that API key is not valid', { 'WWW-Authenticate': challenge }));
    }
    res.locals.apiKey = entry;
    next();
  };
}
