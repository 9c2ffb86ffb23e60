// Tag scores: softmax over classes per cell, then each class's cells pooled (max / mean / topk), filtered, ranked.
import { describe, expect, it } from 'vitest';
import type { Card, ScorePooling as Pool } from '../../../model/contract/index.ts';
import type { DenseMap } from '../../../model/runtime/densemap.ts';
import type { CellGrid } from '../../../model/runtime/layout.ts';
import { probabilities, tagsFromMap, type TagRequest } from '../../../model/tasks/tag-scores.ts';

/** one row of cells, each 1 px wide and wholly inside a `cols` x 1 image */
function rowGrid(cols: number): CellGrid {
  return { rows: 1, cols, originX: 0.5, originY: 0.5, stepX: 1, stepY: 1, windowWidth: 1, windowHeight: 1 };
}

function labels(n: number): Card['labels'] {
  return Array.from({ length: n }, (_, id) => ({ id, name: `c${id}` }));
}

/** a 1-row map (probabilities or logits) from its class planes */
function rowMap(planes: number[][]): DenseMap {
  return { data: Float32Array.from(planes.flat()), classes: planes.length, rows: 1, cols: planes[0].length };
}

/** [id, score] of each tag, best first */
function scores(planes: number[][], kind: 'logits' | 'probabilities', request: Partial<TagRequest>) {
  const map = rowMap(planes);
  const all = planes.map((_, k) => k);
  const full: TagRequest = { pool: 'max', topK: 10, minScore: 0, candidates: all, ...request };
  const tags = tagsFromMap(map, kind, rowGrid(map.cols), { width: map.cols, height: 1 }, labels(planes.length), full);
  return tags.map((t) => [t.id, Number(t.score.toFixed(6))]);
}

// 20 cells: 0.05 .. 0.95 shuffled, and a tiny value that sorts last as a number but first as text
// prettier-ignore
const twenty = [0.4, 1e-7, 0.95, 0.1, 0.3, 0.75, 0.5, 0.05, 0.9, 0.2,
  0.65, 0.15, 0.8, 0.35, 0.55, 0.25, 0.85, 0.6, 0.45, 0.7];
const four = [0.1, 0.2, 0.9, 0.4];
const eleven = [...Array(9).fill(0.1), 0.6, 0.8];

// prettier-ignore
const poolCases: [string, Pool, number[], number][] = [
  ["max pooling takes the best cell's probability", 'max', four, 0.9],
  ['mean pooling averages every cell', 'mean', four, 0.4],
  ['topk pooling of under ten cells is the best cell', 'topk', four, 0.9],
  ['topk pooling of 20 cells averages the best two, sorted as numbers', 'topk', twenty, (0.95 + 0.9) / 2],
  ['topk pooling of 11 cells rounds the tenth up to two', 'topk', eleven, 0.7],
  ['max pooling of 20 cells', 'max', twenty, 0.95],
  ['mean pooling of 20 cells', 'mean', twenty, twenty.reduce((a, b) => a + b) / 20],
];

// 0.25 is exact in float32, so minScore 0.25 meets a score of exactly 0.25
const three = [
  [0.1, 0.1],
  [0.6, 0.6],
  [0.25, 0.25],
];

// prettier-ignore
const rankCases: [string, number[][], Partial<TagRequest>, number[][]][] = [
  ['tags are ranked by score, best first, ties in candidate order', [[0.2, 0.2], [0.5, 0.3], [0.3, 0.5]], {},
    [[1, 0.5], [2, 0.5], [0, 0.2]]],
  ['topK keeps only the best tags', three, { topK: 2 }, [[1, 0.6], [2, 0.25]]],
  ['minScore drops tags below it and keeps one equal to it', three, { minScore: 0.25 }, [[1, 0.6], [2, 0.25]]],
  ['only candidate classes are scored', three, { candidates: [0, 2] }, [[2, 0.25], [0, 0.1]]],
  ['no tag passes a high minScore', three, { minScore: 0.9 }, []],
];

