// The one place where errors become HTTP: every failure leaves as RFC 9457 application/problem+json with a
// code and the request id, never a stack trace.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import multer from 'multer';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { isTagmapError, type TagmapErrorCode } from '../model/index.ts';

/** Codes of the HTTP layer itself, next to model/'s. */
export type ServerErrorCode = 'bad_request' | 'not_found' | 'unsupported_content_type';
export type ProblemCode = TagmapErrorCode | ServerErrorCode;

/** A request mistake found by the HTTP layer (no image, wrong content type, unknown path). */
export class HttpError extends Error {
  constructor(readonly status: number, readonly code: ServerErrorCode, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

const STATUS: Record<ProblemCode, number> = {
  bad_options: 400, unknown_label: 400, url_not_allowed: 400, bad_request: 400,
  unknown_model: 404, not_found: 404,
  too_large: 413,
  unsupported_media: 415, unsupported_content_type: 415,
  undecodable_image: 422, too_many_pixels: 422,
  url_fetch_failed: 502,
  overloaded: 503, shutting_down: 503, not_ready: 503,
  url_timeout: 504,
  internal: 500,
};

const TITLE: Record<ProblemCode, string> = {
  bad_options: 'Bad request options', unknown_label: 'Unknown label', url_not_allowed: 'URL not allowed', bad_request: 'Bad request',
  unknown_model: 'Unknown model', not_found: 'Not found', too_large: 'Too large', unsupported_media: 'Unsupported image format',
  unsupported_content_type: 'Unsupported content type', undecodable_image: 'Undecodable image', too_many_pixels: 'Too many pixels',
  url_fetch_failed: 'Image URL fetch failed', overloaded: 'Overloaded', shutting_down: 'Shutting down', not_ready: 'Not ready',
  url_timeout: 'Image URL timed out', internal: 'Internal error',
};

/** Seconds a client should wait before retrying a 503. */
const RETRY_AFTER: Partial<Record<ProblemCode, number>> = { overloaded: 1, shutting_down: 5, not_ready: 5 };

interface Problem {
  code: ProblemCode;
  detail: string;
  status?: number;
  issues?: Array<{ path: PropertyKey[]; message: string; code: string }>;
}

const MULTER_TOO_LARGE = new Set(['LIMIT_FILE_SIZE', 'LIMIT_PART_COUNT', 'LIMIT_FIELD_COUNT', 'LIMIT_FIELD_VALUE', 'LIMIT_FIELD_KEY']);

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
      return { code: 'bad_request', detail: `unexpected file field "${error.field}": send the image in the multipart field "image", one file only` };
    }
    return MULTER_TOO_LARGE.has(error.code) ? { code: 'too_large', detail: `upload refused: ${error.message}` } : { code: 'bad_request', detail: error.message };
  }
  if (isClientHttpError(error)) {
    if (error.type === 'entity.too.large') return { code: 'too_large', detail: 'the JSON body is larger than the limit' };
    if (error.type === 'entity.parse.failed') return { code: 'bad_request', detail: 'the body is not valid JSON' };
    if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported') return { code: 'unsupported_content_type', detail: error.message };
    return { code: 'bad_request', detail: error.message, status: 400 };
  }
  return { code: 'internal', detail: 'an internal error occurred; the request id identifies it in the logs' };
}

export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const problem = toProblem(error);
    const status = problem.status ?? STATUS[problem.code];
    // client mistakes are logged by pino-http as one warn line; only our own failures carry the error and stack
    if (problem.code === 'internal') logger.error({ err: error, requestId: req.id }, 'request failed');
    const retryAfter = RETRY_AFTER[problem.code];
    if (retryAfter !== undefined) res.set('Retry-After', String(retryAfter));
    if (problem.code === 'shutting_down') res.set('Connection', 'close');
    res
      .status(status)
      .type('application/problem+json')
      .send(JSON.stringify({
        type: `urn:tagmap:problem:${problem.code}`,
        title: TITLE[problem.code],
        status,
        detail: problem.detail,
        code: problem.code,
        requestId: String(req.id ?? ''),
        ...(problem.issues && { issues: problem.issues }),
      }));
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}; see /openapi.json`));
};
