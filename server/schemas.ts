// The zod schemas of the HTTP API: they validate every request and are the source of /openapi.json.
// Options arrive as query strings (multipart uploads) or typed JSON fields; the same schema reads both.
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

/** A query-string number becomes a number; JSON numbers pass through. */
const num = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), schema);

/** A comma list in a query string ("0.5,1") or a JSON array. */
const list = <T extends z.ZodType>(item: T, min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v), z.array(item).min(min).max(max));

/** In a query string, lists are written scales=0.5,1 (repeating the parameter works too). */
const commaList = { style: 'form', explode: false } as const;

export const runOptionsShape = {
  model: z.string().min(1).max(64).optional().openapi({ description: 'model name (GET /v1/models); default: the default model for the task', example: 'camvid' }),
  scales: list(num(z.number().min(0.25).max(4)), 1, 4).optional()
    .openapi({ description: "scales relative to the model's shortSide; several give a fused multi-scale map", example: [1], param: commaList }),
  maxSide: num(z.number().int().min(16).max(16_384)).optional().openapi({ description: 'images whose longer side exceeds this are scaled down first (px)' }),
  density: num(z.number().int().min(1).max(8)).optional().openapi({ description: 'shift-and-stitch: d x d shifted passes give cells every stride/d px' }),
  fuse: z.enum(['mean', 'max']).optional().openapi({ description: 'how the maps of several scales are fused' }),
};

export const tagOptionsShape = {
  ...runOptionsShape,
  topK: num(z.number().int().min(1).max(1000)).optional().openapi({ description: 'at most this many tags' }),
  minScore: num(z.number().min(0).max(1)).optional().openapi({ description: 'tags scoring below this are dropped' }),
  pool: z.enum(['max', 'mean', 'topk']).optional().openapi({ description: "how a class's probability map is pooled into its score" }),
  include: list(z.string().min(1), 1, 1000).optional().openapi({ description: 'only these labels may be tags', param: commaList }),
  exclude: list(z.string().min(1), 1, 1000).optional().openapi({ description: 'these labels are never tags', param: commaList }),
};

export const parseOptionsShape = {
  ...runOptionsShape,
  format: z.enum(['json', 'png', 'overlay']).optional()
    .openapi({ description: 'json: legend and RLE masks; png: grey label PNG (value = label id); overlay: colour overlay PNG' }),
};

const dataUrlPrefix = /^data:[\w.+-]+\/[\w.+-]+(;[\w.+-]+=[\w.+-]+)*;base64,/i;

/** What a JSON body adds to the options: exactly one image source. */
const imageSourceShape = {
  url: z.string().min(1).max(4096).optional()
    .openapi({ description: 'an http(s) URL of the image; private, loopback and metadata addresses are refused' }),
  imageBase64: z.preprocess((v) => (typeof v === 'string' ? v.replace(dataUrlPrefix, '').replace(/\s+/g, '') : v), z.base64('imageBase64 must be base64'))
    .optional()
    .openapi({ description: 'the image file, base64 (a data: URL prefix is allowed)' }),
};

const oneImageSource = (body: Record<string, unknown>, ctx: z.RefinementCtx) => {
  if ((body.url === undefined) === (body.imageBase64 === undefined)) {
    ctx.addIssue({ code: 'custom', path: [], message: 'give exactly one of url or imageBase64 (or upload multipart/form-data with field image)' });
  }
};

const jsonBody = <S extends z.ZodRawShape>(shape: S) => z.strictObject({ ...shape, ...imageSourceShape }).superRefine((body, ctx) => oneImageSource(body, ctx));

export const requestSchemas = {
  tags: { query: z.strictObject(tagOptionsShape), json: jsonBody(tagOptionsShape) },
  parse: { query: z.strictObject(parseOptionsShape), json: jsonBody(parseOptionsShape) },
  classmap: { query: z.strictObject(runOptionsShape), json: jsonBody(runOptionsShape) },
};

export type Endpoint = keyof typeof requestSchemas;

export const modelNameParams = z.object({ name: z.string().min(1).max(64) });

// ---- responses (documentation of what the routes send) ----

const modelRef = z.object({ name: z.string(), version: z.string(), sha256: z.string() }).openapi('ModelRef');
const plan = z
  .object({
    image: z.object({ width: z.number(), height: z.number() }),
    inputs: z.array(z.object({ scale: z.number(), width: z.number(), height: z.number() })),
    scales: z.array(z.number()),
    density: z.number(),
    grid: z.object({ rows: z.number(), cols: z.number() }),
    cellSize: z.number(),
    provider: z.string(),
  })
  .openapi('Plan');
const timings = z
  .object({ decodeMs: z.number(), queueMs: z.number(), inferMs: z.number(), postMs: z.number(), totalMs: z.number() })
  .openapi('Timings');
const box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });
const resultBase = { model: modelRef, plan, timings };

export const responseSchemas = {
  modelSummary: z
    .object({
      name: z.string(), version: z.string(), sha256: z.string(), description: z.string(), tasks: z.array(z.enum(['tag', 'parse'])),
      labels: z.number(), window: z.number(), default: z.boolean(),
    })
    .openapi('ModelSummary'),
  tags: z
    .object({
      ...resultBase,
      tags: z.array(z.object({
        label: z.string(), id: z.number(), score: z.number(), coverage: z.number(), peak: z.object({ x: z.number(), y: z.number() }), box,
        parents: z.array(z.string()),
      })),
    })
    .openapi('TagResult'),
  parse: z
    .object({
      ...resultBase,
      width: z.number(),
      height: z.number(),
      legend: z.array(z.object({ id: z.number(), name: z.string(), color: z.tuple([z.number(), z.number(), z.number()]), share: z.number() })),
      masks: z.array(z.object({
        id: z.number(), name: z.string(), share: z.number(),
        rle: z.object({ size: z.tuple([z.number(), z.number()]).openapi({ description: '[height, width]' }), counts: z.array(z.number()) })
          .openapi({ description: 'COCO-style uncompressed RLE, column-major' }),
      })),
    })
    .openapi('ParseResult'),
  classmap: z
    .object({
      ...resultBase,
      shape: z.tuple([z.number(), z.number(), z.number()]).openapi({ description: '[classes, rows, cols]' }),
      kind: z.enum(['logits', 'probabilities']),
      dtype: z.literal('float32'),
      byteOrder: z.literal('little'),
      data: z.string().openapi({ description: 'base64 of the float32 values, row-major over shape' }),
      geometry: z.object({ window: z.number(), stride: z.number(), offset: z.number(), exact: z.boolean(), cellSize: z.number() }),
      grid: z.object({ originX: z.number(), originY: z.number(), stepX: z.number(), stepY: z.number() })
        .openapi({ description: "image coordinates of cell (0,0)'s centre and the spacing of cells" }),
      labels: z.array(z.string()),
    })
    .openapi('ClassMapResult'),
  health: z.object({ status: z.literal('ok') }),
  ready: z
    .object({ status: z.enum(['starting', 'ready', 'draining']), provider: z.string(), models: z.array(z.string()) })
    .openapi('Readiness'),
  problem: z
    .object({
      type: z.string(), title: z.string(), status: z.number(), detail: z.string(), code: z.string(), requestId: z.string(),
      issues: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string(), code: z.string() })).optional(),
    })
    .openapi('Problem'),
};
