// A vocabulary file: the words people tag photos with, each gathering some of a model's raw classes (ImageNet's
// 120 dog breeds become "dog"). A card names one (card.vocabulary); the registry checks it at load time.
import { z } from 'zod';

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

/** How a request names its tags: photo labels from the model's vocabulary, or the model's own classes. */
export const VOCABULARY_MODES = ['photo', 'raw'] as const;

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
export type VocabularyMode = (typeof VOCABULARY_MODES)[number];
export type PhotoLabel = z.infer<typeof photoLabelSchema>;
export type Vocabulary = z.infer<typeof vocabularySchema>;
