// POST /v1/tags, /v1/parse and /v1/classmap: one image in, model/'s result out. Every response names the
// model (name, version, sha256), the plan and the timings: in the JSON body and in X-Tagmap-* headers
// (the only place for them on PNG and binary answers).
import { Router, type RequestHandler, type Response } from 'express';
import {
  TagmapError,
  classMapHeaders,
  resultHeaders,
  type ClassMapResult,
  type ModelRef,
  type Tagmap,
  type Timings,
  type UrlFetcher,
} from '../../model/index.ts';
import { readImageRequest, receiveImageBody } from '../image-input.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { Lifecycle } from './health.ts';

export interface InferenceDeps {
  tagmap: Tagmap;
  fetchUrl: UrlFetcher;
  maxUploadBytes: number;
  metrics: ServerMetrics;
  lifecycle: Lifecycle;
}

/** The raw class map as bytes: float32, little-endian, row-major over [classes, rows, cols]. */
const float32Bytes = (data: Float32Array) => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

function sendClassMap(res: Response, result: ClassMapResult, binary: boolean): void {
  const { data, ...meta } = result;
  if (binary) {
    res.set(classMapHeaders(result));
    res.type('application/octet-stream').send(float32Bytes(data));
    return;
  }
  res.json({ ...meta, dtype: 'float32', byteOrder: 'little', data: float32Bytes(data).toString('base64') });
}

export function inferenceRoutes(deps: InferenceDeps): Router {
  const { tagmap, fetchUrl, maxUploadBytes, metrics, lifecycle } = deps;
  const router = Router();
  const acceptingWork: RequestHandler = (_req, _res, next) => {
    if (lifecycle.draining)
      return next(new TagmapError('shutting_down', 'the server is shutting down; retry on another replica'));
    if (!tagmap.isReady()) return next(new TagmapError('not_ready', 'the models are still loading; retry shortly'));
    next();
  };
  const body = receiveImageBody(maxUploadBytes);
  const observed = <R extends { model: ModelRef; timings: Timings }>(result: R): R => {
    metrics.observeInference(result.model.name, result.timings.inferMs);
    return result;
  };

  router.post('/v1/tags', acceptingWork, body, async (req, res) => {
    const { image, options } = await readImageRequest(req, 'tags', fetchUrl, maxUploadBytes);
    const result = observed(await tagmap.tag(image, options));
    res.set(resultHeaders(result));
    res.json(result);
  });

  router.post('/v1/parse', acceptingWork, body, async (req, res) => {
    const { image, options } = await readImageRequest(req, 'parse', fetchUrl, maxUploadBytes);
    const format = options.format ?? 'json';
    const { labels: _pixels, png, ...result } = observed(await tagmap.parse(image, { ...options, format }));
    res.set(resultHeaders(result));
    if (format === 'json') res.json(result);
    else res.type('image/png').send(Buffer.from(png!.buffer, png!.byteOffset, png!.byteLength));
  });

  router.post('/v1/classmap', acceptingWork, body, async (req, res) => {
    const { image, options } = await readImageRequest(req, 'classmap', fetchUrl, maxUploadBytes);
    const result = observed(await tagmap.classMap(image, options));
    res.set(resultHeaders(result));
    sendClassMap(
      res,
      result,
      req.accepts(['application/json', 'application/octet-stream']) === 'application/octet-stream',
    );
  });

  return router;
}
