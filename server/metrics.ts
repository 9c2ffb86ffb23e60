// Prometheus metrics (prom-client) on a registry the caller owns: requests by route, status and key, latency,
// queue depth, inference time per model, which execution provider runs and which malloc.
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Tagmap } from '../model/index.ts';
import { mallocInUse } from './allocator.ts';
import { ANONYMOUS, callerKey } from './auth.ts';

export interface ServerMetrics {
  /** counts and times every request under its route pattern */
  middleware: RequestHandler;
  observeInference(model: string, inferMs: number): void;
}

export function createMetrics(registry: Registry, tagmap: Tagmap): ServerMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'tagmap_http_requests_total',
    help: 'HTTP requests by method, route, status and API key name (anonymous without one)',
    labelNames: ['method', 'route', 'status', 'key'],
    registers,
  });
  const latency = new Histogram({
    name: 'tagmap_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const inference = new Histogram({
    name: 'tagmap_inference_seconds',
    help: "time inside onnxruntime's session.run per request, by model",
    labelNames: ['model'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  new Gauge({
    name: 'tagmap_queue_depth',
    help: 'inference jobs waiting for a free worker',
    registers,
    collect() {
      this.set(tagmap.queueDepth());
    },
  });
  new Gauge({
    name: 'tagmap_provider_info',
    help: 'the onnxruntime execution provider in use (value 1)',
    labelNames: ['provider'],
    registers,
    collect() {
      this.reset();
      this.set({ provider: tagmap.provider() }, 1);
    },
  });

  new Gauge({
    name: 'tagmap_malloc_info',
    help: 'the malloc the process runs on (value 1): tcmalloc under scripts/start.sh when installed, else glibc',
    labelNames: ['allocator'],
    registers,
  }).set({ allocator: mallocInUse() }, 1);

  const middleware: RequestHandler = (req, res, next) => {
    const stop = latency.startTimer();
    res.on('finish', () => {
      // the matched pattern keeps the label set small; anything unmatched is one label
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      stop({ method: req.method, route });
      // key names come from the keys file, so this label's values stay few too
      const key = callerKey(res)?.name ?? ANONYMOUS;
      requests.inc({ method: req.method, route, status: String(res.statusCode), key });
    });
    next();
  };

  return {
    middleware,
    observeInference: (model, inferMs) => inference.observe({ model }, inferMs / 1000),
  };
}
