// The HTTP form of the contract in model/contract/: the same option fields, made to read query strings
// (multipart uploads) as well as typed JSON fields, plus what only HTTP has (the image source of a JSON body,
// the health answers). They validate every request and are the source of /openapi.json.
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  LIMITS,
  classMapResultSchema,
  modelListSchema,
  modelSummarySchema,
  parseOptionFields,
  parseResultSchema,
  problemSchema,
  runOptionFields,
  tagOptionFields,
  tagResultSchema,
} from '../model/index.ts';

extendZodWithOpenApi(z);

const toNumber = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v);

/** In a query string, lists are written scales=0.5,1 (repeating the parameter works too). */
const commaList = { style: 'form', explode: false } as const;

/**
 * One contract field as HTTP reads it: a query-string number becomes a number, a comma list ("0.5,1")
 * an array; JSON values pass through. The contract's description goes to the OpenAPI document.
 */
function fromHttp(field: z.ZodType) {
  const description = field.description;
  if (field instanceof z.ZodNumber) return z.preprocess(toNumber, field).optional().openapi({ description });
  if (field instanceof z.ZodArray) {
    const numeric = field.element instanceof z.ZodNumber;
    const split = (v: unknown) =>
      typeof v === 'string' ? v.split(',').map((s) => (numeric ? toNumber(s.trim()) : s.trim())) : v;
    return z.preprocess(split, field).optional().openapi({ description, param: commaList });
  }
  return field.optional().openapi({ description });
}

const forHttp = <S extends Record<string, z.ZodType>>(fields: S) =>
  Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, fromHttp(field)])) as {
    [K in keyof S]: z.ZodOptional<z.ZodType<z.output<S[K]> | undefined, unknown>>;
  };

const runOptionsShape = forHttp(runOptionFields);
const tagOptionsShape = forHttp(tagOptionFields);
const parseOptionsShape = forHttp(parseOptionFields);

const dataUrlPrefix = /^data:[\w.+-]+\/[\w.+-]+(;[\w.+-]+=[\w.+-]+)*;base64,/i;

/** What a JSON body adds to the options: exactly one image source. */
const imageSourceShape = {
  url: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .openapi({ description: 'an http(s) URL of the image; private, loopback and metadata addresses are refused' }),
  imageBase64: z
    .preprocess(
      (v) => (typeof v === 'string' ? v.replace(dataUrlPrefix, '').replace(/\s+/g, '') : v),
      z.base64('imageBase64 must be base64'),
    )
    .optional()
    .openapi({ description: 'the image file, base64 (a data: URL prefix is allowed)' }),
};

const oneImageSource = (body: Record<string, unknown>, ctx: z.RefinementCtx) => {
  if ((body.url === undefined) === (body.imageBase64 === undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: 'give exactly one of url or imageBase64 (or upload multipart/form-data with field image)',
    });
  }
};

const jsonBody = <S extends z.ZodRawShape>(shape: S) =>
  z.strictObject({ ...shape, ...imageSourceShape }).superRefine((body, ctx) => oneImageSource(body, ctx));

export const requestSchemas = {
  tags: { query: z.strictObject(tagOptionsShape), json: jsonBody(tagOptionsShape) },
  parse: { query: z.strictObject(parseOptionsShape), json: jsonBody(parseOptionsShape) },
  classmap: { query: z.strictObject(runOptionsShape), json: jsonBody(runOptionsShape) },
};

export type Endpoint = keyof typeof requestSchemas;

export const modelNameParams = z.object({ name: z.string().min(1).max(LIMITS.modelName.max) });

export const responseSchemas = {
  modelSummary: modelSummarySchema,
  models: modelListSchema,
  tags: tagResultSchema,
  parse: parseResultSchema,
  classmap: classMapResultSchema,
  problem: problemSchema,
  health: z.object({ status: z.literal('ok') }),
  ready: z
    .object({
      status: z.enum(['starting', 'ready', 'draining']),
      provider: z.string(),
      models: z.array(z.string()).describe('every model in the folder'),
      loaded: z.array(z.string()).describe('the models whose sessions are open now (TAGMAP_PRELOAD, TAGMAP_MODEL_TTL)'),
    })
    .openapi('Readiness'),
};
