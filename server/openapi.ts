// /openapi.json: an OpenAPI 3.1 document generated from the very zod schemas that validate requests. It is
// meant for generating clients: every operation has an operationId (the SDK method name), and `npm run
// lint:openapi` holds it to Redocly's recommended rules (config and the reasons for exceptions: redocly.yaml).
import { readFileSync } from 'node:fs';
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { RESULT_HEADERS, cardSchema } from '../model/index.ts';
import { IMAGE_FIELD } from './image-input.ts';
import { modelNameParams, requestSchemas, responseSchemas, type Endpoint } from './schemas.ts';

/** The document's version and licence are the package's. */
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
  license: string;
};

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: responseSchemas.problem } },
});

const imageErrors = {
  400: problem(
    'bad options (zod issues under "issues"), unknown label, no image, malformed body, ' +
      'or a refused URL (code url_not_allowed)',
  ),
  404: problem('unknown model (code unknown_model)'),
  413: problem('upload, JSON body or fetched image over the byte limit (code too_large)'),
  415: problem(
    'not an image format tagmap decodes (code unsupported_media), ' + 'or a content type other than multipart or JSON',
  ),
  422: problem('a truncated or corrupt image, or over the pixel limit (codes undecodable_image, too_many_pixels)'),
  502: problem('the image URL could not be fetched (code url_fetch_failed)'),
  503: problem('queue full (code overloaded), not ready, or shutting down; with Retry-After'),
  504: problem('the image URL stalled (code url_timeout)'),
};

function imageBody(endpoint: Endpoint) {
  const file = z
    .string()
    .openapi({ format: 'binary', description: 'the image file (JPEG, PNG, WebP, GIF, TIFF, AVIF)' });
  return {
    required: true,
    content: {
      'multipart/form-data': { schema: z.object({ [IMAGE_FIELD]: file }) },
      'application/json': { schema: requestSchemas[endpoint].json },
    },
  };
}

const resultHeaders = z.object({
  [RESULT_HEADERS.model]: z.string().openapi({ description: 'model name' }),
  [RESULT_HEADERS.version]: z.string().openapi({ description: 'model version' }),
  [RESULT_HEADERS.sha256]: z.string().openapi({ description: 'sha256 of model.onnx' }),
  [RESULT_HEADERS.plan]: z.string().openapi({ description: 'the plan, JSON' }),
  [RESULT_HEADERS.timings]: z.string().openapi({ description: 'the timings in ms, JSON' }),
});

/** What GET /v1/models/{name} sends: the card, plus the sha256 of the model file. */
const modelCard = cardSchema.safeExtend({ sha256: z.string().openapi({ description: 'sha256 of model.onnx, hex' }) });

const json = (schema: z.ZodType) => ({ 'application/json': { schema } });
const binary = z.string().openapi({ format: 'binary' });

/** What the document says of access: keys on or off, the probes that need none, whether a rate applies. */
export interface ApiAccess {
  keys: boolean;
  /** paths, e.g. /healthz */
  openRoutes: string[];
  rateLimited: boolean;
}

const OPEN_ACCESS: ApiAccess = { keys: false, openRoutes: [], rateLimited: false };

/** Either header carries the key (server/auth.ts). */
const SECURITY_SCHEMES = {
  bearerKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'an API key from `npm run key`: Authorization: Bearer KEY',
  },
  headerKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'the same key as X-API-Key: KEY' },
} as const;

const unauthorized = {
  ...problem('no API key, or one not in the keys file (code unauthorized), with WWW-Authenticate'),
  headers: z.object({ 'WWW-Authenticate': z.string().openapi({ example: 'Bearer realm="tagmap"' }) }),
};
const rateLimited = {
  ...problem("over the caller's rate (code rate_limited)"),
  headers: z.object({ 'Retry-After': z.string().openapi({ description: 'whole seconds to wait', example: '1' }) }),
};

