// --server back end: each input is sent to a running tagmap (POST /v1/tags or /v1/parse) and its answer
// becomes the same row the in-process back end writes. Files are uploaded; URLs are passed on for the server
// to fetch under its own address rules.
import type { Tag } from '../../model/index.ts';
import { BatchError } from './errors.ts';
import { isUrl } from './inputs.ts';
import { writeMask } from './masks.ts';
import { fetchWithRetry, type RetryPolicy } from './retry.ts';
import type { Outcome } from './rows.ts';
import { readImageFile } from './source.ts';
import type { Job, Tagger } from './tagger.ts';

interface Problem {
  code?: string;
  detail?: string;
  title?: string;
}

interface TagsResponse {
  tags: Tag[];
  plan: { image: { width: number; height: number } };
}

interface ParseResponse {
  width: number;
  height: number;
  legend: Array<{ id: number; name: string; share: number }>;
  /** base64 label PNG */
  png: string;
}

async function failure(response: Response): Promise<BatchError> {
  const text = await response.text();
  let problem: Problem = {};
  try {
    problem = JSON.parse(text) as Problem;
  } catch {
    // not problem+json: a proxy or something else answered
  }
  if (problem.code) return new BatchError(problem.code, problem.detail ?? problem.title ?? `HTTP ${response.status}`);
  return new BatchError('server_error', `HTTP ${response.status} from the server: ${text.slice(0, 200)}`);
}

export function remoteTagger(server: URL, job: Job, retry: RetryPolicy): Tagger {
  const endpoint = new URL(job.task === 'tag' ? 'v1/tags' : 'v1/parse', server.href.endsWith('/') ? server : `${server.href}/`);
  const { model, scales, maxSide, density, fuse } = job.options;
  const options = job.task === 'tag' ? job.options : { model, scales, maxSide, density, fuse, format: 'png', encoding: 'base64' };

  return {
    async run(input, signal) {
      const image = isUrl(input) ? { url: input } : { imageBase64: (await readImageFile(input)).toString('base64') };
      const body = JSON.stringify({ ...image, ...options });
      const init = (): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const response = await fetchWithRetry(endpoint, init, retry, signal);
      if (!response.ok) throw await failure(response);
      if (job.task === 'tag') {
        const answer = (await response.json()) as TagsResponse;
        return { tags: answer.tags, width: answer.plan.image.width, height: answer.plan.image.height };
      }
      const answer = (await response.json()) as ParseResponse;
      const mask = await writeMask(job.masksDir!, input, Buffer.from(answer.png, 'base64'));
      return { mask, legend: answer.legend, width: answer.width, height: answer.height } satisfies Outcome;
    },
    close: async () => undefined,
  };
}
