// tag(): per class, the class map pooled into a score; the best candidates with where they are.
import type { TagOptions } from '../contract/options.ts';
import type { TagResult } from '../contract/results.ts';
import { resolveTag, type ResolvedTag } from '../runtime/options.ts';
import { modelRefOf, timingsOf } from '../runtime/run.ts';
import { photoTagsFromMap } from './photo-tags.ts';
import { tagsFromMap } from './tag-scores.ts';
import type { Task } from './task.ts';

export const tagTask: Task<TagOptions, ResolvedTag, TagResult> = {
  cardTask: 'tag',
  labelMap: false,
  resolve: resolveTag,
  answer(ran, request) {
    const { result, entry } = ran;
    const dense = { data: result.map, classes: result.classes, rows: result.grid.rows, cols: result.grid.cols };
    const { card } = entry;
    const { photo } = request;
    const tags = photo
      ? photoTagsFromMap(dense, card.output.kind, result.grid, ran.plan.image, card.labels, { ...request, photo })
      : tagsFromMap(dense, card.output.kind, result.grid, ran.plan.image, card.labels, request);
    return { model: modelRefOf(entry), plan: ran.plan, timings: timingsOf(ran), tags };
  },
};
