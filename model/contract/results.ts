// What tag(), parse() and classMap() answer, as zod schemas of their JSON form: the server documents them in
// /openapi.json, the batch CLI and the web page read them. In-process results carry the same fields, with
// typed arrays where JSON has base64 or RLE (see ParseResult and ClassMapResult below).
import { z } from 'zod';
import { OUTPUT_KINDS, cardTaskSchema } from './card.ts';
import { VOCABULARY_CATEGORIES } from './vocabulary.ts';

export const modelRefSchema = z
  .object({ name: z.string(), version: z.string(), sha256: z.string().describe('sha256 of model.onnx') })
  .meta({ id: 'ModelRef' });

export const planSchema = z
  .object({
    image: z.object({ width: z.number(), height: z.number() }).describe('decoded, upright image size'),
    inputs: z
      .array(z.object({ scale: z.number(), width: z.number(), height: z.number() }))
      .describe('tensor sizes fed to the net, one per scale'),
    scales: z.array(z.number()),
    density: z.number(),
    grid: z.object({ rows: z.number(), cols: z.number() }).describe("size of the fused class map's cell grid"),
    cellSize: z.number().describe('image px between cells of the fused grid'),
    provider: z.string().describe('onnxruntime execution provider that ran the model'),
  })
  .meta({ id: 'Plan' });

export const timingsSchema = z
  .object({
    loadMs: z.number().describe('waiting for the model to be loaded and warmed in the workers (0 when it already was)'),
    decodeMs: z.number().describe('decoding and resizing on the main thread'),
    queueMs: z.number().describe('waiting for a free worker (and moving buffers)'),
    inferMs: z.number().describe("inside onnxruntime's session.run, all passes"),
    postMs: z.number().describe('tensors, stitching, fusing, label maps, tags and encoding'),
    totalMs: z.number(),
  })
  .meta({ id: 'Timings' });

const resultBase = { model: modelRefSchema, plan: planSchema, timings: timingsSchema };

export const boxSchema = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

export const tagSchema = z
  .object({
    label: z.string(),
    id: z.number(),
    score: z.number(),
    coverage: z.number().describe('share of cells where this label wins'),
    peak: z.object({ x: z.number(), y: z.number() }).describe('image point of the best cell'),
    box: boxSchema.describe('image box of the cells above threshold around the peak'),
    parents: z.array(z.string()).describe('broader names, nearest first'),
    categories: z
      .array(z.enum(VOCABULARY_CATEGORIES))
      .optional()
      .describe("photo labels: the vocabulary's categories of this label (none for a class in no label)"),
    classes: z
      .array(z.object({ label: z.string(), id: z.number(), score: z.number() }))
      .optional()
      .describe('photo labels: the raw classes behind this tag with their own scores, best first (a few)'),
    finer: z.string().optional().describe('photo labels that keep a finer label: the best raw class, e.g. the breed'),
    models: z
      .array(
        z.object({
          name: z.string(),
          score: z.number().describe("this model's own score for the label"),
          agreement: z
            .number()
            .optional()
            .describe("a parser's label with a gate: the tagger's summed score of the classes that must agree"),
        }),
      )
      .optional()
      .describe(
        'combined tags: the models whose scores made this tag, the tagger first; when a parser is among them, ' +
          "coverage, peak and box are its mask's",
      ),
  })
  .meta({ id: 'Tag' });

export const tagResultSchema = z
  .object({
    ...resultBase,
    models: z
      .array(modelRefSchema)
      .optional()
      .describe("combined tags: every model that ran, the tagger first (`model`, `plan` are the tagger's)"),
    tags: z.array(tagSchema),
  })
  .meta({ id: 'TagResult' });

export const legendEntrySchema = z.object({
  id: z.number(),
  name: z.string(),
  color: z.tuple([z.number(), z.number(), z.number()]),
  share: z.number().describe('share of the image’s pixels'),
});

export const rleSchema = z
  .object({ size: z.tuple([z.number(), z.number()]).describe('[height, width]'), counts: z.array(z.number()) })
  .describe('COCO-style uncompressed RLE, column-major');

