// The X-Tagmap-* response headers: the model, plan and timings of every answer, and the class map's own
// description on binary /v1/classmap answers (whose body is only the float32 values). Written by the server,
// read by the web page and any client.
import type { ClassMapResult, ModelRef, Plan, Timings } from './results.ts';

export const RESULT_HEADERS = {
  model: 'X-Tagmap-Model',
  version: 'X-Tagmap-Model-Version',
  sha256: 'X-Tagmap-Model-Sha256',
  plan: 'X-Tagmap-Plan',
  timings: 'X-Tagmap-Timings',
} as const;

export const CLASS_MAP_HEADERS = {
  shape: 'X-Tagmap-Shape',
  kind: 'X-Tagmap-Kind',
  geometry: 'X-Tagmap-Geometry',
  grid: 'X-Tagmap-Grid',
} as const;

type Described = { model: ModelRef; plan: Plan; timings: Timings };
type ClassMapMeta = Pick<ClassMapResult, 'shape' | 'kind' | 'geometry' | 'grid'>;

export function resultHeaders(result: Described): Record<string, string> {
  return {
    [RESULT_HEADERS.model]: result.model.name,
    [RESULT_HEADERS.version]: result.model.version,
    [RESULT_HEADERS.sha256]: result.model.sha256,
    [RESULT_HEADERS.plan]: JSON.stringify(result.plan),
    [RESULT_HEADERS.timings]: JSON.stringify(result.timings),
  };
}

export function classMapHeaders(result: ClassMapMeta): Record<string, string> {
  return {
    [CLASS_MAP_HEADERS.shape]: result.shape.join(','),
    [CLASS_MAP_HEADERS.kind]: result.kind,
    [CLASS_MAP_HEADERS.geometry]: JSON.stringify(result.geometry),
    [CLASS_MAP_HEADERS.grid]: JSON.stringify(result.grid),
  };
}

type HeaderGetter = (name: string) => string | null | undefined;

export function readResultHeaders(get: HeaderGetter): Described {
  const text = (name: string) => get(name) ?? '';
  return {
    model: {
      name: text(RESULT_HEADERS.model),
      version: text(RESULT_HEADERS.version),
      sha256: text(RESULT_HEADERS.sha256),
    },
    plan: JSON.parse(text(RESULT_HEADERS.plan)) as Plan,
    timings: JSON.parse(text(RESULT_HEADERS.timings)) as Timings,
  };
}

export function readClassMapHeaders(get: HeaderGetter): ClassMapMeta {
  const text = (name: string) => get(name) ?? '';
  return {
    shape: text(CLASS_MAP_HEADERS.shape).split(',').map(Number) as ClassMapMeta['shape'],
    kind: text(CLASS_MAP_HEADERS.kind) as ClassMapMeta['kind'],
    geometry: JSON.parse(text(CLASS_MAP_HEADERS.geometry)) as ClassMapMeta['geometry'],
    grid: JSON.parse(text(CLASS_MAP_HEADERS.grid)) as ClassMapMeta['grid'],
  };
}
