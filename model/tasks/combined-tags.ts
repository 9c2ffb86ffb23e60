// A tag request that names no model, when the settings combine several (tagModels): the tagger's photo tags,
// joined by each scene parser's mask tags. A mask's tag needs a share of the cells, and, for labels that the
// tagger also knows (its vocabulary's `agree` words), the tagger's own agreement, so that a confidently wrong
// mask (an apple parsed as a horse) never becomes a tag. A label both models give takes the two scores fused
// (vocabulary.mask.fuse), the mask's place and the parser vocabulary's threshold. Every tag names the models
// behind it.
import { performance } from 'node:perf_hooks';
import { TagmapError } from '../contract/errors.ts';
import type { TagOptions } from '../contract/options.ts';
import type { Tag, TagResult } from '../contract/results.ts';
import type { MaskTagsSettings } from '../contract/vocabulary.ts';
import type { DenseMap } from '../runtime/densemap.ts';
import { resolveTag, type ResolvedTag } from '../runtime/options.ts';
import type { ModelEntry } from '../runtime/registry.ts';
import { modelRefOf, type Ran, type Runner } from '../runtime/run.ts';
import type { MaskMember, TagModels } from '../runtime/tag-models.ts';
import { wordsOf, type ResolveContext } from '../runtime/vocabulary-options.ts';
import type { VocabularyLabel } from '../runtime/vocabulary.ts';
import { photoTagsAndSums } from './photo-tags.ts';

type Evidence = NonNullable<Tag['models']>[number];

interface Candidate {
  tag: Tag & { models: Evidence[] };
  threshold: number;
}

const knows = (entry: ModelEntry, name: string) =>
  entry.vocabulary!.labels.some((label) => wordsOf(label).includes(name.toLowerCase()));

/** include and exclude split by the models whose vocabularies know each name; a name none knows is refused. */
function namesFor(models: ModelEntry[], options: TagOptions) {
  for (const field of ['include', 'exclude'] as const) {
    const unknown = (options[field] ?? []).filter((name) => !models.some((m) => knows(m, name)));
    if (unknown.length > 0)
      throw new TagmapError(
        'unknown_label',
        `${field}: no label ${unknown.map((n) => `"${n}"`).join(', ')} in the vocabularies of the combined ` +
          `models (${models.map((m) => m.name).join(', ')}); name a model, or ask for vocabulary=raw`,
        { unknown },
      );
  }
  return (entry: ModelEntry) => ({
    include: options.include?.filter((name) => knows(entry, name)),
    exclude: options.exclude?.filter((name) => knows(entry, name)),
  });
}

/** Every allowed label scored, thresholds off: the combination applies them after joining. */
/**
 * The request for a model's share of a combined answer: every label may be a tag, whatever the topK, since the
 * join and its thresholds come after. A label in `open` (every label when not given) is scored whatever its
 * score, as a joined label's evidence; the others' floor stays their threshold (and minScore), which the joined
 * answer applies to them anyway, so that most of a thousand labels need no pooling.
 */
function everyLabel(request: ResolvedTag, open?: Set<string>) {
  const photo = request.photo!;
  const labels = photo.labels.map((label) => ({
    ...label,
    threshold: !open || open.has(label.name) ? 0 : Math.max(request.minScore, label.threshold),
  }));
  return { ...request, topK: Math.max(1, labels.length), minScore: 0, photo: { ...photo, labels } };
}

const denseOf = (ran: Ran): DenseMap => ({
  data: ran.result.map,
  classes: ran.result.classes,
  rows: ran.result.grid.rows,
  cols: ran.result.grid.cols,
});

/** Per label, the share of cells whose best class (background included) is one of its members. */
function maskShares(map: DenseMap, labels: VocabularyLabel[]): Map<string, number> {
  const cells = map.rows * map.cols;
  const wins = new Int32Array(map.classes);
  for (let c = 0; c < cells; c++) {
    let best = 0;
    for (let k = 1; k < map.classes; k++) if (map.data[k * cells + c] > map.data[best * cells + c]) best = k;
    wins[best]++;
  }
  return new Map(labels.map((l) => [l.name, l.members.reduce((n, id) => n + wins[id], 0) / cells]));
}

/**
 * Whether a parser's mask tag joins, and its label's score then: the mask needs `minShare` of the cells and, for
 * a gated label, the tagger's `agreement`; a label the tagger also scored takes the fused score. Undefined: the
 * mask does not count (the tagger's score stands alone). Pure, so that scripts/measure-tag-models.ts can replay
 * it over recorded scores.
 */
export function maskVerdict(
  mask: Pick<MaskTagsSettings, 'minShare' | 'agreement' | 'fuse'>,
  evidence: { share: number; score: number; agreement?: number; taggerScore?: number },
): number | undefined {
  if (evidence.share < mask.minShare || (evidence.agreement ?? 1) < mask.agreement) return undefined;
  const { score, taggerScore } = evidence;
  if (taggerScore === undefined) return score;
  return mask.fuse === 'max' ? Math.max(score, taggerScore) : (score + taggerScore) / 2;
}

interface Runs {
  tagger: { ran: Ran; request: ResolvedTag };
  parsers: Array<{ member: MaskMember; ran: Ran; request: ResolvedTag }>;
}

