// npm run make-vocabulary [-- --model imagenet] [--thresholds FILE]: writes model/zoo/MODEL/vocabulary.json,
// tagmap's photo vocabulary, from the hand-written labels (scripts/vocabulary/photo-labels.ts), WordNet (every
// ImageNet class under a label's ancestors becomes a member) and the thresholds measured for that model
// (scripts/vocabulary/thresholds/MODEL.json). Prints what it covers and which classes no label holds.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cardSchema, vocabularySchema, type Card, type Vocabulary } from '../model/index.ts';
import { IGNORED, PHOTO_LABELS, type LabelSource } from './vocabulary/photo-labels.ts';
import { ancestorsOf, readNouns, wnidOf } from './vocabulary/wordnet-graph.ts';

const HERE = import.meta.dirname;
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'imagenet' },
    thresholds: { type: 'string' },
    wordnet: { type: 'string', default: '/usr/share/wordnet' },
  },
});
const modelDir = path.join(HERE, '../model/zoo', values.model);
const out = path.join(modelDir, 'vocabulary.json');
const thresholdsFile = values.thresholds ?? path.join(HERE, 'vocabulary/thresholds', `${values.model}.json`);

const fail = (message: string): never => {
  console.error(`make-vocabulary: ${message}`);
  process.exit(1);
};

const card: Card = cardSchema.parse(JSON.parse(readFileSync(path.join(modelDir, 'card.json'), 'utf8')));
const classes = card.labels.filter((l) => l.id !== card.background && l.wnid);
const nouns = readNouns(values.wordnet);
const ancestors = new Map(classes.map((c) => [c.wnid!, ancestorsOf(nouns, Number(c.wnid!.slice(1)))]));

/** A class by ImageNet name or WordNet id. */
function classRef(ref: string, label: string): string {
  const found = classes.filter((c) => c.wnid === ref || c.name === ref);
  if (found.length !== 1) fail(`${label}: "${ref}" names ${found.length} classes (write its WordNet id)`);
  return found[0].wnid!;
}

/** An ancestor by WordNet id or lemma: the one synset of that lemma above some class. */
function ancestorRef(ref: string, label: string): number {
  if (/^n\d{8}$/.test(ref)) return Number(ref.slice(1));
  const above = new Set([...ancestors.values()].flatMap((set) => [...set]));
  const found = [...above].filter((offset) => nouns.get(offset)!.lemmas.includes(ref));
  const glosses = found.map((offset) => `${wnidOf(offset)}: ${nouns.get(offset)!.gloss.slice(0, 60)}`);
  if (found.length !== 1) fail(`${label}: ancestor "${ref}" is ${found.length} synsets (${glosses.join('; ')})`);
  return found[0];
}

const ignored = new Set(IGNORED.map((name) => classRef(name, 'ignore')));
const taken = new Map<string, string>();
const claim = (wnid: string, label: string) => {
  if (!ignored.has(wnid) && !taken.has(wnid)) taken.set(wnid, label);
};
// explicit classes first, then ancestors in list order: a class goes to the first label that claims it
for (const label of PHOTO_LABELS) for (const ref of label.classes ?? []) claim(classRef(ref, label.name), label.name);
for (const label of PHOTO_LABELS) {
  for (const ref of label.under ?? []) {
    const offset = ancestorRef(ref, label.name);
    for (const c of classes) if (ancestors.get(c.wnid!)!.has(offset)) claim(c.wnid!, label.name);
  }
}

const thresholds: Record<string, number> = JSON.parse(readFileSync(thresholdsFile, 'utf8'));
const labelOf = (source: LabelSource): Vocabulary['labels'][number] => {
  const members = classes.map((c) => c.wnid!).filter((wnid) => taken.get(wnid) === source.name);
  if (members.length === 0) fail(`${source.name}: no class left for it`);
  return {
    name: source.name,
    categories: source.categories,
    members,
    threshold: thresholds[source.name] ?? thresholds.default ?? 0,
    priority: source.priority ?? 0,
    aliases: source.aliases ?? [],
    ...(source.finer !== undefined && { finer: source.finer }),
    ...(source.minCoverage !== undefined && { minCoverage: source.minCoverage }),
  };
};

const vocabulary = vocabularySchema.parse({
  name: 'imagenet-photo',
  description:
    "tagmap's photo labels for the 1000 ImageNet classes, keyed by WordNet id; made by npm run make-vocabulary",
  labels: PHOTO_LABELS.map(labelOf),
  ignore: [...ignored],
  unlisted: 'keep',
});
writeFileSync(out, `${JSON.stringify(vocabulary, null, 1)}\n`);

const unlisted = classes.filter((c) => !taken.has(c.wnid!) && !ignored.has(c.wnid!));
const categories = new Set(vocabulary.labels.flatMap((l) => l.categories));
console.log(
  `${out}: ${vocabulary.labels.length} labels in ${categories.size} categories, ` +
    `${taken.size} of ${classes.length} classes members, ${ignored.size} ignored, ${unlisted.length} unlisted ` +
    '(kept as tags under their own names)',
);
if (unlisted.length > 0) console.log(`unlisted: ${unlisted.map((c) => c.name).join(', ')}`);
