// Liveness and readiness. Ready means every model is loaded and warmed and the process is not draining.
import { Router } from 'express';
import type { Tagmap } from '../../model/index.ts';

/** Shared with server/main.ts, which sets `draining` on SIGTERM. */
export interface Lifecycle {
  draining: boolean;
}

export function healthRoutes(tagmap: Tagmap, lifecycle: Lifecycle): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const status = lifecycle.draining ? 'draining' : tagmap.isReady() ? 'ready' : 'starting';
    if (status !== 'ready') res.status(503).set('Retry-After', '5');
    res.json({ status, provider: tagmap.provider(), models: tagmap.models().map((m) => m.name) });
  });
  return router;
}
