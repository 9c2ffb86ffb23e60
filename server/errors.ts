// The one place where errors become HTTP: every failure leaves as RFC 9457 application/problem+json with a
// code and the request id, never a stack trace.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import multer from 'multer';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { isTagmapError, type TagmapErrorCode } from '../model/index.ts';

/** Codes of the HTTP layer itself, next to model/'s. */
export type ServerErrorCode =
  'bad_request' | 'not_found' | 'unsupported_content_type' | 'unauthorized' | 'rate_limited';
export type ProblemCode = TagmapErrorCode | ServerErrorCode;

/** A request mistake found by the HTTP layer (no image, wrong content type, unknown path, no key, over the rate). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ServerErrorCode,
    message: string,
    /** sent with the problem, e.g. WWW-Authenticate or a Retry-After that depends on the caller */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * Every problem code: its HTTP status, its title, when it happens (the generated table in docs/http-api.md
 * prints this), and for 503s the seconds a client should wait before retrying.
 */
export const PROBLEMS: Record<ProblemCode, { status: number; title: string; when: string; retryAfter?: number }> = {
  bad_options: {
    status: 400,
    title: 'Bad request options',
    when:
      'an option fails validation (zod issues under `issues: [{path, message, code}]`), an unknown option, ' +
      'a model not meant for the task, a JSON body without exactly one of `url`/`imageBase64`',
  },
  unknown_label: { status: 400, title: 'Unknown label', when: '`include`/`exclude` names a label the model lacks' },
  url_not_allowed: {
    status: 400,
    title: 'URL not allowed',
    when:
      'a URL that is not http(s), or leads (directly or by redirect) to a private, loopback, link-local ' +
      'or metadata address',
  },
  bad_request: {
    status: 400,
    title: 'Bad request',
    when: 'no `image` field, a file under another field name, malformed multipart or JSON',
  },
  unauthorized: {
    status: 401,
    title: 'Unauthorized',
    when:
      'keys are on (`TAGMAP_API_KEYS_FILE`) and the request has no key, or one that is not in the file ' +
      '(with `WWW-Authenticate: Bearer realm="tagmap"`)',
  },
  unknown_model: { status: 404, title: 'Unknown model', when: 'no model of that name is loaded' },
  not_found: { status: 404, title: 'Not found', when: 'no such route' },
  too_large: {
    status: 413,
    title: 'Too large',
    when:
      'upload over `TAGMAP_MAX_UPLOAD_BYTES`, JSON body over its limit, fetched image over ' +
      '`TAGMAP_URL_MAX_BYTES`, too many multipart parts',
  },
  unsupported_media: {
    status: 415,
    title: 'Unsupported image format',
    when: 'not an image format we decode (text, SVG, PDF, HEIC ...)',
  },
  unsupported_content_type: {
    status: 415,
    title: 'Unsupported content type',
    when: 'a body that is neither multipart/form-data nor JSON',
  },
  rate_limited: {
    status: 429,
    title: 'Too many requests',
    when:
      "over the caller's rate (`TAGMAP_RATE_PER_SEC`, `TAGMAP_RATE_BURST` or the key's own), with `Retry-After` " +
      'in whole seconds until a request is allowed again',
  },
  undecodable_image: {
    status: 422,
    title: 'Undecodable image',
    when: 'looks like an image but is truncated or corrupt',
  },
  too_many_pixels: {
    status: 422,
    title: 'Too many pixels',
    when: 'over `TAGMAP_MAX_PIXELS` (read from the header, before decoding)',
  },
  url_fetch_failed: {
    status: 502,
    title: 'Image URL fetch failed',
    when:
      "the URL's server answered non-2xx, could not be reached, sent a compressed body, " +
      'or redirected more than 3 times',
  },
  overloaded: { status: 503, title: 'Overloaded', when: 'every worker busy and the queue full', retryAfter: 1 },
  shutting_down: { status: 503, title: 'Shutting down', when: 'draining after SIGTERM or SIGINT', retryAfter: 5 },
  not_ready: { status: 503, title: 'Not ready', when: 'models still loading', retryAfter: 5 },
  url_timeout: {
    status: 504,
    title: 'Image URL timed out',
    when: 'the URL did not deliver within `TAGMAP_URL_TIMEOUT_MS`',
  },
  internal: { status: 500, title: 'Internal error', when: 'a bug: logged with the request id' },
};

interface Problem {
  code: ProblemCode;
  detail: string;
  status?: number;
  issues?: Array<{ path: PropertyKey[]; message: string; code: string }>;
}

const MULTER_TOO_LARGE = new Set([
  'LIMIT_FILE_SIZE',
  'LIMIT_PART_COUNT',
  'LIMIT_FIELD_COUNT',
  'LIMIT_FIELD_VALUE',
  'LIMIT_FIELD_KEY',
]);

/** body-parser's and the router's errors (http-errors) carry a 4xx `status`; body-parser's also a `type`. */
const isClientHttpError = (error: unknown): error is Error & { type?: string; status: number } => {
  const status = (error as { status?: unknown } | undefined)?.status;
  return error instanceof Error && typeof status === 'number' && status >= 400 && status < 500;
};

function toProblem(error: unknown): Problem {
  if (isTagmapError(error)) return { code: error.code, detail: error.message };
  if (error instanceof HttpError) return { code: error.code, detail: error.message, status: error.status };
  if (error instanceof ZodError) {
    const issues = error.issues.map((i) => ({ path: i.path, message: i.message, code: i.code }));
    const detail = issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
    return { code: 'bad_options', detail, issues };
  }
  if (error instanceof multer.MulterError) {
    if (error.code === 'LIMIT_UNEXPECTED_FILE') {
      return {
        code: 'bad_request',
        detail: `unexpected file field "${error.field}": send the image in the multipart field "image", one file only`,
      };
    }
    return MULTER_TOO_LARGE.has(error.code)
      ? { code: 'too_large', detail: `upload refused: ${error.message}` }
      : { code: 'bad_request', detail: error.message };
  }
  if (isClientHttpError(error)) {
    if (error.type === 'entity.too.large')
      return { code: 'too_large', detail: 'the JSON body is larger than the limit' };
    if (error.type === 'entity.parse.failed') return { code: 'bad_request', detail: 'the body is not valid JSON' };
    if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported')
      return { code: 'unsupported_content_type', detail: error.message };
    return { code: 'bad_request', detail: error.message, status: 400 };
  }
  return { code: 'internal', detail: 'an internal error occurred; the request id identifies it in the logs' };
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const problem = toProblem(error);
    const { status: codeStatus, title, retryAfter } = PROBLEMS[problem.code];
    const status = problem.status ?? codeStatus;
    // client mistakes are logged by pino-http as one warn line; only our own failures carry the error and stack
    if (problem.code === 'internal') logger.error({ err: error, requestId: req.id }, 'request failed');
    if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
    if (error instanceof HttpError) res.set(error.headers);
    if (problem.code === 'shutting_down') res.set('Connection', 'close');
    res
      .status(status)
      .type('application/problem+json')
      .send(
        JSON.stringify({
          type: `urn:tagmap:problem:${problem.code}`,
          title,
          status,
          detail: problem.detail,
          code: problem.code,
          requestId: String(req.id ?? ''),
          ...(problem.issues && { issues: problem.issues }),
        }),
      );
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}; see /openapi.json`));
};
