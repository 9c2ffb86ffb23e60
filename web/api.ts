// The page's calls to tagmap's HTTP API (same origin only). Failures become ProblemErrors carrying the
// problem+json `code`, so the page can explain them in plain words.
import type { ClassMapResult, ModelRef, ModelSummary, ParseResult, Plan, TagResult, Timings } from '../model/api.ts';

export type { ModelSummary, TagResult };
export type ImageSource = { file: File } | { url: string };
export interface ModelList { models: ModelSummary[]; provider: string }
/** /v1/parse?format=json: the legend and one RLE mask per present label */
export type SceneResult = Omit<ParseResult, 'labels' | 'png'>;
export type ClassMap = Omit<ClassMapResult, 'labels' | 'geometry'>;

export interface Problem { code: string; status: number; title?: string; detail?: string; requestId?: string }

export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? problem.code);
    this.name = 'ProblemError';
  }
}

async function problemOf(response: Response): Promise<ProblemError> {
  if (response.headers.get('content-type')?.startsWith('application/problem+json')) {
    return new ProblemError(await response.json() as Problem);
  }
  return new ProblemError({ code: `http_${response.status}`, status: response.status, detail: response.statusText });
}

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw new ProblemError({ code: 'network', status: 0, detail: String(error) });
  }
  if (!response.ok) throw await problemOf(response);
  return response;
}

/** POSTs the image (multipart upload of the file, or JSON naming the URL) with options in the query. */
function postImage(path: string, source: ImageSource, query: Record<string, string>, signal: AbortSignal, accept = 'application/json') {
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

export async function requestTags(source: ImageSource, model: string, signal: AbortSignal): Promise<TagResult> {
  return (await postImage('/v1/tags', source, { model }, signal)).json();
}

export async function requestScene(source: ImageSource, model: string, signal: AbortSignal): Promise<SceneResult> {
  return (await postImage('/v1/parse', source, { model, format: 'json' }, signal)).json();
}

/** The class map as bare float32 bytes (a quarter smaller than base64 JSON); its metadata rides in headers. */
export async function requestClassMap(source: ImageSource, model: string, signal: AbortSignal): Promise<ClassMap> {
  const response = await postImage('/v1/classmap', source, { model }, signal, 'application/octet-stream');
  const header = (name: string) => response.headers.get(name) ?? '';
  const ref: ModelRef = { name: header('X-Tagmap-Model'), version: header('X-Tagmap-Model-Version'), sha256: header('X-Tagmap-Model-Sha256') };
  return {
    model: ref,
    plan: JSON.parse(header('X-Tagmap-Plan')) as Plan,
    timings: JSON.parse(header('X-Tagmap-Timings')) as Timings,
    shape: header('X-Tagmap-Shape').split(',').map(Number) as ClassMap['shape'],
    kind: header('X-Tagmap-Kind') as ClassMap['kind'],
    grid: JSON.parse(header('X-Tagmap-Grid')) as ClassMap['grid'],
    data: new Float32Array(await response.arrayBuffer()),
  };
}
