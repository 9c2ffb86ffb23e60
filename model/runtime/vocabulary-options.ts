// Which labels may be tags: a request's include and exclude, and the server's allow and deny lists, applied to
// photo labels (names and aliases, any case) or to raw classes (a class matches by its name or by the name of a
// photo label that holds it).
import type { Card } from '../contract/card.ts';
import { TagmapError } from '../contract/errors.ts';
import type { LoadedVocabulary, VocabularyLabel } from './vocabulary.ts';

/** The settings' lists; empty allow: everything. */
interface TagLists {
  tagsAllow: string[];
  tagsDeny: string[];
}

export interface ResolveContext extends TagLists {
  vocabulary?: LoadedVocabulary;
}

export const wordsOf = (label: VocabularyLabel) => [label.name, ...label.aliases].map((w) => w.toLowerCase());

/** Passes when allow is empty or names it, and deny does not. */
const allowedBy = (lists: TagLists, words: string[]) => {
  const listed = (list: string[]) => list.some((w) => words.includes(w.toLowerCase()));
  return (lists.tagsAllow.length === 0 || listed(lists.tagsAllow)) && !listed(lists.tagsDeny);
};

function labelsNamed(names: string[] | undefined, vocabulary: LoadedVocabulary, card: Card, field: string) {
  if (names === undefined) return undefined;
  const found = names.map((name) => vocabulary.labels.filter((l) => wordsOf(l).includes(name.toLowerCase())));
  const unknown = names.filter((_, i) => found[i].length === 0);
  if (unknown.length > 0) {
    const examples = vocabulary.labels.slice(0, 5).map((l) => l.name);
    throw new TagmapError(
      'unknown_label',
      `${field}: the vocabulary of model "${card.name}" has no label ${unknown.map((n) => `"${n}"`).join(', ')}; ` +
        `its labels include ${examples.join(', ')} (or ask for vocabulary=raw)`,
      { unknown, examples },
    );
  }
  return new Set(found.flat());
}

/** The photo labels a request may get as tags, in the vocabulary's order. */
export function photoCandidates(
  request: { include?: string[]; exclude?: string[] },
  card: Card,
  context: ResolveContext & { vocabulary: LoadedVocabulary },
): VocabularyLabel[] {
  const { vocabulary } = context;
  const include = labelsNamed(request.include, vocabulary, card, 'include');
  const exclude = labelsNamed(request.exclude, vocabulary, card, 'exclude') ?? new Set();
  return vocabulary.labels.filter(
    (label) => (include?.has(label) ?? true) && !exclude.has(label) && allowedBy(context, wordsOf(label)),
  );
}

/** Raw class ids that the settings' lists let through. */
export function rawAllowed(ids: number[], card: Card, context: ResolveContext): number[] {
  if (context.tagsAllow.length === 0 && context.tagsDeny.length === 0) return ids;
  const holders = new Map<number, string[]>();
  for (const label of context.vocabulary?.labels ?? [])
    for (const id of label.members) holders.set(id, [...(holders.get(id) ?? []), ...wordsOf(label)]);
  return ids.filter((id) => allowedBy(context, [card.labels[id].name.toLowerCase(), ...(holders.get(id) ?? [])]));
}
