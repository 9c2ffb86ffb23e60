// Tags from a dense class map: per-cell probabilities pooled per class (or the cells' logits averaged), then
// where each tag is (peak cell, box of the connected cells around it, share of cells it wins), in original image
// coordinates.
import type { Box, Tag } from '../contract/results.ts';
import type { Card, OutputKind } from '../contract/card.ts';
import type { ScorePooling } from '../contract/options.ts';
import type { DenseMap } from '../runtime/densemap.ts';
import type { CellGrid } from '../runtime/layout.ts';

type ProbabilityPooling = Exclude<ScorePooling, 'logit-mean'>;

/** 'topk' pooling averages the best tenth of the cells (at least one). */
const TOPK_SHARE = 0.1;
/** a tag's box holds the cells connected to its peak whose probability is at least this share of the peak's */
const BOX_THRESHOLD = 0.5;
/**
 * Scores, peaks and coverage use the cells whose window is at least this much image: border cells that
 * mostly see padding are there so that parse labels every pixel, but their class guesses are unreliable.
 */
const MIN_WINDOW_INSIDE = 0.5;

export interface TagRequest {
  topK: number;
  minScore: number;
  pool: ScorePooling;
  candidates: number[];
}

/**
 * Softmax over classes for every cell; probabilities pass through unchanged. The map is class-major
 * ([K][cells]), so every loop runs along one class plane: contiguous, and several times faster than per cell.
 */
export function probabilities(map: DenseMap, kind: OutputKind): Float32Array {
  if (kind === 'probabilities') return map.data;
  const cells = map.rows * map.cols;
  const max = new Float32Array(cells).fill(-Infinity);
  const sum = new Float64Array(cells);
  const out = new Float32Array(map.data.length);
  for (let k = 0; k < map.classes; k++) {
    for (let c = 0, i = k * cells; c < cells; c++, i++) if (map.data[i] > max[c]) max[c] = map.data[i];
  }
  for (let k = 0; k < map.classes; k++) {
    for (let c = 0, i = k * cells; c < cells; c++, i++) {
      const e = Math.exp(map.data[i] - max[c]);
      out[i] = e;
      sum[c] += e;
    }
  }
  for (let k = 0; k < map.classes; k++) {
    for (let c = 0, i = k * cells; c < cells; c++, i++) out[i] /= sum[c];
  }
  return out;
}

/** Indices of the cells whose window lies at least MIN_WINDOW_INSIDE inside the image (all cells if none does). */
export function insideCells(grid: CellGrid, image: { width: number; height: number }): Int32Array {
  // floored at 0: a window wholly outside on both axes must not multiply two negatives into a share
  const inside = (centre: number, window: number, size: number) =>
    Math.max(0, Math.min(size, centre + window / 2) - Math.max(0, centre - window / 2)) / window;
  const cells: number[] = [];
  for (let i = 0; i < grid.rows; i++) {
    const y = inside(grid.originY + i * grid.stepY, grid.windowHeight, image.height);
    for (let j = 0; j < grid.cols; j++) {
      if (y * inside(grid.originX + j * grid.stepX, grid.windowWidth, image.width) >= MIN_WINDOW_INSIDE)
        cells.push(i * grid.cols + j);
    }
  }
  return cells.length > 0 ? Int32Array.from(cells) : Int32Array.from({ length: grid.rows * grid.cols }, (_, c) => c);
}

/**
 * 'logit-mean': per class, the mean of its logits over the used cells, then a softmax over the classes. For a
 * global-average-pool + linear head, that is the original classifier on the whole image. A probability map
 * gives its log-probabilities, which differ from logits by one constant per cell: the same answer for a
 * softmax's probabilities, and for any map the normalised geometric mean of the cells' probabilities.
 */
function logitMeanScores(map: DenseMap, kind: OutputKind, used: Int32Array): Float64Array {
  const cells = map.rows * map.cols;
  const mean = new Float64Array(map.classes);
  for (let k = 0; k < map.classes; k++) {
    let total = 0;
    for (const c of used) {
      const v = map.data[k * cells + c];
      total += kind === 'logits' ? v : Math.log(Math.max(v, Number.MIN_VALUE));
    }
    mean[k] = total / used.length;
  }
  const max = Math.max(...mean);
  let sum = 0;
  for (let k = 0; k < map.classes; k++) sum += mean[k] = Math.exp(mean[k] - max);
  for (let k = 0; k < map.classes; k++) mean[k] /= sum;
  return mean;
}

