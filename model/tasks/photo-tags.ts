// Photo tags from a dense class map: a photo label's plane is the sum of its member classes' probabilities in
// every cell (three breeds at 0.2 make "dog" 0.6), pooled as the request asks; its coverage, peak and box come
// from that summed plane. Each tag names its categories and the best raw classes behind it.
import type { Card, OutputKind } from '../contract/card.ts';
import type { Tag } from '../contract/results.ts';
import type { DenseMap } from '../runtime/densemap.ts';
import type { CellGrid } from '../runtime/layout.ts';
import type { LoadedVocabulary, VocabularyLabel } from '../runtime/vocabulary.ts';
import { bestByBound, placeOf, scoringOf, type TagRequest } from './tag-scores.ts';

/** How many raw classes a photo tag lists. */
const CLASSES_SHOWN = 5;

export type PhotoRequest = Omit<TagRequest, 'candidates'> & {
  /** the labels that may be tags, and the vocabulary whose labels compete for each cell */
  photo: { labels: VocabularyLabel[]; vocabulary: Pick<LoadedVocabulary, 'labels'> };
};

/** The broader names every member shares, nearest first; those above the label's own name when it is one. */
function sharedParents(label: VocabularyLabel, labels: Card['labels']): string[] {
  const chains = label.members.map((id) => labels[id].parents ?? []);
  const common = chains[0].filter((name) => chains.every((chain) => chain.includes(name)));
  return common.slice(common.indexOf(label.name) + 1);
}

export function photoTagsFromMap(
  map: DenseMap,
  kind: OutputKind,
  grid: CellGrid,
  image: { width: number; height: number },
  labels: Card['labels'],
  request: PhotoRequest,
): Tag[] {
  return photoTagsAndSums(map, kind, grid, image, labels, request, []).tags;
}

/** The photo tags, and the pooled score of each extra set of classes (a combined request's agreement gates). */
export function photoTagsAndSums(
  map: DenseMap,
  kind: OutputKind,
  grid: CellGrid,
  image: { width: number; height: number },
  labels: Card['labels'],
  request: PhotoRequest,
  sets: number[][],
): { tags: Tag[]; sums: number[] } {
  const { cells, plane, used, logitMean, overCells, classScore, boundOf } = scoringOf(
    map,
    kind,
    grid,
    image,
    request.pool,
  );

  const sumOf = (members: number[]): Float32Array => {
    if (members.length === 1) return plane(members[0]);
    const out = new Float32Array(cells);
    for (const id of members) {
      const p = plane(id);
      for (let c = 0; c < cells; c++) out[c] += p[c];
    }
    return out;
  };
  const sum = (label: VocabularyLabel) => sumOf(label.members);
  // every label's plane is needed for the cell winners; summed once, by name (request labels may be copies)
  const planes = new Map(request.photo.vocabulary.labels.map((label) => [label.name, sum(label)]));
  const summed = (label: VocabularyLabel) => planes.get(label.name) ?? sum(label);
  // members' probabilities sum to at most 1; float rounding may step past it
  const scoreOfMembers = (members: number[], p: Float32Array) =>
    Math.min(1, logitMean ? members.reduce((total, id) => total + logitMean[id], 0) : overCells(p));
  const scoreOf = (label: VocabularyLabel, p: Float32Array) => scoreOfMembers(label.members, p);

  // a cell is the label's when no label of the vocabulary sums to more there
  const bestSum = new Float32Array(cells);
  for (const p of planes.values()) {
    for (let c = 0; c < cells; c++) if (p[c] > bestSum[c]) bestSum[c] = p[c];
  }
  const coverageOf = (p: Float32Array) => used.reduce((n, c) => n + (p[c] >= bestSum[c] ? 1 : 0), 0) / used.length;

  const kept = bestByBound(
    request.photo.labels.map((label) => ({ label, p: summed(label) })),
    {
      topK: request.topK,
      bound: ({ label, p }) => (logitMean ? scoreOf(label, p) : boundOf(p)),
      score: ({ label, p }) => scoreOf(label, p),
      floor: ({ label }) => Math.max(request.minScore, label.threshold),
      keep: ({ label, p }) => coverageOf(p) >= (label.minCoverage ?? 0),
      tie: (a, b) => b.label.priority - a.label.priority,
    },
  );

  const tags = kept.map(({ item: { label, p }, score }): Tag => {
    const coverage = coverageOf(p);
    const classes = label.members
      .map((id) => ({ label: labels[id].name, id, score: classScore(id) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, CLASSES_SHOWN);
    return {
      label: label.name,
      id: classes[0].id,
      score,
      coverage,
      ...placeOf(p, used, map, grid, image),
      parents: sharedParents(label, labels),
      categories: label.categories,
      classes,
      ...(label.finer && { finer: classes[0].label }),
    };
  });
  return { tags, sums: sets.map((members) => scoreOfMembers(members, sumOf(members))) };
}
