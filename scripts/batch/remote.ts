// --server back end: each input is sent to a running tagmap (POST /v1/tags or /v1/parse) and its answer
// becomes the same row the in-process back end writes. Files are uploaded (multipart, options in the query
// string); URLs are passed on as JSON for the server to fetch under its own address rules. Every request
// carries the API key, if one was given.
import path from 'node:path';
import type { ParseResultJson, Problem, TagResult } from '../../model/index.ts';
import { API_KEY_ENV, authorization, type ApiKey } from './api-key.ts';
import { BatchError } from './errors.ts';
import { isUrl } from './inputs.ts';
import { labelPngFromMasks, writeMask } from './masks.ts';
import { fetchWithRetry, type RetryPolicy } from './retry.ts';
import type { Outcome } from './rows.ts';
import { readImageFile } from './source.ts';
import type { Job, Tagger } from './tagger.ts';

async function failure(response: Response, apiKey: ApiKey | undefined): Promise<BatchError> {
  const text = await response.text();
  let problem: Partial<Problem> = {};
  try {
    problem = JSON.parse(text) as Partial<Problem>;
  } catch {
    // not problem+json: a proxy or something else answered
  }
  const detail = problem.detail ?? problem.title ?? `HTTP ${response.status}: ${text.slice(0, 200)}`;
  // whoever answered 401 (tagmap or a proxy in front of it), no other input would fare better
  if (response.status === 401) {
    const message = apiKey
      ? `the server refused the API key from ${apiKey.from}: ${detail}`
      : `the server needs an API key: set ${API_KEY_ENV} or give --api-key-file FILE (${detail})`;
    return new BatchError('unauthorized', message);
  }
  if (response.status === 429)
    return new BatchError('rate_limited', `still rate limited after waiting: ${detail}; lower --concurrency`);
  if (problem.code) return new BatchError(problem.code, detail);
  return new BatchError('server_error', `HTTP ${response.status} from the server: ${text.slice(0, 200)}`);
}

/** The query string form of the options: lists comma-separated, as the API reads them. */
function queryOf(options: Record<string, unknown>): URLSearchParams {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) query.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  return query;
}

async function requestFor(
  input: string,
  endpoint: URL,
  options: Record<string, unknown>,
  headers: Record<string, string>,
): Promise<{ url: URL; init: () => RequestInit }> {
  if (isUrl(input)) {
    const body = JSON.stringify({ url: input, ...options });
    const json = { ...headers, 'content-type': 'application/json' };
    return { url: endpoint, init: () => ({ method: 'POST', headers: json, body }) };
  }
  const bytes = await readImageFile(input);
  const url = new URL(endpoint);
  url.search = queryOf(options).toString();
  // a fresh form per try: a body stream is used up by the try before
  const init = (): RequestInit => {
    const form = new FormData();
    form.set('image', new Blob([bytes as Buffer<ArrayBuffer>]), path.basename(input));
    return { method: 'POST', headers, body: form };
  };
  return { url, init };
}

export function remoteTagger(server: URL, job: Job, retry: RetryPolicy, apiKey?: ApiKey): Tagger {
  const base = server.href.endsWith('/') ? server : new URL(`${server.href}/`);
  const endpoint = new URL(job.task === 'tag' ? 'v1/tags' : 'v1/parse', base);
  const { model, scales, maxSide, density, fuse } = job.options;
  const options: Record<string, unknown> =
    job.task === 'tag' ? { ...job.options } : { model, scales, maxSide, density, fuse, format: 'json' };

  const headers = authorization(apiKey);

  return {
    async run(input, signal): Promise<Outcome> {
      const request = await requestFor(input, endpoint, options, headers);
      const response = await fetchWithRetry(request.url, request.init, retry, signal);
      if (!response.ok) throw await failure(response, apiKey);
      if (job.task === 'tag') {
        const answer = (await response.json()) as TagResult;
        return { tags: answer.tags, width: answer.plan.image.width, height: answer.plan.image.height };
      }
      const answer = (await response.json()) as ParseResultJson;
      const png = await labelPngFromMasks(answer.masks, answer.width, answer.height);
      const mask = await writeMask(job.masksDir!, input, png);
      const legend = answer.legend.map(({ id, name, share }) => ({ id, name, share }));
      return { mask, legend, width: answer.width, height: answer.height };
    },
    close: async () => undefined,
  };
}
