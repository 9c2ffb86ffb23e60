// The limits /openapi.json states are the limits the server enforces. For every option of the three image
// routes, as the document describes it, the smallest and largest value are answered 200 and one past each is a
// 400 bad_options naming the option and the limit. Where a model's card narrows a range (topK at most its
// labels, maxSide at least its window, density dividing its stride, vocabulary photo only with a vocabulary; each
// said in the option's description), the answer follows the card. Label lists name raw classes (vocabulary raw).
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { photo, startServer, upload, type TestServer } from './server.ts';

interface ParamSchema {
  type?: string;
  minimum?: number;
  maximum?: number;
  enum?: string[];
  minItems?: number;
  maxItems?: number;
  items?: ParamSchema;
}
interface Param {
  name: string;
  in: string;
  description: string;
  schema: ParamSchema;
}
interface Card {
  labels: Array<{ name: string }>;
  vocabulary?: string;
  geometry: { window: number; stride: number };
}

let server: TestServer;
let image: Buffer;
const cards = new Map<string, Card>();
const routes: Record<string, Param[]> = {};
const MAX_SIDE_SETTING = 16_384;

beforeAll(async () => {
  // the setting at the document's maximum, so that the document's own maxSide limit is the one in force
  server = await startServer(['imagenet', 'camvid', 'fashion'], { TAGMAP_MAX_SIDE: String(MAX_SIDE_SETTING) });
  image = await sharp(photo('chelsea.png')).resize(48, 36).png().toBuffer();
  const document = await (await fetch(`${server.url}/openapi.json`)).json();
  for (const route of ['/v1/tags', '/v1/parse', '/v1/classmap']) {
    routes[route] = (document.paths[route].post.parameters as Param[]).filter((p) => p.in === 'query');
  }
  for (const model of ['imagenet', 'camvid', 'fashion']) {
    cards.set(model, await (await fetch(`${server.url}/v1/models/${model}`)).json());
  }
}, 120_000);
afterAll(async () => {
  await server?.close();
});

type Value = number | string | Array<number | string>;
interface Probe {
  value: Value;
  /** what the document allows */
  documented: boolean;
  /** for a value the document refuses: what the error message must name (the limit, or an allowed value) */
  names?: string;
}

/** The smallest and largest documented value and one past each; each enum value and one not in it. */
function probes(param: Param, card: Card): Probe[] {
  const { schema } = param;
  if (schema.enum)
    return [
      ...schema.enum.map((value) => ({ value, documented: true })),
      { value: 'nonesuch', documented: false, names: schema.enum[0] },
    ];
  if (schema.type === 'array') {
    const item = schema.items!;
    const names = card.labels.map((l) => l.name);
    const fill = (n: number, value: number | string) => Array.from({ length: n }, () => value);
    const element = item.type === 'string' ? names[0] : item.minimum!;
    const probesOf: Probe[] = [
      { value: fill(schema.minItems!, element), documented: true },
      { value: fill(schema.maxItems!, element), documented: true },
      { value: fill(schema.maxItems! + 1, element), documented: false, names: String(schema.maxItems) },
    ];
    if (item.type === 'number') {
      const past = 0.01;
      probesOf.push(
        { value: [item.maximum!], documented: true },
        { value: [item.minimum! - past], documented: false, names: String(item.minimum) },
        { value: [item.maximum! + past], documented: false, names: String(item.maximum) },
      );
    }
    return probesOf;
  }
  if (schema.type === 'integer' || schema.type === 'number') {
    const past = schema.type === 'integer' ? 1 : 0.01;
    return [
      { value: schema.minimum!, documented: true },
      { value: schema.maximum!, documented: true },
      { value: schema.minimum! - past, documented: false, names: String(schema.minimum) },
      { value: schema.maximum! + past, documented: false, names: String(schema.maximum) },
    ];
  }
  return [];
}

/** The card's narrowing of a documented range, as the option's description states it. */
function cardAllows(name: string, value: Value, card: Card): boolean {
  const { window, stride } = card.geometry;
  if (name === 'topK') return (value as number) <= card.labels.length;
  if (name === 'maxSide') return (value as number) >= window;
  if (name === 'density') return stride % (value as number) === 0;
  if (name === 'vocabulary') return value === 'raw' || card.vocabulary !== undefined;
  return true;
}

const cases: Array<[string, string]> = [
  ['/v1/tags', 'imagenet'],
  ['/v1/tags', 'fashion'],
  ['/v1/parse', 'camvid'],
  ['/v1/classmap', 'fashion'],
];

describe('option limits: the HTTP answer agrees with /openapi.json', () => {
  it.each(cases)(
    '%s on %s',
    async (route, model) => {
      const card = cards.get(model)!;
      const params = routes[route].filter((p) => p.name !== 'model');
      expect(params.length, 'documented options').toBeGreaterThan(3);
      for (const param of params) {
        const found = probes(param, card);
        expect(found.length, `${param.name}: probes from its schema ${JSON.stringify(param.schema)}`).toBeGreaterThan(
          1,
        );
        for (const { value, documented, names } of found) {
          const query = new URLSearchParams({
            model,
            [param.name]: Array.isArray(value) ? value.join(',') : String(value),
            ...((param.name === 'include' || param.name === 'exclude') && { vocabulary: 'raw' }),
          });
          const res = await upload(`${server.url}${route}?${query}`, image, 'cat.png');
          const body = res.status === 200 ? undefined : await res.json();
          const allowed = documented && cardAllows(param.name, value, card);
          const what = `${route} ${param.name}=${String(value).slice(0, 40)} on ${model}: ${JSON.stringify(body)?.slice(0, 300)}`;
          expect(res.status, what).toBe(allowed ? 200 : 400);
          if (allowed) {
            await res.arrayBuffer();
            continue;
          }
          expect(body.code, what).toBe('bad_options');
          if (documented) {
            // the card's limit: the message says what this model allows, and why
            expect(body.detail, what).toMatch(new RegExp(`^${param.name} must be .*(model|window|stride)`));
          } else {
            expect(
              body.issues.map((i: { path: string[] }) => i.path[0]),
              what,
            ).toContain(param.name);
            // the message states the limit the document states
            expect(body.detail, what).toContain(names);
          }
        }
      }
    },
    120_000,
  );
});
