// A card's vocabulary file, read and checked against the card's classes at load time: every member and ignored
// class must name exactly one class (by WordNet id or name). A bad file stops start-up, naming file and field.
import type { Card } from '../contract/card.ts';
import { vocabularySchema, type MaskTagsSettings, type VocabularyCategory } from '../contract/vocabulary.ts';
import { readCheckedJson } from './json-file.ts';

/** A photo label with its members as class ids; `listed: false` for a raw class kept under its own name. */
export interface VocabularyLabel {
  name: string;
  categories: VocabularyCategory[];
  members: number[];
  threshold: number;
  priority: number;
  aliases: string[];
  finer?: boolean;
  minCoverage?: number;
  agree?: string[];
  listed: boolean;
}

export interface LoadedVocabulary {
  file: string;
  name: string;
  /** the file's labels, then (when unlisted classes are kept) one per class in no label and not ignored */
  labels: VocabularyLabel[];
  /** class ids that are never tags */
  ignore: Set<number>;
  /** a scene parser's: how its masks join a combined tag request */
  mask?: MaskTagsSettings;
}

export class VocabularyError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'VocabularyError';
  }
}

const WNID = /^n\d{8}$/;

/** Looks up a member by WordNet id or name; undefined when it names no class, or several. */
function classFinder(card: Card) {
  const byKey = new Map<string, number[]>();
  const add = (key: string, id: number) => byKey.set(key, [...(byKey.get(key) ?? []), id]);
  for (const label of card.labels) {
    add(label.name, label.id);
    if (label.wnid) add(label.wnid, label.id);
  }
  return (ref: string, where: string): number | string => {
    const ids = byKey.get(ref) ?? [];
    if (ids.length === 1) return ids[0];
    const model = `model ${card.name}`;
    if (ids.length > 1)
      return `${where}: "${ref}" names ${ids.length} classes of ${model} (ids ${ids.join(', ')}); use the WordNet id`;
    const hint = WNID.test(ref) && !card.labels.some((l) => l.wnid) ? ' (its labels carry no wnid)' : '';
    return `${where}: "${ref}" is not a class of model ${card.name}${hint}`;
  };
}

export async function loadVocabulary(file: string, card: Card): Promise<LoadedVocabulary> {
  const vocabulary = await readCheckedJson(
    file,
    vocabularySchema,
    'vocabulary',
    (detail) => new VocabularyError(file, detail),
  );
  const find = classFinder(card);
  const problems: string[] = [];
  const ids = (refs: string[], field: string) =>
    refs.flatMap((ref, index) => {
      const found = find(ref, `${field}.${index}`);
      if (typeof found === 'number') return [found];
      problems.push(found);
      return [];
    });
  const ignore = new Set(ids(vocabulary.ignore, 'ignore'));
  const labels: VocabularyLabel[] = vocabulary.labels.map((label, index) => {
    const members = [...new Set(ids(label.members, `labels.${index}.members`))];
    const ignored = members.filter((id) => ignore.has(id)).map((id) => `"${card.labels[id].name}"`);
    if (ignored.length > 0) problems.push(`labels.${index}.members: ${ignored.join(', ')} also in ignore`);
    return { ...label, members, listed: true };
  });
  if (problems.length > 0) throw new VocabularyError(file, problems.join('; '));

  if (vocabulary.unlisted === 'keep') {
    const listed = new Set(labels.flatMap((l) => l.members));
    for (const { id, name } of card.labels) {
      if (id === card.background || listed.has(id) || ignore.has(id)) continue;
      labels.push({ name, categories: [], members: [id], threshold: 0, priority: 0, aliases: [], listed: false });
    }
  }
  return { file, name: vocabulary.name, labels, ignore, mask: vocabulary.mask };
}
