// The app factory: everything HTTP, wired from its dependencies. server/main.ts is the process around it.
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createUrlFetcher, type Tagmap, type UrlFetcher } from '../model/index.ts';
import { authenticate } from './auth.ts';
import type { ServerConfig } from './config.ts';
import { notFound, problemHandler } from './errors.ts';
import { requestLogger } from './logging.ts';
import { createMetrics } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { anyRateLimit, rateLimit } from './rate-limit.ts';
import { healthRoutes, type Lifecycle } from './routes/health.ts';
import { inferenceRoutes } from './routes/inference.ts';
import { modelRoutes } from './routes/models.ts';

export interface AppDeps {
  tagmap: Tagmap;
  config: Pick<ServerConfig, 'upload' | 'url' | 'auth' | 'rateLimit'>;
  logger: Logger;
  /** the registry /metrics serves; the app registers its metrics on it */
  registry: Registry;
  /** the web page (GET / and its assets), when there is one */
  web?: Router;
  /** set draining to stop taking work (main.ts does on SIGTERM) */
  lifecycle?: Lifecycle;
  /** defaults to a fetcher built from config.url */
  fetchUrl?: UrlFetcher;
}

export function createApp(deps: AppDeps): express.Express {
  const { tagmap, config, logger, registry } = deps;
  const lifecycle = deps.lifecycle ?? { draining: false };
  const metrics = createMetrics(registry, tagmap);
  const app = express();
  app.disable('x-powered-by');

  app.use(requestLogger(logger));
  app.use(metrics.middleware);
  // open to all: the document says how to authenticate, and the page loads before it asks for a key
  const access = {
    keys: config.auth.keys !== undefined,
    openRoutes: config.auth.openRoutes,
    rateLimited: anyRateLimit(config),
  };
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(access));
  });
  if (deps.web) app.use(deps.web);

  app.use(authenticate(config.auth));
  app.use(rateLimit(config.rateLimit, config.auth.openRoutes));
  app.use(healthRoutes(tagmap, lifecycle));
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.use(modelRoutes(tagmap));
  app.use(
    inferenceRoutes({
      tagmap,
      metrics,
      lifecycle,
      fetchUrl: deps.fetchUrl ?? createUrlFetcher(config.url),
      maxUploadBytes: config.upload.maxBytes,
    }),
  );

  app.use(notFound);
  app.use(problemHandler(logger));
  return app;
}
