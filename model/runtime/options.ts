// Request options checked against the contract's ranges (model/contract/options.ts), then against the card:
// topK at most its labels, density dividing its stride, maxSide at least its window. Missing values come from
// the card's defaults, then the contract's. Every bad value is a 'bad_options' or 'unknown_label' error that
// says what is allowed.
import type { z } from 'zod';
import type { Card } from '../contract/card.ts';
import { TagmapError } from '../contract/errors.ts';
import {
  DEFAULTS,
  LIMITS,
  parseOptionsSchema,
  runOptionsSchema,
  tagOptionsSchema,
  type FuseMode,
  type ParseFormat,
  type ParseOptions,
  type RunOptions,
  type ScorePooling,
  type TagOptions,
} from '../contract/options.ts';
import { checkDensity } from './layout.ts';
import { photoCandidates, rawAllowed, type ResolveContext } from './vocabulary-options.ts';
import type { LoadedVocabulary, VocabularyLabel } from './vocabulary.ts';

export interface ResolvedRun {
  scales: number[];
  maxSide: number;
  density: number;
  fuse: FuseMode;
}

export interface ResolvedTag extends ResolvedRun {
  topK: number;
  minScore: number;
  pool: ScorePooling;
  /** label ids allowed as tags, in id order (vocabulary raw) */
  candidates: number[];
  /** vocabulary photo: the labels allowed as tags, and the vocabulary whose labels compete for cells */
  photo?: { labels: VocabularyLabel[]; vocabulary: LoadedVocabulary };
}

export interface ResolvedParse extends ResolvedRun {
  format: ParseFormat;
}

const bad = (message: string, details?: Record<string, unknown>) => new TagmapError('bad_options', message, details);

/** The contract's own checks, for in-process callers (the server has parsed its requests already). */
function parsed<S extends z.ZodType>(schema: S, options: unknown): z.output<S> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path, message: i.message, code: i.code }));
  const detail = issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
  throw bad(detail, { issues });
}

function resolved(options: RunOptions, card: Card, maxSideLimit: number): ResolvedRun {
  const scales = options.scales ?? card.defaults?.scales ?? [...DEFAULTS.scales];
  const minMaxSide = card.geometry.window;
  const maxSide = options.maxSide ?? maxSideLimit;
  if (maxSide < minMaxSide || maxSide > maxSideLimit) {
    throw bad(`maxSide must be a whole number of px from ${minMaxSide} (the model's window) to ${maxSideLimit}`, {
      maxSide,
    });
  }
  const density = options.density ?? DEFAULTS.density;
  checkDensity(density, card.geometry.stride);
  const fuse = options.fuse ?? DEFAULTS.fuse;
  return { scales: [...new Set(scales)].sort((a, b) => a - b), maxSide, density, fuse };
}

export function resolveRun(options: RunOptions, card: Card, maxSideLimit: number): ResolvedRun {
  return resolved(parsed(runOptionsSchema, options), card, maxSideLimit);
}

export function resolveParse(options: ParseOptions, card: Card, maxSideLimit: number): ResolvedParse {
  const checked = parsed(parseOptionsSchema, options);
  return { ...resolved(checked, card, maxSideLimit), format: checked.format ?? DEFAULTS.format };
}

function labelIds(names: string[] | undefined, card: Card, field: string): number[] | undefined {
  if (names === undefined) return undefined;
  const byName = new Map(card.labels.map((l) => [l.name, l.id]));
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length > 0) {
    const examples = card.labels.slice(0, 5).map((l) => l.name);
    const listed = unknown.map((n) => `"${n}"`).join(', ');
    throw new TagmapError(
      'unknown_label',
      `${field}: model "${card.name}" has no label ${listed}; ` +
        `its labels include ${examples.join(', ')} (see /v1/models/${card.name})`,
      { unknown, examples },
    );
  }
  return names.map((n) => byName.get(n)!);
}

const NO_LISTS: ResolveContext = { tagsAllow: [], tagsDeny: [] };

export function resolveTag(
  options: TagOptions,
  card: Card,
  maxSideLimit: number,
  context: ResolveContext = NO_LISTS,
): ResolvedTag {
  const checked = parsed(tagOptionsSchema, options);
  const run = resolved(checked, card, maxSideLimit);
  const topK = checked.topK ?? card.defaults?.topK ?? DEFAULTS.topK;
  if (topK > card.labels.length) {
    throw bad(`topK must be a whole number from ${LIMITS.topK.min} to ${card.labels.length} (the model's labels)`, {
      topK,
    });
  }
  const minScore = checked.minScore ?? card.defaults?.minScore ?? DEFAULTS.minScore;
  const pool = checked.pool ?? card.defaults?.pool ?? DEFAULTS.pool;
  const { vocabulary } = context;
  const mode = checked.vocabulary ?? (vocabulary ? 'photo' : 'raw');
  if (mode === 'photo') {
    if (!vocabulary) throw bad(`vocabulary must be raw for model "${card.name}": its card names no photo vocabulary`);
    // a label's threshold stands in for the default minScore: a request that gives minScore decides alone
    const found = photoCandidates(checked, card, { ...context, vocabulary });
    const labels = checked.minScore === undefined ? found : found.map((label) => ({ ...label, threshold: 0 }));
    return { ...run, topK, minScore, pool, candidates: [], photo: { labels, vocabulary } };
  }

  const include = labelIds(checked.include, card, 'include');
  const exclude = new Set(labelIds(checked.exclude, card, 'exclude') ?? []);
  // the background class is not a tag unless asked for by name
  const base = include ?? card.labels.map((l) => l.id).filter((id) => id !== card.background);
  const kept = [...new Set(base)].filter((id) => !exclude.has(id)).sort((a, b) => a - b);
  const candidates = rawAllowed(kept, card, context);
  return { ...run, topK, minScore, pool, candidates };
}