// prettier-ignore
const softmaxCases: [string, number[][], number[][]][] = [
  ['softmax turns two logits into probabilities per cell', [[Math.log(3), 0], [0, Math.log(3)]],
    [[0.75, 0.25], [0.25, 0.75]]],
  ['equal logits share the probability evenly', [[2, -1], [2, -1], [2, -1], [2, -1]],
    [[0.25, 0.25], [0.25, 0.25], [0.25, 0.25], [0.25, 0.25]]],
  ['huge logits do not overflow', [[1000, -1000], [1000, -1000 + Math.log(3)]], [[0.5, 0.25], [0.5, 0.75]]],
  ['a constant added to every class leaves the cell unchanged', [[Math.log(3) + 50], [50]], [[0.75], [0.25]]],
];

describe('score pooling', () => {
  it.each(poolCases)('%s', (_name, pool, plane, expected) => {
    const other = plane.map((p) => 1 - p);
    expect(scores([plane, other], 'probabilities', { pool, candidates: [0] })).toEqual([[0, +expected.toFixed(6)]]);
  });

  it.each(rankCases)('%s', (_name, planes, request, expected) => {
    expect(scores(planes, 'probabilities', request)).toEqual(expected);
  });
});

describe('probabilities', () => {
  it.each(softmaxCases)('%s', (_name, planes, expected) => {
    const out = probabilities(rowMap(planes), 'logits');
    expect(out).toHaveLength(expected.flat().length);
    expected.flat().forEach((p, n) => expect(out[n], `value ${n}`).toBeCloseTo(p, 5));
  });

  it('probabilities pass through unchanged', () => {
    const map = rowMap(three);
    expect(probabilities(map, 'probabilities')).toBe(map.data);
  });

  it('tags from a logit map are pooled after softmax', () => {
    const logits = [
      [Math.log(3), 0],
      [0, 0],
    ];
    expect(scores(logits, 'logits', { pool: 'mean' })).toEqual([
      [0, 0.625],
      [1, 0.375],
    ]);
  });
});

describe('logit-mean pooling', () => {
  // two cells, three classes: mean logits [1, 0, ln 2 - 1]
  const logits = [
    [2, 0],
    [0, 0],
    [Math.log(2), Math.log(2) - 2],
  ];
  const meanLogits = [1, 0, Math.log(2) - 1];
  const softmax = (v: number[]) => v.map((x) => Math.exp(x) / v.reduce((s, y) => s + Math.exp(y), 0));

  it('is the softmax of the mean logits over the cells', () => {
    const expected = softmax(meanLogits).map((p, id) => [id, +p.toFixed(6)]);
    expect(scores(logits, 'logits', { pool: 'logit-mean' })).toEqual(expected.sort((a, b) => b[1] - a[1]));
  });

  it('scores every class against all classes, not only the candidates', () => {
    expect(scores(logits, 'logits', { pool: 'logit-mean', candidates: [1] })).toEqual([
      [1, +softmax(meanLogits)[1].toFixed(6)],
    ]);
  });

  it('on a probability map it is the same as on the logits behind it (the normalised geometric mean)', () => {
    const cellProbs = [0, 1].map((c) => softmax(logits.map((plane) => plane[c])));
    const probabilityPlanes = logits.map((_, k) => cellProbs.map((cell) => cell[k]));
    expect(scores(probabilityPlanes, 'probabilities', { pool: 'logit-mean' })).toEqual(
      scores(logits, 'logits', { pool: 'logit-mean' }),
    );
  });

  it('of one cell equals that cell’s probabilities', () => {
    const one = [[3], [1], [0]];
    const expected = softmax([3, 1, 0]).map((p, id) => [id, +p.toFixed(6)]);
    expect(scores(one, 'logits', { pool: 'logit-mean' })).toEqual(expected);
  });
});
