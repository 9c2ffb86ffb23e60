// Typed errors of model/. The server maps each code to an HTTP status in its one error handler; the batch
// script writes code and message into its output rows. Messages are for people: say what was wrong and
// what is allowed.

export type TagmapErrorCode =
  | 'bad_options' // 400: an option out of range or unknown
  | 'unknown_model' // 404
  | 'unknown_label' // 400: include/exclude names a label the model lacks
  | 'too_large' // 413: bytes over the upload limit
  | 'unsupported_media' // 415: not an image format we decode (SVG, PDF, text...)
  | 'undecodable_image' // 422: looks like an image but is truncated or corrupt
  | 'too_many_pixels' // 422: over TAGMAP_MAX_PIXELS
  | 'url_not_allowed' // 400: private, loopback, link-local or metadata address
  | 'url_fetch_failed' // 502
  | 'url_timeout' // 504
  | 'overloaded' // 503: queue full
  | 'shutting_down' // 503
  | 'not_ready' // 503
  | 'internal'; // 500

export class TagmapError extends Error {
  readonly code: TagmapErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: TagmapErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'TagmapError';
    this.code = code;
    this.details = details;
  }
}

export const isTagmapError = (error: unknown): error is TagmapError => error instanceof TagmapError;