/** One class's score: its probabilities over the used cells, pooled; `scratch` holds used.length values. */
function pooled(plane: Float32Array, used: Int32Array, pool: ProbabilityPooling, scratch: Float32Array): number {
  if (pool === 'max') {
    let best = -Infinity;
    for (const c of used) if (plane[c] > best) best = plane[c];
    return best;
  }
  if (pool === 'mean') {
    let total = 0;
    for (const c of used) total += plane[c];
    return total / used.length;
  }
  for (let n = 0; n < used.length; n++) scratch[n] = plane[used[n]];
  scratch.sort();
  const k = Math.max(1, Math.ceil(used.length * TOPK_SHARE));
  let total = 0;
  for (let n = used.length - k; n < used.length; n++) total += scratch[n];
  return total / k;
}

/** Index of the best class per cell. */
function winners(probs: Float32Array, classes: number, cells: number): Int32Array {
  const best = new Int32Array(cells);
  const bestP = probs.slice(0, cells);
  for (let k = 1; k < classes; k++) {
    for (let c = 0, i = k * cells; c < cells; c++, i++) {
      if (probs[i] > bestP[c]) {
        bestP[c] = probs[i];
        best[c] = k;
      }
    }
  }
  return best;
}

/** Bounding cells of the 4-connected region around `start` where plane >= threshold. */
function regionAround(plane: Float32Array, rows: number, cols: number, start: number, threshold: number) {
  const seen = new Uint8Array(rows * cols);
  const stack = [start];
  seen[start] = 1;
  let [top, bottom, left, right] = [rows, -1, cols, -1];
  while (stack.length > 0) {
    const cell = stack.pop()!;
    const i = Math.floor(cell / cols);
    const j = cell % cols;
    top = Math.min(top, i);
    bottom = Math.max(bottom, i);
    left = Math.min(left, j);
    right = Math.max(right, j);
    const neighbours = [
      i > 0 ? cell - cols : -1,
      i < rows - 1 ? cell + cols : -1,
      j > 0 ? cell - 1 : -1,
      j < cols - 1 ? cell + 1 : -1,
    ];
    for (const n of neighbours) {
      if (n >= 0 && !seen[n] && plane[n] >= threshold) {
        seen[n] = 1;
        stack.push(n);
      }
    }
  }
  return { top, bottom, left, right };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** Each cell stands for the area half a step around its centre; boxes are clipped to the image. */
function cellsToBox(
  region: { top: number; bottom: number; left: number; right: number },
  grid: CellGrid,
  image: { width: number; height: number },
): Box {
  const x0 = clamp(Math.floor(grid.originX + (region.left - 0.5) * grid.stepX), 0, image.width);
  const x1 = clamp(Math.ceil(grid.originX + (region.right + 0.5) * grid.stepX), 0, image.width);
  const y0 = clamp(Math.floor(grid.originY + (region.top - 0.5) * grid.stepY), 0, image.height);
  const y1 = clamp(Math.ceil(grid.originY + (region.bottom + 0.5) * grid.stepY), 0, image.height);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** What raw and photo tags both need from one class map: probability planes, the cells that vote, and scores. */
export function scoringOf(
  map: DenseMap,
  kind: OutputKind,
  grid: CellGrid,
  image: { width: number; height: number },
  pool: ScorePooling,
) {
  const cells = map.rows * map.cols;
  const probs = probabilities(map, kind);
  const plane = (k: number) => probs.subarray(k * cells, (k + 1) * cells);
  const used = insideCells(grid, image);
  const scratch = new Float32Array(used.length);
  const logitMean = pool === 'logit-mean' ? logitMeanScores(map, kind, used) : undefined;
  /** a plane pooled over the used cells (any pooling but logit-mean) */
  const overCells = (p: Float32Array) => pooled(p, used, pool as ProbabilityPooling, scratch);
  const classScore = (id: number) => (logitMean ? logitMean[id] : overCells(plane(id)));
  /** an upper bound of overCells(p): every probability pooling is at most the plane's largest used value */
  const boundOf = (p: Float32Array) => {
    let best = -Infinity;
    for (const c of used) if (p[c] > best) best = p[c];
    return best;
  };
  return { cells, probs, plane, used, logitMean, overCells, classScore, boundOf };
}

export interface Ranked<T> {
  item: T;
  score: number;
}

export interface Ranking<T> {
  topK: number;
  /** an upper bound of score(item), cheaper to compute */
  bound: (item: T) => number;
  score: (item: T) => number;
  /** the least score an item may keep; an item whose bound is below it is never scored */
  floor: (item: T) => number;
  /** any further test once the score is known (a coverage) */
  keep?: (item: T, score: number) => boolean;
  /** orders equal scores (then the items' order does) */
  tie?: (a: T, b: T) => number;
}

/**
 * The `topK` best items at or above their floor, highest score first, as scoring every item, filtering and
 * sorting would give them, but scoring only those that can still be among them. Items go in order of an upper
 * bound of their score: one whose bound is under its floor is skipped, and once topK are kept, the first whose
 * bound is under the K-th score ends the search. Pooling a probability plane costs a sort of its cells, its
 * bound (the largest cell) a scan: with a thousand classes, most are never pooled.
 */
export function bestByBound<T>(items: T[], ranking: Ranking<T>): Ranked<T>[] {
  const { topK, bound, score, floor, keep = () => true, tie = () => 0 } = ranking;
  if (topK < 1) return [];
  const bounds = items.map((item, n) => ({ item, n, bound: bound(item) })).sort((a, b) => b.bound - a.bound);
  const kept: Array<Ranked<T> & { n: number }> = [];
  const byRank = (a: Ranked<T> & { n: number }, b: Ranked<T> & { n: number }) =>
    b.score - a.score || tie(a.item, b.item) || a.n - b.n;
  for (const { item, n, bound: upper } of bounds) {
    if (kept.length >= topK && upper < kept[topK - 1].score) break;
    const least = floor(item);
    if (upper < least) continue;
    const value = score(item);
    if (value < least || !keep(item, value)) continue;
    kept.push({ item, n, score: value });
    kept.sort(byRank);
  }
  return kept.slice(0, topK).map(({ item, score: value }) => ({ item, score: value }));
}

/** Where a tag is: the centre of its plane's best used cell, and the box of the cells around it. */
export function placeOf(
  p: Float32Array,
  used: Int32Array,
  map: DenseMap,
  grid: CellGrid,
  image: { width: number; height: number },
): Pick<Tag, 'peak' | 'box'> {
  let peakCell = used[0];
  for (const c of used) if (p[c] > p[peakCell]) peakCell = c;
  const i = Math.floor(peakCell / map.cols);
  const j = peakCell % map.cols;
  return {
    peak: {
      x: clamp(Math.round(grid.originX + j * grid.stepX), 0, image.width - 1),
      y: clamp(Math.round(grid.originY + i * grid.stepY), 0, image.height - 1),
    },
    box: cellsToBox(regionAround(p, map.rows, map.cols, peakCell, p[peakCell] * BOX_THRESHOLD), grid, image),
  };
}

export function tagsFromMap(
  map: DenseMap,
  kind: OutputKind,
  grid: CellGrid,
  image: { width: number; height: number },
  labels: Card['labels'],
  request: TagRequest,
): Tag[] {
  const { cells, probs, plane, used, logitMean, classScore, boundOf } = scoringOf(map, kind, grid, image, request.pool);
  const scored = bestByBound(request.candidates, {
    topK: request.topK,
    bound: (id) => (logitMean ? logitMean[id] : boundOf(plane(id))),
    score: classScore,
    floor: () => request.minScore,
  }).map(({ item: id, score }) => ({ id, score }));
  if (scored.length === 0) return [];

  const best = winners(probs, map.classes, cells);
  return scored.map(({ id, score }) => {
    const wins = used.reduce((n, c) => n + (best[c] === id ? 1 : 0), 0);
    const label = labels[id];
    return {
      label: label.name,
      id,
      score,
      coverage: wins / used.length,
      ...placeOf(plane(id), used, map, grid, image),
      parents: label.parents ?? [],
    };
  });
}