export const maskSchema = z.object({ id: z.number(), name: z.string(), share: z.number(), rle: rleSchema });

/** /v1/parse with format=json */
export const parseResultSchema = z
  .object({
    ...resultBase,
    width: z.number(),
    height: z.number(),
    legend: z.array(legendEntrySchema),
    masks: z.array(maskSchema).describe('one per label present in the image'),
  })
  .meta({ id: 'ParseResult' });

export const classMapGeometrySchema = z.object({
  window: z.number(),
  stride: z.number(),
  offset: z.number(),
  exact: z.boolean(),
  cellSize: z.number(),
});

export const cellPlacementSchema = z
  .object({ originX: z.number(), originY: z.number(), stepX: z.number(), stepY: z.number() })
  .describe("image coordinates of cell (0,0)'s centre and the spacing of cells");

const classMapFields = {
  ...resultBase,
  shape: z.tuple([z.number(), z.number(), z.number()]).describe('[classes, rows, cols]'),
  kind: z.enum(OUTPUT_KINDS),
  geometry: classMapGeometrySchema,
  grid: cellPlacementSchema,
  labels: z.array(z.string()),
};

/** /v1/classmap as JSON: the float32 values in base64 */
export const classMapResultSchema = z
  .object({
    ...classMapFields,
    dtype: z.literal('float32'),
    byteOrder: z.literal('little'),
    data: z.string().describe('base64 of the float32 values, row-major over shape'),
  })
  .meta({ id: 'ClassMapResult' });

export const modelSummarySchema = z
  .object({
    name: z.string(),
    version: z.string(),
    sha256: z.string(),
    description: z.string(),
    tasks: z.array(cardTaskSchema),
    labels: z.number().describe('how many labels'),
    window: z.number(),
    default: z.boolean(),
    loaded: z
      .boolean()
      .describe(
        'its sessions are open in the workers now; false: loaded on first use (TAGMAP_PRELOAD, TAGMAP_MODEL_TTL)',
      ),
  })
  .meta({ id: 'ModelSummary' });

export const modelListSchema = z.object({
  models: z.array(modelSummarySchema),
  tagModels: z
    .array(z.string())
    .describe('the models a tag request without `model` combines, the tagger first (one: that model alone)'),
  provider: z.string(),
});

export type ModelRef = z.infer<typeof modelRefSchema>;
export type Plan = z.infer<typeof planSchema>;
export type Timings = z.infer<typeof timingsSchema>;
export type Box = z.infer<typeof boxSchema>;
export type Tag = z.infer<typeof tagSchema>;
export type TagResult = z.infer<typeof tagResultSchema>;
export type LegendEntry = z.infer<typeof legendEntrySchema>;
export type Rle = z.infer<typeof rleSchema>;
export type Mask = z.infer<typeof maskSchema>;
export type ModelSummary = z.infer<typeof modelSummarySchema>;
export type ModelList = z.infer<typeof modelListSchema>;
export type ParseResultJson = z.infer<typeof parseResultSchema>;
export type ClassMapResultJson = z.infer<typeof classMapResultSchema>;

/** parse() in-process: the label map itself, plus PNG bytes (png, overlay) or RLE masks (json). */
export type ParseResult = Omit<ParseResultJson, 'masks'> & {
  /** per pixel label id, row-major, width x height */
  labels: Uint8Array | Uint16Array;
  /** PNG bytes for format png and overlay (a Buffer in Node) */
  png?: Uint8Array;
  masks?: Mask[];
};

/** classMap() in-process: the values as a Float32Array, [K, rows, cols] row-major. */
export type ClassMapResult = Omit<ClassMapResultJson, 'data' | 'dtype' | 'byteOrder'> & { data: Float32Array };

/** Every error answer: RFC 9457 problem+json with tagmap's code and the request id. */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string(),
    code: z.string().describe('what went wrong, e.g. bad_options; see docs/http-api.md'),
    requestId: z.string(),
    issues: z
      .array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string(), code: z.string() }))
      .optional()
      .describe('the zod issues of a bad_options answer, by path'),
  })
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof problemSchema>;
