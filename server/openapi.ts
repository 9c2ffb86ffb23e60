// /openapi.json: an OpenAPI 3.1 document generated from the very zod schemas that validate requests.
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { cardSchema } from '../model/contract/card.ts';
import { IMAGE_FIELD } from './image-input.ts';
import { modelNameParams, requestSchemas, responseSchemas, type Endpoint } from './schemas.ts';

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: responseSchemas.problem } } });

const imageErrors = {
  400: problem('bad options (zod issues under "issues"), unknown label, no image, malformed body, or a refused URL (code url_not_allowed)'),
  404: problem('unknown model (code unknown_model)'),
  413: problem('upload, JSON body or fetched image over the byte limit (code too_large)'),
  415: problem('not an image format tagmap decodes (code unsupported_media), or a content type other than multipart or JSON'),
  422: problem('a truncated or corrupt image, or over the pixel limit (codes undecodable_image, too_many_pixels)'),
  502: problem('the image URL could not be fetched (code url_fetch_failed)'),
  503: problem('queue full (code overloaded), not ready, or shutting down; with Retry-After'),
  504: problem('the image URL stalled (code url_timeout)'),
};

function imageBody(endpoint: Endpoint) {
  return {
    required: true,
    content: {
      'multipart/form-data': {
        schema: z.object({ [IMAGE_FIELD]: z.string().openapi({ format: 'binary', description: 'the image file (JPEG, PNG, WebP, GIF, TIFF, AVIF)' }) }),
      },
      'application/json': { schema: requestSchemas[endpoint].json },
    },
  };
}

const resultHeaders = z.object({
  'X-Tagmap-Model': z.string().openapi({ description: 'model name' }),
  'X-Tagmap-Model-Version': z.string(),
  'X-Tagmap-Model-Sha256': z.string(),
  'X-Tagmap-Plan': z.string().openapi({ description: 'the plan, JSON' }),
  'X-Tagmap-Timings': z.string().openapi({ description: 'the timings in ms, JSON' }),
});

function buildDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerPath({
    method: 'get', path: '/v1/models', summary: 'the loaded models',
    responses: { 200: { description: 'model summaries', content: { 'application/json': { schema: z.object({ models: z.array(responseSchemas.modelSummary), provider: z.string() }) } } } },
  });
  registry.registerPath({
    method: 'get', path: '/v1/models/{name}', summary: "one model's full card", request: { params: modelNameParams },
    responses: { 200: { description: 'the card plus the sha256 of model.onnx', content: { 'application/json': { schema: cardSchema } } }, 404: imageErrors[404] },
  });
  registry.registerPath({
    method: 'post', path: '/v1/tags', summary: 'tags for one image: label, score, coverage, peak, box, parents',
    request: { query: requestSchemas.tags.query, body: imageBody('tags') },
    responses: { 200: { description: 'tags', headers: resultHeaders, content: { 'application/json': { schema: responseSchemas.tags } } }, ...imageErrors },
  });
  registry.registerPath({
    method: 'post', path: '/v1/parse', summary: 'scene-parsing label map: JSON (legend, RLE masks), grey label PNG or colour overlay PNG',
    request: { query: requestSchemas.parse.query, body: imageBody('parse') },
    responses: {
      200: {
        description: 'format=json: legend and masks; format=png: 8-bit grey PNG (16-bit past 256 labels), value = label id; format=overlay: RGB PNG',
        headers: resultHeaders,
        content: { 'application/json': { schema: responseSchemas.parse }, 'image/png': { schema: z.string().openapi({ format: 'binary' }) } },
      },
      ...imageErrors,
    },
  });
  registry.registerPath({
    method: 'post', path: '/v1/classmap', summary: 'the raw dense class map',
    description: 'JSON with base64 float32 data by default; with `Accept: application/octet-stream` the bare float32 bytes ' +
      '(little-endian, row-major over [classes, rows, cols]) with shape, kind, geometry and grid in X-Tagmap-* headers.',
    request: { query: requestSchemas.classmap.query, body: imageBody('classmap') },
    responses: {
      200: {
        description: 'the class map',
        headers: resultHeaders,
        content: { 'application/json': { schema: responseSchemas.classmap }, 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
      },
      ...imageErrors,
    },
  });
  registry.registerPath({
    method: 'get', path: '/healthz', summary: 'liveness', responses: { 200: { description: 'alive', content: { 'application/json': { schema: responseSchemas.health } } } },
  });
  registry.registerPath({
    method: 'get', path: '/readyz', summary: 'readiness: models loaded and warmed, not draining',
    responses: {
      200: { description: 'ready', content: { 'application/json': { schema: responseSchemas.ready } } },
      503: { description: 'starting or draining (Retry-After)', content: { 'application/json': { schema: responseSchemas.ready } } },
    },
  });
  registry.registerPath({
    method: 'get', path: '/metrics', summary: 'Prometheus metrics',
    responses: { 200: { description: 'text exposition format', content: { 'text/plain': { schema: z.string() } } } },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'tagmap', version: '1',
      description: 'Tags, scene-parsing label maps and dense class maps from unrolled convnets. Errors are RFC 9457 problem+json.',
    },
  });
}

let document: ReturnType<typeof buildDocument> | undefined;

/** Built once, on first request. */
export const openApiDocument = () => (document ??= buildDocument());
