// Request options resolved against the card's defaults and the global settings, and checked: every bad
// value is a 'bad_options' or 'unknown_label' error that says what is allowed.
import type { RunOptions, TagOptions } from '../api.ts';
import type { Card, Pool } from '../contract/card.ts';
import { TagmapError } from '../contract/errors.ts';
import { checkDensity } from './size-plan.ts';

export const MAX_SCALES = 4;
export const SCALE_RANGE = [0.25, 4] as const;
export const DEFAULT_TOP_K = 5;
export const DEFAULT_MIN_SCORE = 0.1;

export interface ResolvedRun {
  scales: number[];
  maxSide: number;
  density: number;
  fuse: 'mean' | 'max';
}

export interface ResolvedTag extends ResolvedRun {
  topK: number;
  minScore: number;
  pool: Pool;
  /** label ids allowed as tags, in id order */
  candidates: number[];
}

const bad = (message: string, details?: Record<string, unknown>) => new TagmapError('bad_options', message, details);

export function resolveRun(options: RunOptions, card: Card, maxSideLimit: number): ResolvedRun {
  const scales = options.scales ?? card.defaults?.scales ?? [1];
  if (!Array.isArray(scales) || scales.length < 1 || scales.length > MAX_SCALES ||
    !scales.every((s) => typeof s === 'number' && s >= SCALE_RANGE[0] && s <= SCALE_RANGE[1])) {
    throw bad(`scales must be 1 to ${MAX_SCALES} numbers between ${SCALE_RANGE[0]} and ${SCALE_RANGE[1]}`, { scales });
  }
  const minMaxSide = card.geometry.window;
  const maxSide = options.maxSide ?? maxSideLimit;
  if (!Number.isInteger(maxSide) || maxSide < minMaxSide || maxSide > maxSideLimit) {
    throw bad(`maxSide must be a whole number of px from ${minMaxSide} (the model's window) to ${maxSideLimit}`, { maxSide });
  }
  const density = options.density ?? 1;
  checkDensity(density, card.geometry.stride);
  const fuse = options.fuse ?? 'mean';
  if (fuse !== 'mean' && fuse !== 'max') throw bad('fuse must be mean or max', { fuse });
  return { scales: [...new Set(scales)].sort((a, b) => a - b), maxSide, density, fuse };
}

function labelIds(names: string[] | undefined, card: Card, field: string): number[] | undefined {
  if (names === undefined) return undefined;
  if (!Array.isArray(names)) throw bad(`${field} must be a list of label names`);
  const byName = new Map(card.labels.map((l) => [l.name, l.id]));
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length > 0) {
    const examples = card.labels.slice(0, 5).map((l) => l.name);
    throw new TagmapError('unknown_label',
      `${field}: model "${card.name}" has no label ${unknown.map((n) => `"${n}"`).join(', ')}; its labels include ${examples.join(', ')} (see /v1/models/${card.name})`,
      { unknown, examples });
  }
  return names.map((n) => byName.get(n)!);
}

export function resolveTag(options: TagOptions, card: Card, maxSideLimit: number): ResolvedTag {
  const run = resolveRun(options, card, maxSideLimit);
  const topK = options.topK ?? card.defaults?.topK ?? DEFAULT_TOP_K;
  if (!Number.isInteger(topK) || topK < 1 || topK > card.labels.length) {
    throw bad(`topK must be a whole number from 1 to ${card.labels.length} (the model's labels)`, { topK });
  }
  const minScore = options.minScore ?? card.defaults?.minScore ?? DEFAULT_MIN_SCORE;
  if (typeof minScore !== 'number' || !(minScore >= 0 && minScore <= 1)) throw bad('minScore must be a number from 0 to 1', { minScore });
  const pool = options.pool ?? card.defaults?.pool ?? 'max';
  if (!['max', 'mean', 'topk'].includes(pool)) throw bad('pool must be max, mean or topk', { pool });

  const include = labelIds(options.include, card, 'include');
  const exclude = new Set(labelIds(options.exclude, card, 'exclude') ?? []);
  // the background class is not a tag unless asked for by name
  const base = include ?? card.labels.map((l) => l.id).filter((id) => id !== card.background);
  const candidates = [...new Set(base)].filter((id) => !exclude.has(id)).sort((a, b) => a - b);
  return { ...run, topK, minScore, pool, candidates };
}
