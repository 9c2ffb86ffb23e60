// The loaded models: summaries, and one full card (with the model file's sha256).
import { Router } from 'express';
import type { Tagmap } from '../../model/index.ts';
import { modelNameParams } from '../schemas.ts';

export function modelRoutes(tagmap: Tagmap): Router {
  const router = Router();
  router.get('/v1/models', (_req, res) => {
    res.json({ models: tagmap.models(), tagModels: tagmap.tagModels(), provider: tagmap.provider() });
  });
  router.get('/v1/models/:name', (req, res) => {
    const { name } = modelNameParams.parse(req.params);
    res.json(tagmap.card(name));
  });
  return router;
}
