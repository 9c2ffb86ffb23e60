// The two ways `npm run measure-tags` gets tags: POST /v1/tags on a running server (JSON body, the image in
// base64, so that lists such as `include` need no query-string escaping), or createTagmap().tag() in-process.
// Both answer the same TagResult and the card of the model that answered. The server is sent the API key in
// TAGMAP_API_KEY, if set.
import {
  createTagmap,
  defaultConfig,
  isTagmapError,
  type Card,
  type Problem,
  type TagOptions,
  type TagResult,
} from '../../model/index.ts';
import { API_KEY_ENV, authorization, type ApiKey } from '../batch/api-key.ts';

/** Codes that mean the command line, the mapping or the API key is wrong for every image: exit 2, not 1. */
const USAGE_CODES = new Set(['bad_options', 'unknown_label', 'unknown_model', 'unauthorized']);

export class TagRequestError extends Error {
  override name = 'TagRequestError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }

  get isUsage(): boolean {
    return USAGE_CODES.has(this.code);
  }
}

/** Request options, plus any the mapping file adds (e.g. vocabulary), passed on as they are. */
export type RequestOptions = TagOptions & Record<string, unknown>;

export interface Tagger {
  /** where the tags come from, for the report */
  source: string;
  tag(image: Buffer, options: RequestOptions): Promise<TagResult>;
  card(model: string): Promise<Card>;
  close(): Promise<void>;
}

export async function localTagger(settings: { modelsDir?: string; workers: number }): Promise<Tagger> {
  const tagmap = await createTagmap(
    defaultConfig({
      ...(settings.modelsDir && { modelsDir: settings.modelsDir }),
      device: 'cpu',
      workers: settings.workers,
      threadsPerWorker: 1,
      logger: { info: () => undefined, warn: () => undefined },
    }),
  );
  await tagmap.ready();
  return {
    source: `in-process (${settings.modelsDir ?? 'bundled models'})`,
    async tag(image, options) {
      try {
        return await tagmap.tag(image, options);
      } catch (error) {
        if (isTagmapError(error)) throw new TagRequestError(error.message, error.code);
        throw error;
      }
    },
    card: async (model) => tagmap.card(model),
    close: () => tagmap.close(),
  };
}

async function failure(response: Response, apiKey: ApiKey | undefined): Promise<TagRequestError> {
  const text = await response.text();
  try {
    const problem = JSON.parse(text) as Partial<Problem>;
    const detail = problem.detail ?? `HTTP ${response.status}`;
    if (response.status === 401) {
      const message = apiKey ? `the server refused the API key from ${apiKey.from}` : `set ${API_KEY_ENV}`;
      return new TagRequestError(`${message}: ${detail}`, 'unauthorized');
    }
    if (problem.code) return new TagRequestError(detail, problem.code);
  } catch {
    // not problem+json: something other than tagmap answered
  }
  return new TagRequestError(`HTTP ${response.status}: ${text.slice(0, 200)}`, 'server_error');
}

export function remoteTagger(server: string, apiKey?: ApiKey): Tagger {
  const base = server.replace(/\/+$/, '');
  const headers = authorization(apiKey);
  return {
    source: base,
    async tag(image, options) {
      const response = await fetch(`${base}/v1/tags`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ imageBase64: image.toString('base64'), ...options }),
      });
      if (!response.ok) throw await failure(response, apiKey);
      return (await response.json()) as TagResult;
    },
    async card(model) {
      const response = await fetch(`${base}/v1/models/${encodeURIComponent(model)}`, { headers });
      if (!response.ok) throw await failure(response, apiKey);
      return (await response.json()) as Card;
    },
    close: async () => undefined,
  };
}
