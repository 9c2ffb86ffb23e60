// The mapping file of `npm run measure-parse --map FILE`: which data-set class each model class counts as, for a
// model whose classes are not the data set's. Many model classes may map to one data-set class; a model class
// mapped to null, or not listed, is unmapped. `merge` joins data-set classes into one scored class on the truth
// side (e.g. MSRC-21's face and body into one "person"), so that one model class can be right on both.
//
// Scoring with a mapping: the scored classes are the ones the mapping reaches (the distinct targets). Truth
// pixels of a class it does not reach (e.g. MSRC-21's grass for a VOC model) are not scored, except that a scored
// class predicted on them is a false positive in that class's IoU. A pixel predicted as an unmapped model class
// is a wrong prediction (`"unmapped": "wrong"`, the default: it lowers the truth class's recall and the global
// accuracy) or is left out of the scores (`"unmapped": "ignore"`).
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export class MappingError extends Error {
  override name = 'MappingError';
}

const mappingSchema = z.strictObject({
  description: z.string().optional(),
  model: z.string().optional().describe('the model whose classes are mapped, for the reader'),
  dataset: z.string().optional().describe('the data set whose classes they map to, for the reader'),
  unmapped: z
    .enum(['wrong', 'ignore'])
    .default('wrong')
    .describe('a pixel predicted as an unmapped model class: a wrong prediction, or not scored'),
  merge: z
    .record(z.string().min(1), z.array(z.string().min(1)).min(2, 'merge at least two data-set classes'))
    .default({})
    .describe('scored class name -> the data-set classes whose truth pixels it stands for'),
  classes: z
    .record(z.string().min(1), z.string().min(1).nullable())
    .refine((classes) => Object.values(classes).some((target) => target !== null), 'map at least one class'),
});

export interface Scoring {
  /** where it came from: the file, or null for the by-name default */
  file: string | null;
  description?: string;
  unmapped: 'wrong' | 'ignore';
  /** the scored classes, in data-set order (a merged class where its first member was) */
  scored: string[];
  /** scored class -> the data-set classes it stands for, where that is more than itself */
  merged: Record<string, string[]>;
  /** model class name -> scored class name, or null when unmapped */
  modelClasses: Record<string, string | null>;
  /** data-set classes whose truth pixels are not scored (the mapping does not reach them) */
  unscored: string[];
  /** data-set id (0-255) -> scored index; -1 not scored (outside the mapping), -2 void or out of range */
  truth: Int32Array;
  /** model id (0-255) -> scored index; -1 unmapped */
  predicted: Int32Array;
}

interface Label {
  id: number;
  name: string;
}

/** Without a mapping: model classes match data-set classes by name, and every data-set class is scored. */
export function byName(datasetClasses: Label[], ignore: number, modelLabels: Label[]): Scoring {
  const index = new Map(datasetClasses.map((l, i) => [l.name, i]));
  const truth = new Int32Array(256).fill(-2);
  datasetClasses.forEach((l, i) => {
    if (l.id !== ignore && l.id >= 0 && l.id < datasetClasses.length) truth[l.id] = i;
  });
  const predicted = new Int32Array(256).fill(-1);
  const modelClasses: Record<string, string | null> = {};
  for (const label of modelLabels) {
    predicted[label.id] = index.get(label.name) ?? -1;
    modelClasses[label.name] = index.has(label.name) ? label.name : null;
  }
  return {
    file: null,
    unmapped: 'wrong',
    scored: datasetClasses.map((l) => l.name),
    merged: {},
    modelClasses,
    unscored: [],
    truth,
    predicted,
  };
}

/** Reads a mapping file against the data set's and the model's classes; every problem is a MappingError. */
export function readMapping(file: string, datasetClasses: Label[], ignore: number, modelLabels: Label[]): Scoring {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MappingError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const parsed = mappingSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new MappingError(`${file}: ${issues.join('; ')}`);
  }
  const { description, unmapped, merge, classes } = parsed.data;
  const datasetNames = datasetClasses.map((l) => l.name);
  const list = (names: string[]) => names.map((n) => `"${n}"`).join(', ');

  // the scored class of each data-set class: its merge, or itself
  const scoredOf = new Map(datasetNames.map((n) => [n, n]));
  for (const [into, members] of Object.entries(merge)) {
    const unknown = members.filter((n) => !datasetNames.includes(n));
    if (unknown.length > 0) {
      throw new MappingError(
        `${file}: merge.${into}: ${list(unknown)} not a class of the data set (its classes: ${datasetNames.join(', ')})`,
      );
    }
    const twice = members.filter((n) => scoredOf.get(n) !== n);
    if (twice.length > 0) throw new MappingError(`${file}: merge.${into}: ${list(twice)} already merged`);
    if (datasetNames.includes(into) && !members.includes(into)) {
      throw new MappingError(`${file}: merge.${into}: a data-set class of that name is not among its members`);
    }
    for (const n of members) scoredOf.set(n, into);
  }

  const modelNames = new Set(modelLabels.map((l) => l.name));
  const notModel = Object.keys(classes).filter((n) => !modelNames.has(n));
  if (notModel.length > 0) {
    throw new MappingError(
      `${file}: ${list(notModel)} not a class of the model (its classes: ${[...modelNames].join(', ')})`,
    );
  }
  const targets = new Set([...scoredOf.values()]);
  const merged = new Set(Object.values(merge).flat());
  const badTargets = Object.values(classes).filter(
    (t): t is string => t !== null && (!targets.has(t) || (merged.has(t) && scoredOf.get(t) !== t)),
  );
  if (badTargets.length > 0) {
    throw new MappingError(
      `${file}: ${list([...new Set(badTargets)])} not a data-set class nor a merge (scored classes can be: ${[...targets].join(', ')})`,
    );
  }

  const reached = new Set(Object.values(classes).filter((t): t is string => t !== null));
  const scored = [...new Set(datasetNames.map((n) => scoredOf.get(n)!))].filter((n) => reached.has(n));
  const index = new Map(scored.map((n, i) => [n, i]));
  const truth = new Int32Array(256).fill(-2);
  for (const l of datasetClasses) {
    if (l.id === ignore || l.id < 0 || l.id >= datasetClasses.length) continue;
    truth[l.id] = index.get(scoredOf.get(l.name)!) ?? -1;
  }
  const predicted = new Int32Array(256).fill(-1);
  const modelClasses: Record<string, string | null> = {};
  for (const label of modelLabels) {
    const target = classes[label.name] ?? null;
    modelClasses[label.name] = target;
    if (target !== null) predicted[label.id] = index.get(target)!;
  }
  return {
    file,
    description,
    unmapped,
    scored,
    merged: Object.fromEntries(Object.entries(merge).filter(([into]) => reached.has(into))),
    modelClasses,
    unscored: datasetNames.filter((n) => !reached.has(scoredOf.get(n)!)),
    truth,
    predicted,
  };
}
