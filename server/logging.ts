// Request logging (pino-http) and request ids: a caller's X-Request-Id is kept when it is sane, otherwise a
// fresh UUID is made; either way it is echoed in the X-Request-Id response header and in problem bodies. A
// request made with an API key logs the key's name as `key` (never the key).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { callerKey } from './auth.ts';

const SANE_ID = /^[\w.:@-]{1,128}$/;

export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId(req: IncomingMessage, res: ServerResponse) {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // 503s (overload, draining) are expected under load: warnings, not errors
    customLogLevel: (_req, res, error) =>
      res.statusCode >= 500 && res.statusCode !== 503 ? 'error' : error || res.statusCode >= 400 ? 'warn' : 'info',
    // read when the request ends, after authenticate() has run; {} at its start adds nothing
    customProps: (_req, res) => {
      const name = callerKey(res)?.name;
      return name === undefined ? {} : { key: name };
    },
    // probes and scrapes are frequent and uninteresting
    autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  });
}
