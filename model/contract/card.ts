// The model card: everything needed to run a model.onnx correctly travels with it in card.json.
// One schema, used by the registry at load time, the importer when writing, and the server's OpenAPI document.
import { z } from 'zod';
import { tagOptionFields } from './options.ts';

/** What a model is meant for: tags for whole images, or parsing scenes into label maps. */
export const CARD_TASKS = ['tag', 'parse'] as const;
/**
 * How image borders are padded so that every pixel gets a cell: edge pixels repeated, reflected, zero (the
 * mean colour), or none: no padding, only the windows that fit in the image (border pixels take the nearest
 * cell's scores).
 */
export const PAD_MODES = ['edge', 'reflect', 'zero', 'none'] as const;
export const OUTPUT_KINDS = ['logits', 'probabilities'] as const;
export const COLOR_ORDERS = ['rgb', 'bgr', 'gray'] as const;
export const cardTaskSchema = z.enum(CARD_TASKS);

const rgb = z.tuple([
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
]);

export const trainedSourceSchema = z.object({
  kind: z.literal('trained'),
  recipe: z.string().min(1).describe('training recipe name, e.g. "fashion"'),
  dataset: z.string().min(1),
  command: z.string().min(1).describe('the command line that produced the checkpoint'),
  commit: z.string().optional().describe('git commit of the trainer, when known'),
  date: z.string().min(1).describe('ISO 8601 date of the export'),
  device: z.string().optional().describe('what trained it, e.g. "cpu (2 cores)" or a GPU name'),
});

export const importedSourceSchema = z.object({
  kind: z.literal('imported'),
  file: z.string().min(1).describe('original file name'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  rewrites: z.array(z.string()).describe('what the importer changed, one line per rewrite'),
  date: z.string().min(1),
  origin: z.string().optional().describe('where the original came from'),
});

export const inputSchema = z.object({
  name: z.string().min(1).describe('input tensor name'),
  channels: z.union([z.literal(1), z.literal(3)]),
  color: z.enum(COLOR_ORDERS),
  scale: z.number().positive().describe('tensor = (pixel * scale - mean) / std, pixel in 0..255'),
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
  minSide: z.number().int().positive().describe('smallest input side the net accepts, px'),
  shortSide: z.number().int().positive().describe('shorter image side in training; images are scaled to it by default'),
  pad: z
    .enum(PAD_MODES)
    .optional()
    .describe('how borders are padded so every pixel gets a cell, or none: only windows inside (default edge)'),
});

export const outputSchema = z.object({
  name: z.string().min(1).describe('class-map output tensor name'),
  kind: z.enum(OUTPUT_KINDS),
  activationName: z
    .string()
    .optional()
    .describe('optional second output: the finer map before the head pool (class activation map)'),
});

export const geometrySchema = z.object({
  window: z.number().int().positive().describe('training input size, px'),
  stride: z.number().int().positive().describe('px between output cells'),
  offset: z.number().int().describe("input coordinate of the top-left corner of cell (0,0)'s window"),
  exact: z.boolean().describe('true when every cell equals the window classifier on its crop'),
});

export const labelSchema = z.object({
  id: z.number().int().min(0),
  name: z.string().min(1),
  color: rgb.optional(),
  wnid: z.string().optional().describe('WordNet id, e.g. n02123045'),
  parents: z.array(z.string()).optional().describe('broader names, nearest first'),
  scientific: z.string().optional().describe('scientific name, for species labels, e.g. Cyanocitta cristata'),
});

/** Request defaults chosen for one model: the same fields and limits as the request options. */
export const defaultsSchema = z.object({
  pool: tagOptionFields.pool.optional(),
  scales: tagOptionFields.scales.optional(),
  topK: tagOptionFields.topK.optional(),
  minScore: tagOptionFields.minScore.optional(),
});

export const cardSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lower-case letters, digits, _ and -'),
    version: z.string().min(1),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits')
      .optional()
      .describe('sha256 of model.onnx, pinned: a model.onnx with another hash stops start-up'),
    description: z.string().min(1),
    license: z.string().min(1),
    source: z.discriminatedUnion('kind', [trainedSourceSchema, importedSourceSchema]),
    input: inputSchema,
    output: outputSchema,
    geometry: geometrySchema,
    labels: z.array(labelSchema).min(2),
    tasks: z.array(cardTaskSchema).min(1),
    background: z.number().int().min(0).optional().describe('label id of the background class, if any'),
    defaults: defaultsSchema.optional().describe('request defaults chosen for this model'),
    vocabulary: z
      .string()
      .min(1)
      .optional()
      .describe('vocabulary file of photo labels for tags, relative to the model folder, e.g. "vocabulary.json"'),
    metrics: z.record(z.string(), z.record(z.string(), z.number())).describe('split -> metric -> value'),
  })
  .superRefine((card, ctx) => {
    for (const key of ['mean', 'std'] as const) {
      if (card.input[key].length !== card.input.channels) {
        ctx.addIssue({
          code: 'custom',
          path: ['input', key],
          message: `needs ${card.input.channels} values, one per channel`,
        });
      }
    }
    if ((card.input.channels === 1) !== (card.input.color === 'gray')) {
      ctx.addIssue({
        code: 'custom',
        path: ['input', 'color'],
        message: 'gray goes with 1 channel, rgb and bgr with 3',
      });
    }
    card.labels.forEach((label, index) => {
      if (label.id !== index)
        ctx.addIssue({
          code: 'custom',
          path: ['labels', index, 'id'],
          message: `expected id ${index}: labels are listed in id order`,
        });
    });
    if (card.background !== undefined && card.background >= card.labels.length) {
      ctx.addIssue({ code: 'custom', path: ['background'], message: 'not a label id' });
    }
  });

export type Card = z.infer<typeof cardSchema>;
export type Label = z.infer<typeof labelSchema>;

/** golden.json: seeded inputs and the outputs the exporter (PyTorch) or the original model computed. */
export const goldenSchema = z.object({
  tolerance: z.number().positive(),
  toleranceReason: z
    .string()
    .optional()
    .describe('why tolerance is looser than 1e-4 of the largest score (an int8 original against float arithmetic)'),
  cases: z
    .array(
      z.object({
        shape: z.tuple([z.literal(1), z.number().int(), z.number().int(), z.number().int()]).describe('[1, C, H, W]'),
        input: z.array(z.number()).describe('the input tensor, row-major'),
        outputShape: z.tuple([z.literal(1), z.number().int(), z.number().int(), z.number().int()]),
        output: z.array(z.number()).describe('the expected class map, row-major'),
        computedBy: z
          .enum(['exporter', 'original', 'imported'])
          .optional()
          .describe(
            'who computed output: the PyTorch exporter, the original third-party model, or the imported model itself',
          ),
      }),
    )
    .min(1),
});

export type Golden = z.infer<typeof goldenSchema>;
export type CardTask = z.infer<typeof cardTaskSchema>;
export type OutputKind = (typeof OUTPUT_KINDS)[number];
