// The mapping file of `npm run measure-tags`: which model labels stand for each data-set class. A class's score
// in an image is the best score of its labels. The labels are named as the model's tags name them: its raw
// classes by default, or, when `options` select a vocabulary (e.g. {"vocabulary": "photo"}), that
// vocabulary's labels; `options` are sent with every tag request. Only the classes listed are evaluated.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { LIMITS } from '../../model/index.ts';

export class MappingError extends Error {
  override name = 'MappingError';
}

const mappingSchema = z.strictObject({
  description: z.string().optional(),
  dataset: z.string().optional().describe('the data set whose classes are mapped, for the reader'),
  model: z.string().min(1).optional().describe('the model whose labels are named; the default for --model'),
  options: z
    .record(z.string(), z.unknown())
    .optional()
    .describe('tag options sent with every request, e.g. {"vocabulary": "photo"} to name photo labels'),
  classes: z
    .record(z.string(), z.array(z.string().min(1, 'a label name is needed')).min(1, 'name at least one label'))
    .refine((classes) => Object.keys(classes).length > 0, 'map at least one class'),
});

export interface Mapping {
  file: string;
  description?: string;
  model?: string;
  options: Record<string, unknown>;
  /** data-set class name -> the model labels whose best score is its score */
  classes: Map<string, string[]>;
  /** every label named, once, as the tag requests' `include` */
  labels: string[];
}

/** Parses a mapping file's text against the data set's class names; every problem is a MappingError. */
export function parseMapping(text: string, file: string, datasetClasses: readonly string[]): Mapping {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new MappingError(`${file}: not JSON (${(error as Error).message})`);
  }
  const parsed = mappingSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new MappingError(`${file}: ${issues.join('; ')}`);
  }
  const { classes, options, ...rest } = parsed.data;
  const unknown = Object.keys(classes).filter((name) => !datasetClasses.includes(name));
  if (unknown.length > 0) {
    throw new MappingError(
      `${file}: ${unknown.map((n) => `"${n}"`).join(', ')} not a class of the data set ` +
        `(its classes: ${datasetClasses.join(', ')})`,
    );
  }
  const labels = [...new Set(Object.values(classes).flat())];
  if (labels.length > LIMITS.labels.count) {
    throw new MappingError(`${file}: names ${labels.length} labels, at most ${LIMITS.labels.count} can be scored`);
  }
  const map = new Map(Object.entries(classes).map(([name, names]) => [name, [...new Set(names)]]));
  return { file, ...rest, options: options ?? {}, classes: map, labels };
}

export function readMapping(file: string, datasetClasses: readonly string[]): Mapping {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new MappingError(`cannot read the mapping file ${file}: ${(error as Error).message}`);
  }
  return parseMapping(text, file, datasetClasses);
}

/** The mapping cut down to the named classes (e.g. --classes), each of which it must map. */
export function selectClasses(mapping: Mapping, names: string[]): Mapping {
  const missing = names.filter((name) => !mapping.classes.has(name));
  if (missing.length > 0) {
    throw new MappingError(
      `${mapping.file} does not map ${missing.map((n) => `"${n}"`).join(', ')} ` +
        `(it maps ${[...mapping.classes.keys()].join(', ')})`,
    );
  }
  const classes = new Map(names.map((name) => [name, mapping.classes.get(name)!]));
  return { ...mapping, classes, labels: [...new Set([...classes.values()].flat())] };
}
