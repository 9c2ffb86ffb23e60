// Where a tag is: the cells used for scores (windows at least half inside), coverage, peak and box.
import { describe, expect, it } from 'vitest';
import type { ScorePooling as Pool } from '../../../model/contract/index.ts';
import type { DenseMap } from '../../../model/runtime/densemap.ts';
import type { CellGrid } from '../../../model/runtime/layout.ts';
import { insideCells, tagsFromMap } from '../../../model/tasks/tag-scores.ts';

type Size = { width: number; height: number };

/** square cells `step` apart with square windows */
function grid(rows: number, cols: number, originX: number, originY: number, step: number, window: number): CellGrid {
  return { rows, cols, originX, originY, stepX: step, stepY: step, windowWidth: window, windowHeight: window };
}

/** 3x3 cells of 4 px, wholly inside a 12 x 12 image: cell (i, j) covers x 4j..4j+4, y 4i..4i+4 */
const nine = grid(3, 3, 2, 2, 4, 4);
const twelve = { width: 12, height: 12 };
/** a row of five cells at x = -1, 1, 3, 5, 7 with 4 px windows on a 6 x 4 image: only cells 1..3 are half inside */
const five = grid(1, 5, -1, 2, 2, 4);
const sixByFour = { width: 6, height: 4 };
/** cells at x = 0.4, 3.1, 5.8 with 2 px wide, 1 px high windows on a 1 px high image */
const row: CellGrid = { ...grid(1, 3, 0.4, 0.5, 2.7, 2), windowHeight: 1 };
// prettier-ignore
const labels = [{ id: 0, name: 'zero', parents: ['thing'] }, { id: 1, name: 'one' }, { id: 2, name: 'two' }];

/** the tag of class `id` where class 0 is `plane`, class 1 its complement and class 2 (when `classes` is 3) 0.05 */
function tagOf(plane: number[], at: CellGrid, image: Size, id = 0, pool: Pool = 'max', classes = 2) {
  const planes = [plane, plane.map((p) => 1 - p), plane.map(() => 0.05)].slice(0, classes);
  const map: DenseMap = { data: Float32Array.from(planes.flat()), classes, rows: at.rows, cols: at.cols };
  const request = { pool, topK: 1, minScore: 0, candidates: [id] };
  return tagsFromMap(map, 'probabilities', at, image, labels.slice(0, classes), request)[0];
}

// prettier-ignore
const insideCases: [string, CellGrid, Size, number[]][] = [
  ['every cell counts when every window is inside', nine, twelve, [0, 1, 2, 3, 4, 5, 6, 7, 8]],
  ['border cells whose window is under half image are left out', five, sixByFour, [1, 2, 3]],
  ['a window exactly half inside counts', grid(1, 4, 0, 2, 2, 4), sixByFour, [0, 1, 2, 3]],
  ['the share inside is the product of the x and y shares (0.6 x 0.8 < 0.5)', grid(1, 2, 1, 3, 4, 10),
    { width: 10, height: 10 }, [1]],
  ['rows are left out like columns', grid(3, 1, 3, -1, 2, 4), sixByFour, [1, 2]],
  ['when no window is half inside, every cell is used', grid(1, 2, -3, 2, 1, 4), sixByFour, [0, 1]],
  ['a window wholly outside on both axes is outside (shares floored at 0, not multiplied as negatives)',
    grid(2, 2, 2, 2, 20, 4), { width: 4, height: 4 }, [0]],
];

const split = [0.9, 0.9, 0.1, 0.9, 0.5, 0.1, 0.1, 0.1, 0.1];
// prettier-ignore
const coverageCases: [string, number[], CellGrid, Size, number, number, number][] = [
  ['coverage is the share of cells a class wins, a tie going to the lower id', split, nine, twelve, 0, 2, 4 / 9],
  ['the other class wins the rest', split, nine, twelve, 1, 2, 5 / 9],
  ['a class that wins no cell covers nothing', split, nine, twelve, 2, 3, 0],
  ['coverage counts only the used cells', [0.9, 0.9, 0.1, 0.9, 0.9], five, sixByFour, 0, 2, 2 / 3],
];

