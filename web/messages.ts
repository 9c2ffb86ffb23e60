// Failures in plain words, from the problem+json `code` (README: HTTP API, errors). The server's own
// detail is shown under it for those who want it.
import { ProblemError } from './api.ts';

const PLAIN: Record<string, string> = {
  url_not_allowed:
    'That URL was refused: private or internal addresses are not allowed, only public http(s) ones. ' +
    'Use another URL, or choose a file instead.',
  unsupported_media: 'That file is not an image we can read. Try a JPEG, PNG, WebP, GIF, TIFF or AVIF image.',
  undecodable_image: 'That file is not an image we can read: it looks damaged or cut short.',
  too_many_pixels: 'That image has more pixels than this server takes. Try a smaller one.',
  too_large: 'That image is larger than this server accepts. Try a smaller file.',
  url_fetch_failed:
    'No image could be fetched from that URL: its server could not be reached or did not send an image.',
  url_timeout: 'The URL took too long to answer. Try again, or choose a file instead.',
  overloaded: 'The server is busy right now. Try again in a moment.',
  not_ready: 'The server is still loading its models. Try again in a few seconds.',
  shutting_down: 'The server is restarting. Try again in a few seconds.',
  unknown_model: 'That model is not available any more. Reload the page to see the current list.',
  network: 'The tagmap server could not be reached. Check that it is running, then try again.',
  unauthorized: 'This server needs an API key: enter yours above. It is kept for this tab only.',
  rate_limited: 'Too many requests with this key. Wait a moment, then try again.',
};

/** Refusals of the request itself, where the server's words are the explanation. */
const REFUSALS = new Set(['bad_options', 'bad_request']);

export interface Explanation {
  text: string;
  detail: string;
}

export function explain(error: unknown): Explanation {
  if (!(error instanceof ProblemError)) return { text: 'Something went wrong in this page.', detail: String(error) };
  const { code, detail = '', requestId } = error.problem;
  const plain = PLAIN[code];
  const reference = requestId ? ` (request ${requestId})` : '';
  if (REFUSALS.has(code)) return { text: `The server refused the request: ${detail}`, detail: `[${code}]${reference}` };
  return {
    text: plain ?? `The server could not do that: ${detail || code}.`,
    detail: `${detail} [${code}]${reference}`,
  };
}
