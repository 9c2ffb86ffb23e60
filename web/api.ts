// The page's calls to tagmap's HTTP API (same origin only). Failures become ProblemErrors carrying the
// problem+json `code`, so the page can explain them in plain words. An API key, once the user gives one, goes
// with every call as `Authorization: Bearer KEY`; it is kept in sessionStorage, so for this tab only.
import type {
  ClassMapResult,
  ModelList,
  ParseResultJson,
  Problem as ProblemAnswer,
  TagResult,
} from '../model/contract/index.ts';
// the header readers come from their own file, so the page's bundle holds them and not zod's schemas
import { readClassMapHeaders, readResultHeaders } from '../model/contract/headers.ts';

export type { ModelList, TagResult };
export type ImageSource = { file: File } | { url: string };
/** /v1/parse?format=json: the legend and one RLE mask per present label */
export type SceneResult = ParseResultJson;
export type ClassMap = Omit<ClassMapResult, 'labels'>;

/** A problem+json answer, or one the page makes up for a network failure or a non-problem error. */
export type Problem = Pick<ProblemAnswer, 'code' | 'status'> & Partial<ProblemAnswer>;

export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.name = 'ProblemError';
  }
}

async function problemOf(response: Response): Promise<ProblemError> {
  if (response.headers.get('content-type')?.startsWith('application/problem+json')) {
    return new ProblemError((await response.json()) as Problem);
  }
  return new ProblemError({ code: `http_${response.status}`, status: response.status, detail: response.statusText });
}

const KEY_ITEM = 'tagmap.apiKey';

export const saveApiKey = (key: string) => sessionStorage.setItem(KEY_ITEM, key);

function withKey(init: RequestInit): RequestInit {
  const key = sessionStorage.getItem(KEY_ITEM);
  if (!key) return init;
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${key}`);
  return { ...init, headers };
}

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, withKey(init));
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw new ProblemError({ code: 'network', status: 0, detail: String(error) });
  }
  // a key the server refuses is forgotten, so that the page asks again
  if (response.status === 401) sessionStorage.removeItem(KEY_ITEM);
  if (!response.ok) throw await problemOf(response);
  return response;
}

/** POSTs the image (multipart upload of the file, or JSON naming the URL) with options in the query. */
function postImage(
  path: string,
  source: ImageSource,
  query: Record<string, string>,
  signal: AbortSignal,
  accept = 'application/json',
) {
  const url = `${path}?${new URLSearchParams(query)}`;
  if ('file' in source) {
    const form = new FormData();
    form.append('image', source.file);
    return call(url, { method: 'POST', body: form, headers: { accept }, signal });
  }
  const body = JSON.stringify({ url: source.url });
  return call(url, { method: 'POST', body, headers: { accept, 'content-type': 'application/json' }, signal });
}

export async function fetchModels(): Promise<ModelList> {
  return (await call('/v1/models')).json();
}

/** Tags from the named model; with no model, the server's default: its tag models combined (tagModels). */
export async function requestTags(
  source: ImageSource,
  model: string | undefined,
  signal: AbortSignal,
): Promise<TagResult> {
  return (await postImage('/v1/tags', source, model === undefined ? {} : { model }, signal)).json();
}

export async function requestScene(source: ImageSource, model: string, signal: AbortSignal): Promise<SceneResult> {
  return (await postImage('/v1/parse', source, { model, format: 'json' }, signal)).json();
}

/** The class map as bare float32 bytes (a quarter smaller than base64 JSON); its metadata rides in headers. */
export async function requestClassMap(source: ImageSource, model: string, signal: AbortSignal): Promise<ClassMap> {
  const response = await postImage('/v1/classmap', source, { model }, signal, 'application/octet-stream');
  const get = (name: string) => response.headers.get(name);
  return {
    ...readResultHeaders(get),
    ...readClassMapHeaders(get),
    data: new Float32Array(await response.arrayBuffer()),
  };
}
