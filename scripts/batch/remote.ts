// --server back end: each input is sent to a running tagmap (POST /v1/tags or /v1/parse) and its answer
// becomes the same row the in-process back end writes. Files are uploaded (multipart, options in the query
// string); URLs are passed on as JSON for the server to fetch under its own address rules.
import path from 'node:path';
import type { ParseResultJson, Problem, TagResult } from '../../model/index.ts';
import { BatchError } from './errors.ts';
import { isUrl } from './inputs.ts';
import { labelPngFromMasks, writeMask } from './masks.ts';
import { fetchWithRetry, type RetryPolicy } from './retry.ts';
import type { Outcome } from './rows.ts';
import { readImageFile } from './source.ts';
import type { Job, Tagger } from './tagger.ts';

async function failure(response: Response): Promise<BatchError> {
  const text = await response.text();
  let problem: Partial<Problem> = {};
  try {
    problem = JSON.parse(text) as Partial<Problem>;
  } catch {
    // not problem+json: a proxy or something else answered
  }
  if (problem.code) return new BatchError(problem.code, problem.detail ?? problem.title ?? `HTTP ${response.status}`);
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
): Promise<{ url: URL; init: () => RequestInit }> {
  if (isUrl(input)) {
    const body = JSON.stringify({ url: input, ...options });
    return { url: endpoint, init: () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body }) };
  }
  const bytes = await readImageFile(input);
  const url = new URL(endpoint);
  url.search = queryOf(options).toString();
  // a fresh form per try: a body stream is used up by the try before
  const init = (): RequestInit => {
    const form = new FormData();
    form.set('image', new Blob([bytes as Buffer<ArrayBuffer>]), path.basename(input));
    return { method: 'POST', body: form };
  };
  return { url, init };
}

export function remoteTagger(server: URL, job: Job, retry: RetryPolicy): Tagger {
  const base = server.href.endsWith('/') ? server : new URL(`${server.href}/`);
  const endpoint = new URL(job.task === 'tag' ? 'v1/tags' : 'v1/parse', base);
  const { model, scales, maxSide, density, fuse } = job.options;
  const options: Record<string, unknown> =
    job.task === 'tag' ? { ...job.options } : { model, scales, maxSide, density, fuse, format: 'json' };

  return {
    async run(input, signal): Promise<Outcome> {
      const request = await requestFor(input, endpoint, options);
      const response = await fetchWithRetry(request.url, request.init, retry, signal);
      if (!response.ok) throw await failure(response);
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
