// The request options of tag(), parse() and classMap(): every range, enum and default is written here once.
// The HTTP schemas, the OpenAPI document, the batch CLI and the docs all derive from these. What depends on
// a model's card (topK at most its labels, density dividing its stride, maxSide at least its window) is
// checked against the card in model/runtime/options.ts.
import { z } from 'zod';

export const FUSE_MODES = ['mean', 'max'] as const;
/** How a request names its tags: photo labels from the model's vocabulary, or the model's own classes. */
export const VOCABULARY_MODES = ['photo', 'raw'] as const;
export type VocabularyMode = (typeof VOCABULARY_MODES)[number];
/**
 * how a class's map becomes one score: the max, mean or mean of the best tenth of its cells' probabilities, or
 * 'logit-mean', the softmax of the cells' mean logits (for a global-average-pool + linear head, the original
 * classifier on the whole image)
 */
export const SCORE_POOLINGS = ['max', 'mean', 'topk', 'logit-mean'] as const;
export const PARSE_FORMATS = ['json', 'png', 'overlay'] as const;

export const LIMITS = {
  /** scales relative to the card's shortSide */
  scale: { min: 0.25, max: 4, count: 4 },
  /** the request's maxSide, and the server setting that caps it */
  maxSide: { min: 16, max: 16_384 },
  /** shift-and-stitch passes per axis */
  density: { min: 1, max: 4 },
  topK: { min: 1, max: 1000 },
  minScore: { min: 0, max: 1 },
  /** names in include or exclude */
  labels: { count: 1000 },
  modelName: { max: 64 },
} as const;

/** Used when neither the request nor the model's card says otherwise. */
export const DEFAULTS = {
  scales: [1],
  density: 1,
  fuse: 'mean',
  topK: 5,
  minScore: 0.1,
  pool: 'max',
  format: 'json',
} as const satisfies {
  scales: readonly number[];
  density: number;
  fuse: (typeof FUSE_MODES)[number];
  topK: number;
  minScore: number;
  pool: (typeof SCORE_POOLINGS)[number];
  format: (typeof PARSE_FORMATS)[number];
};

const { scale, maxSide, density, topK, minScore, labels, modelName } = LIMITS;

export const fuseSchema = z.enum(FUSE_MODES);
export const scorePoolingSchema = z.enum(SCORE_POOLINGS);
export const parseFormatSchema = z.enum(PARSE_FORMATS);
export const vocabularyModeSchema = z.enum(VOCABULARY_MODES);

const scalesMessage = `scales must be 1 to ${scale.count} numbers between ${scale.min} and ${scale.max}`;
/** Says what a non-number is; zod's own messages name the limit a number misses. */
const wholeNumberType = {
  error: (issue: { code: string }) => (issue.code === 'invalid_type' ? 'must be a whole number' : undefined),
};

/** A whole number in a range. */
export const wholeNumber = (min: number, max: number) =>
  z.number(wholeNumberType).int('must be a whole number').min(min).max(max);

export const maxSideSchema = wholeNumber(maxSide.min, maxSide.max);

/** The fields of each option, none optional: the HTTP layer wraps each one for query strings. */
export const runOptionFields = {
  model: z
    .string()
    .min(1)
    .max(modelName.max)
    .describe('model name (GET /v1/models); default: the default model for the task'),
  scales: z
    .array(z.number().min(scale.min, scalesMessage).max(scale.max, scalesMessage))
    .min(1, scalesMessage)
    .max(scale.count, scalesMessage)
    .describe(
      `scales relative to the model's shortSide (default ${DEFAULTS.scales.join(',')}); ` +
        'several give a fused multi-scale map',
    ),
  maxSide: maxSideSchema.describe(
    'images whose longer side exceeds this are scaled down first (px; default and largest: ' +
      "the server's TAGMAP_MAX_SIDE; smallest: the model's window)",
  ),
  density: z
    .number(wholeNumberType)
    .int('must be a whole number')
    .min(density.min)
    .max(density.max, `density must be at most ${density.max}`)
    .describe(
      'shift-and-stitch: d x d shifted passes give cells every stride/d px ' +
        `(default ${DEFAULTS.density}; d must divide the model's stride)`,
    ),
  fuse: fuseSchema.describe(`how the maps of several scales are fused (default ${DEFAULTS.fuse})`),
};

const labelList = z.array(z.string().min(1)).min(1).max(labels.count);

export const tagOptionFields = {
  ...runOptionFields,
  topK: wholeNumber(topK.min, topK.max).describe(
    `at most this many tags (default ${DEFAULTS.topK}; at most the model's label count)`,
  ),
  minScore: z
    .number()
    .min(minScore.min)
    .max(minScore.max)
    .describe(`tags scoring below this are dropped (default ${DEFAULTS.minScore})`),
  pool: scorePoolingSchema.describe(
    "how a class's cells are pooled into its score: max, mean or topk (best tenth) of the probabilities, or " +
      `logit-mean, the softmax of the mean logits (default: the model's, else ${DEFAULTS.pool})`,
  ),
  include: labelList.describe('only these labels may be tags'),
  exclude: labelList.describe('these labels are never tags'),
  vocabulary: vocabularyModeSchema.describe(
    "photo: the model's photo labels (dog, car, ...), each pooling its raw classes, for models whose card names a " +
      "vocabulary; raw: the model's own classes (default: photo when the model has a vocabulary, else raw)",
  ),
};

export const parseOptionFields = {
  ...runOptionFields,
  format: parseFormatSchema.describe(
    'json: legend and RLE masks; png: grey label PNG (value = label id); overlay: colour overlay PNG',
  ),
};

export const runOptionsSchema = z.object(runOptionFields).partial();
export const tagOptionsSchema = z.object(tagOptionFields).partial();
export const parseOptionsSchema = z.object(parseOptionFields).partial();

export type FuseMode = z.infer<typeof fuseSchema>;
export type ScorePooling = z.infer<typeof scorePoolingSchema>;
export type ParseFormat = z.infer<typeof parseFormatSchema>;
export type RunOptions = z.infer<typeof runOptionsSchema>;
export type TagOptions = z.infer<typeof tagOptionsSchema>;
export type ParseOptions = z.infer<typeof parseOptionsSchema>;