function buildDocument(access: ApiAccess) {
  const registry = new OpenAPIRegistry();
  for (const [name, scheme] of access.keys ? Object.entries(SECURITY_SCHEMES) : [])
    registry.registerComponent('securitySchemes', name, scheme);
  // open routes are marked `security: []`; the others answer 401 and 429 when keys and rates are on
  const registerPath = (route: RouteConfig) => {
    const guarded = !access.openRoutes.includes(route.path);
    registry.registerPath({
      ...route,
      ...(access.keys && !guarded && { security: [] }),
      responses: {
        ...route.responses,
        ...(access.keys && guarded && { 401: unauthorized }),
        ...(access.rateLimited && guarded && { 429: rateLimited }),
      },
    });
  };
  registerPath({
    method: 'get',
    path: '/v1/models',
    operationId: 'listModels',
    summary: 'the loaded models',
    responses: {
      200: {
        description: 'model summaries',
        content: json(responseSchemas.models),
      },
    },
  });
  registerPath({
    method: 'get',
    path: '/v1/models/{name}',
    operationId: 'getModel',
    summary: "one model's full card",
    request: { params: modelNameParams },
    responses: {
      200: { description: 'the card plus the sha256 of model.onnx', content: json(modelCard) },
      400: problem(
        'a name longer than 64 characters (code bad_options), ' +
          'or a path segment that is not valid percent-encoding (code bad_request)',
      ),
      404: imageErrors[404],
    },
  });
  registerPath({
    method: 'post',
    path: '/v1/tags',
    operationId: 'tagImage',
    summary: 'tags for one image: label, score, coverage, peak, box, parents',
    request: { query: requestSchemas.tags.query, body: imageBody('tags') },
    responses: {
      200: { description: 'tags', headers: resultHeaders, content: json(responseSchemas.tags) },
      ...imageErrors,
    },
  });
  registerPath({
    method: 'post',
    path: '/v1/parse',
    operationId: 'parseImage',
    summary: 'scene-parsing label map: JSON (legend, RLE masks), grey label PNG or colour overlay PNG',
    request: { query: requestSchemas.parse.query, body: imageBody('parse') },
    responses: {
      200: {
        description:
          'format=json: legend and masks; ' +
          'format=png: 8-bit grey PNG (16-bit past 256 labels), value = label id; format=overlay: RGB PNG',
        headers: resultHeaders,
        content: { ...json(responseSchemas.parse), 'image/png': { schema: binary } },
      },
      ...imageErrors,
    },
  });
  registerPath({
    method: 'post',
    path: '/v1/classmap',
    operationId: 'getClassMap',
    summary: 'the raw dense class map',
    description:
      'JSON with base64 float32 data by default; with `Accept: application/octet-stream` the bare float32 ' +
      'bytes (little-endian, row-major over [classes, rows, cols]) with shape, kind, geometry and grid in ' +
      'X-Tagmap-* headers.',
    request: { query: requestSchemas.classmap.query, body: imageBody('classmap') },
    responses: {
      200: {
        description: 'the class map',
        headers: resultHeaders,
        content: { ...json(responseSchemas.classmap), 'application/octet-stream': { schema: binary } },
      },
      ...imageErrors,
    },
  });
  // The three probes and GET /v1/models take no input (no parameters, no body; the query string is ignored), so
  // they answer no 4xx of their own: redocly.yaml exempts them from operation-4xx-response.
  registerPath({
    method: 'get',
    path: '/healthz',
    operationId: 'getHealth',
    summary: 'liveness',
    responses: { 200: { description: 'alive', content: json(responseSchemas.health) } },
  });
  registerPath({
    method: 'get',
    path: '/readyz',
    operationId: 'getReadiness',
    summary: 'readiness: models loaded and warmed, not draining',
    responses: {
      200: { description: 'ready', content: json(responseSchemas.ready) },
      503: { description: 'starting or draining (Retry-After)', content: json(responseSchemas.ready) },
    },
  });
  registerPath({
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'text exposition format', content: { 'text/plain': { schema: z.string() } } } },
  });

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'tagmap',
      version: pkg.version,
      license: { name: pkg.license, identifier: pkg.license },
      description:
        'Tags, scene-parsing label maps and dense class maps from unrolled convnets. ' +
        'Errors are RFC 9457 problem+json; an unknown path is a 404 with code not_found.',
    },
    servers: [{ url: '/', description: 'the server that serves this document (relative: it holds behind any host)' }],
    // keys off: an empty requirement list says so (and satisfies security-defined); on: either header will do
    security: access.keys ? Object.keys(SECURITY_SCHEMES).map((name) => ({ [name]: [] })) : [],
  });
}

const documents = new Map<string, ReturnType<typeof buildDocument>>();

/** Built once per kind of access, on first request. */
export function openApiDocument(access: ApiAccess = OPEN_ACCESS) {
  const id = JSON.stringify(access);
  let document = documents.get(id);
  if (!document) documents.set(id, (document = buildDocument(access)));
  return document;
}