// prettier-ignore
const peakCases: [string, number[], CellGrid, Size, { x: number; y: number }][] = [
  ['the peak is the centre of the best cell', [0, 0, 0, 0, 0, 0.9, 0, 0, 0], nine, twelve, { x: 10, y: 6 }],
  ['equal best cells: the first in row-major order', [0, 0.8, 0, 0.8, 0, 0, 0, 0, 0], nine, twelve, { x: 6, y: 2 }],
  ['the peak rounds to the nearest pixel', [0, 0.9, 0], row, { width: 8, height: 1 }, { x: 3, y: 0 }],
  ['the peak rounds up past half a pixel', [0, 0, 0.9], row, { width: 8, height: 1 }, { x: 6, y: 0 }],
  ['the peak is clamped to the last pixel', [0, 0, 0.9], row, { width: 6, height: 1 }, { x: 5, y: 0 }],
];

const corners = grid(3, 3, 1, 1, 4, 4);
const centre = [0, 0, 0, 0, 0.8, 0, 0, 0, 0];
// [x, y, width, height]
// prettier-ignore
const boxCases: [string, number[], CellGrid, Size, number[]][] = [
  ['a lone peak cell boxes its own cell', centre, nine, twelve, [4, 4, 4, 4]],
  ['a neighbour at exactly half the peak joins', [0, 0, 0, 0, 0.8, 0.4, 0, 0, 0], nine, twelve, [4, 4, 8, 4]],
  ['a neighbour under half the peak does not', [0, 0, 0, 0, 0.8, 0.39, 0, 0, 0], nine, twelve, [4, 4, 4, 4]],
  ['a diagonal cell is not connected', [0, 0, 0, 0, 0.8, 0, 0, 0, 0.8], nine, twelve, [4, 4, 4, 4]],
  ['the region grows along chains and the box bounds it', [0.9, 0.6, 0.5, 0, 0, 0.5, 0, 0, 0.5], nine, twelve,
    [0, 0, 12, 12]],
  ['a cell under half the peak breaks the chain', [0.9, 0.6, 0.4, 0, 0, 0.5, 0, 0, 0.5], nine, twelve, [0, 0, 8, 4]],
  ['the box is clipped to the image at the top left', [0.8, 0, 0, 0, 0, 0, 0, 0, 0], corners, { width: 10, height: 10 },
    [0, 0, 3, 3]],
  ['the box is clipped to the image at the bottom right', [0, 0, 0, 0, 0, 0, 0, 0, 0.8], corners,
    { width: 10, height: 10 }, [7, 7, 3, 3]],
  ['fractional cell edges round outwards', centre, grid(3, 3, 1.3, 1.3, 2.5, 2.5), { width: 8, height: 8 },
    [2, 2, 4, 4]],
];

describe('insideCells', () => {
  it.each(insideCases)('%s', (_name, at, image, expected) => {
    expect([...insideCells(at, image)]).toEqual(expected);
  });
});

describe('coverage, peak and box', () => {
  it.each(coverageCases)('%s', (_name, plane, at, image, id, classes, expected) => {
    expect(tagOf(plane, at, image, id, 'max', classes).coverage).toBeCloseTo(expected, 6);
  });

  it.each<[Pool, number]>([
    ['max', 0.4],
    ['mean', 0.3],
    ['topk', 0.4],
  ])('%s pooling and the peak skip border cells', (pool, score) => {
    const tag = tagOf([0.99, 0.2, 0.3, 0.4, 0.99], five, sixByFour, 0, pool);
    expect(tag.score).toBeCloseTo(score, 6);
    expect(tag.peak).toEqual({ x: 5, y: 2 });
  });

  it.each(peakCases)('%s', (_name, plane, at, image, peak) => {
    expect(tagOf(plane, at, image).peak).toEqual(peak);
  });

  it.each(boxCases)('%s', (_name, plane, at, image, [x, y, width, height]) => {
    expect(tagOf(plane, at, image).box).toEqual({ x, y, width, height });
  });

  it('a tag names its label and carries its parents, or none', () => {
    const tags = [tagOf(centre, nine, twelve, 0), tagOf(centre, nine, twelve, 1)];
    expect(tags.map((t) => [t.id, t.label, t.parents])).toEqual([
      [0, 'zero', ['thing']],
      [1, 'one', []],
    ]);
  });
});