/** The tagger's tags, then each parser's mask tags that pass their gates, joined by label name. */
function joined({ tagger, parsers }: Runs, gates: number[][]): Map<string, Candidate> {
  const { card } = tagger.ran.entry;
  const parserLabels = new Set(parsers.flatMap(({ request }) => request.photo!.labels.map((label) => label.name)));
  const { tags, sums } = photoTagsAndSums(
    denseOf(tagger.ran),
    card.output.kind,
    tagger.ran.result.grid,
    tagger.ran.plan.image,
    card.labels,
    everyLabel(tagger.request, parserLabels),
    gates,
  );
  const thresholds = new Map(tagger.request.photo!.labels.map((l) => [l.name, l.threshold]));
  const byName = new Map<string, Candidate>(
    tags.map((tag) => [
      tag.label,
      { tag: { ...tag, models: [{ name: card.name, score: tag.score }] }, threshold: thresholds.get(tag.label)! },
    ]),
  );
  let gateIndex = 0;
  for (const { member, ran, request } of parsers) {
    const { mask, gates: gateIds, entry } = member;
    const map = denseOf(ran);
    const allowed = request.photo!.labels;
    const shares = maskShares(map, allowed);
    const agreement = new Map([...gateIds.keys()].map((name) => [name, sums[gateIndex++]]));
    const parserThresholds = new Map(allowed.map((l) => [l.name, l.threshold]));
    const maskTags = photoTagsAndSums(
      map,
      entry.card.output.kind,
      ran.result.grid,
      ran.plan.image,
      entry.card.labels,
      everyLabel(request),
      [],
    ).tags;
    for (const tag of maskTags) {
      const coverage = shares.get(tag.label) ?? 0;
      const gate = agreement.get(tag.label);
      const other = byName.get(tag.label);
      const score = maskVerdict(mask, {
        share: coverage,
        score: tag.score,
        agreement: gate,
        taggerScore: other?.tag.score,
      });
      if (score === undefined) continue;
      const evidence: Evidence = { name: entry.name, score: tag.score, ...(gate !== undefined && { agreement: gate }) };
      const place = { score, coverage, peak: tag.peak, box: tag.box };
      if (!other) {
        byName.set(tag.label, {
          tag: { ...tag, ...place, models: [evidence] },
          threshold: parserThresholds.get(tag.label)!,
        });
        continue;
      }
      // the raw classes (and finer label) of the surer model: a person the tagger barely sees is the parser's
      // "person", not ImageNet's best guess among its few people classes
      const { classes, finer } = other.tag.score >= tag.score ? other.tag : tag;
      const models = [...other.tag.models, evidence];
      const { finer: _, ...base } = other.tag;
      // a joined label's threshold is the parser vocabulary's, fitted on the fused scores
      byName.set(tag.label, {
        tag: { ...base, ...place, classes, ...(finer && { finer }), models },
        threshold: parserThresholds.get(tag.label)!,
      });
    }
  }
  return byName;
}

export async function combinedTags(
  models: TagModels,
  image: Buffer,
  options: TagOptions,
  context: { run: Runner; maxSide: number; lists: ResolveContext },
): Promise<TagResult> {
  const started = performance.now();
  const names = namesFor([models.tagger, ...models.parsers.map((p) => p.entry)], options);
  const resolve = (entry: ModelEntry, own: TagOptions) =>
    resolveTag(own, entry.card, context.maxSide, { ...context.lists, vocabulary: entry.vocabulary });
  const taggerRequest = resolve(models.tagger, { ...options, ...names(models.tagger), vocabulary: 'photo' });
  const parserRequests = models.parsers
    .map((member) => {
      const { scale, pool } = member.mask;
      const own = { ...names(member.entry), maxSide: options.maxSide, minScore: options.minScore };
      return { member, request: resolve(member.entry, { ...own, scales: [scale], pool, vocabulary: 'photo' }) };
    })
    // a request whose include names none of a parser's labels does not run it
    .filter(({ request }) => request.photo!.labels.length > 0);

  const [taggerRan, ...parserRans] = await Promise.all([
    context.run(image, models.tagger, taggerRequest, false),
    ...parserRequests.map(({ member, request }) => context.run(image, member.entry, request, false)),
  ]);
  const parsers = parserRequests.map((p, n) => ({ ...p, ran: parserRans[n] }));
  const gates = parsers.flatMap(({ member }) => [...member.gates.values()]);
  const byName = joined({ tagger: { ran: taggerRan, request: taggerRequest }, parsers }, gates);

  const tags = [...byName.values()]
    .filter(({ tag, threshold }) => tag.score >= Math.max(taggerRequest.minScore, threshold))
    .map(({ tag }) => tag)
    .sort((a, b) => b.score - a.score)
    .slice(0, taggerRequest.topK);
  const rans = [taggerRan, ...parserRans];
  const sum = (key: 'loadMs' | 'decodeMs' | 'queueMs' | 'inferMs') =>
    rans.reduce((total, r) => total + r.timings[key], 0);
  const totalMs = performance.now() - started;
  const [loadMs, decodeMs, queueMs, inferMs] = [sum('loadMs'), sum('decodeMs'), sum('queueMs'), sum('inferMs')];
  return {
    model: modelRefOf(models.tagger),
    models: rans.map((r) => modelRefOf(r.entry)),
    plan: taggerRan.plan,
    timings: {
      loadMs,
      decodeMs,
      queueMs,
      inferMs,
      postMs: Math.max(0, totalMs - loadMs - decodeMs - queueMs - inferMs),
      totalMs,
    },
    tags,
  };
}
