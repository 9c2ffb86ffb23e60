// A vocabulary file: the words people tag photos with, each gathering some of a model's raw classes (ImageNet's
// 120 dog breeds become "dog"). A card names one (card.vocabulary); the registry checks it at load time.
import { z } from 'zod';
import { LIMITS, scorePoolingSchema } from './options.ts';

/** What a photo label is about; a label has one or more. */
export const VOCABULARY_CATEGORIES = [
  'animal',
  'plant',
  'food',
  'drink',
  'vehicle',
  'building',
  'structure',
  'landscape',
  'sport',
  'music',
  'clothing',
  'indoor object',
  'outdoor object',
  'tool',
  'electronics',
  'toy',
  'person',
] as const;

/** A raw class: its WordNet id (n + 8 digits), else its name as the card writes it. */
const classRef = z.string().min(1).describe('a raw class: WordNet id (n02085620) or class name');

export const photoLabelSchema = z.strictObject({
  name: z.string().min(1).describe('the tag people see, e.g. "dog"'),
  categories: z.array(z.enum(VOCABULARY_CATEGORIES)).min(1),
  members: z
    .array(classRef)
    .min(1)
    .describe('the raw classes pooled into this label (WordNet ancestors expanded by scripts/make-vocabulary.ts)'),
  threshold: z.number().min(0).max(1).default(0).describe("the label's tag needs at least this score"),
  priority: z.number().int().min(-100).max(100).default(0).describe('breaks ties between equal scores; higher first'),
  aliases: z.array(z.string().min(1)).default([]).describe('other names accepted in include and exclude'),
  finer: z.boolean().optional().describe('true: the best member class is kept as the finer label (the breed)'),
  minCoverage: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('dense condition: the label must win at least this share of the cells'),
  agree: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe(
      "combined tags, a scene parser's label: WordNet names (a class's own name or one of its parents) of the " +
        "first tag model's classes that must agree before the parser's mask counts (an apple is never a horse)",
    ),
});

/** How a scene parser's mask tags join the first tag model's tags (TAGMAP_TAG_MODELS). */
export const MASK_FUSE_MODES = ['max', 'mean'] as const;

export const maskTagsSchema = z.strictObject({
  scale: z
    .number()
    .min(LIMITS.scale.min)
    .max(LIMITS.scale.max)
    .describe("the parser's scale in combined tags, relative to its card's shortSide"),
  pool: scorePoolingSchema.describe("how a label's summed probabilities over the cells become its mask score"),
  minShare: z.number().min(0).max(1).describe("a mask's tag needs at least this share of the cells (argmax)"),
  agreement: z
    .number()
    .min(0)
    .max(1)
    .describe("a label with `agree` also needs the tagger's summed score of those classes to reach this"),
  fuse: z
    .enum(MASK_FUSE_MODES)
    .describe("a label both models have: the higher score, or their mean (the tagger's alone when the gate fails)"),
});

export const vocabularySchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().min(1),
    labels: z.array(photoLabelSchema).min(1),
    ignore: z.array(classRef).default([]).describe('raw classes that are never tags'),
    unlisted: z
      .enum(['keep', 'ignore'])
      .default('keep')
      .describe('raw classes in no label and not ignored: kept as tags under their own name, or never tags'),
    mask: maskTagsSchema
      .optional()
      .describe("a scene parser's vocabulary: how its masks join the tagger's tags in a combined tag request"),
  })
  .superRefine((vocabulary, ctx) => {
    const seen = new Map<string, string>();
    vocabulary.labels.forEach((label, index) => {
      for (const [field, word] of [['name', label.name], ...label.aliases.map((a) => ['aliases', a])]) {
        const key = word.toLowerCase();
        const other = seen.get(key);
        if (other !== undefined)
          ctx.addIssue({ code: 'custom', path: ['labels', index, field], message: `"${word}" is also ${other}` });
        else seen.set(key, `a name or alias of label ${index} ("${label.name}")`);
      }
    });
  });

export type VocabularyCategory = (typeof VOCABULARY_CATEGORIES)[number];
export type PhotoLabel = z.infer<typeof photoLabelSchema>;
export type Vocabulary = z.infer<typeof vocabularySchema>;
export type MaskTagsSettings = z.infer<typeof maskTagsSchema>;
export type MaskFuseMode = (typeof MASK_FUSE_MODES)[number];
