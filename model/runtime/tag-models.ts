// Which models a tag request that names none combines (settings.tagModels): a tagger with a photo vocabulary
// first, then scene parsers whose vocabularies say how their masks join (vocabulary.mask). Checked at start-up;
// each parser label's `agree` words are resolved here to the tagger's class ids once.
import type { MaskTagsSettings } from '../contract/vocabulary.ts';
import { ModelLoadError, type ModelEntry } from './registry.ts';

export interface MaskMember {
  entry: ModelEntry;
  mask: MaskTagsSettings;
  /** parser label name -> the tagger's class ids whose summed score must reach mask.agreement */
  gates: Map<string, number[]>;
}

export interface TagModels {
  tagger: ModelEntry;
  /** empty: the tagger alone, as a request that names it */
  parsers: MaskMember[];
}

/** The bundled pair: MobileNetV2's photo tags joined by the VOC parser's masks (people, furniture, vehicles). */
const DEFAULT_PAIR = ['imagenet', 'voc'];

/** The tagger's classes whose own name or one of whose WordNet parents is one of `words`. */
function agreeingClasses(tagger: ModelEntry, words: string[]): number[] {
  const wanted = new Set(words.map((w) => w.toLowerCase()));
  return tagger.card.labels
    .filter((l) => [l.name, ...(l.parents ?? [])].some((name) => wanted.has(name.toLowerCase())))
    .map((l) => l.id);
}

function maskMember(entry: ModelEntry, tagger: ModelEntry): MaskMember {
  const where = `tagModels: "${entry.name}"`;
  const mask = entry.vocabulary?.mask;
  if (!mask)
    throw new ModelLoadError(where, 'a model after the first must have a vocabulary with a "mask" section (a parser)');
  const gates = new Map<string, number[]>();
  for (const label of entry.vocabulary!.labels) {
    if (!label.agree) continue;
    const ids = agreeingClasses(tagger, label.agree);
    if (ids.length === 0)
      throw new ModelLoadError(
        entry.vocabulary!.file,
        `label "${label.name}": agree ${JSON.stringify(label.agree)} names no class of tagger "${tagger.name}"`,
      );
    gates.set(label.name, ids);
  }
  return { entry, mask, gates };
}

/**
 * The combination: the named models in order, or by default imagenet and voc when both are loaded and the
 * default model was not set to another one; otherwise the default model alone.
 */
export function tagModelsOf(
  entries: ModelEntry[],
  defaultName: string,
  wanted: string[] | undefined,
  defaultWanted: string | undefined,
): TagModels {
  const byName = new Map(entries.map((e) => [e.name, e]));
  if (!wanted) {
    const pair = DEFAULT_PAIR.map((name) => byName.get(name));
    const usable = pair.every((e) => e) && pair[1]!.vocabulary?.mask && (defaultWanted ?? defaultName) === 'imagenet';
    wanted = usable ? DEFAULT_PAIR : [defaultName];
  }
  const models = wanted.map((name) => {
    const entry = byName.get(name);
    if (!entry)
      throw new ModelLoadError(
        'tagModels',
        `"${name}" is not a loaded model (loaded: ${[...byName.keys()].join(', ')})`,
      );
    return entry;
  });
  const [tagger, ...rest] = models;
  if (!tagger.card.tasks.includes('tag'))
    throw new ModelLoadError('tagModels', `the first model, "${tagger.name}", must be meant for tags`);
  if (rest.length > 0 && !tagger.vocabulary)
    throw new ModelLoadError('tagModels', `the first model, "${tagger.name}", needs a photo vocabulary to combine`);
  return { tagger, parsers: rest.map((entry) => maskMember(entry, tagger)) };
}
