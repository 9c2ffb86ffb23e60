// Liveness and readiness. Ready means the preload set (TAGMAP_PRELOAD, default every model) is loaded and
// warmed and the process is not draining; `loaded` lists the models whose sessions are open now.
import { Router } from 'express';
import type { z } from 'zod';
import type { Tagmap } from '../../model/index.ts';
import type { responseSchemas } from '../schemas.ts';

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
    const models = tagmap.models();
    const body: z.infer<typeof responseSchemas.ready> = {
      status,
      provider: tagmap.provider(),
      models: models.map((m) => m.name),
      loaded: models.filter((m) => m.loaded).map((m) => m.name),
    };
    res.json(body);
  });
  return router;
}
