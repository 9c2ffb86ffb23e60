// resample: a map on one cell grid read bilinearly at the cell centres of another (clamped at the borders).
import { describe, expect, it } from 'vitest';
import { axisWeights, resample, type DenseMap } from '../../../model/runtime/densemap.ts';
import type { CellGrid } from '../../../model/runtime/layout.ts';

function dense(classes: number, rows: number, cols: number, values: number[]): DenseMap {
  return { data: Float32Array.from(values), classes, rows, cols };
}

function grid(rows: number, cols: number, originX: number, stepX: number, originY = 0, stepY = 1): CellGrid {
  return { rows, cols, originX, originY, stepX, stepY, windowWidth: 4, windowHeight: 4 };
}

/** independent reference: clamp the position to the cell range, blend the two or four cells around it */
function naiveResample(map: DenseMap, from: CellGrid, to: CellGrid): number[] {
  const at = (k: number, i: number, j: number) => map.data[(k * map.rows + i) * map.cols + j];
  const clamp = (v: number, cells: number) => Math.min(Math.max(v, 0), cells - 1);
  const out: number[] = [];
  for (let k = 0; k < map.classes; k++) {
    for (let i = 0; i < to.rows; i++) {
      for (let j = 0; j < to.cols; j++) {
        const u = clamp((to.originX + j * to.stepX - from.originX) / from.stepX, from.cols);
        const v = clamp((to.originY + i * to.stepY - from.originY) / from.stepY, from.rows);
        const [j0, i0] = [Math.floor(u), Math.floor(v)];
        const [j1, i1] = [Math.min(j0 + 1, from.cols - 1), Math.min(i0 + 1, from.rows - 1)];
        const [wx, wy] = [u - j0, v - i0];
        const top = (1 - wx) * at(k, i0, j0) + wx * at(k, i0, j1);
        const bottom = (1 - wx) * at(k, i1, j0) + wx * at(k, i1, j1);
        out.push((1 - wy) * top + wy * bottom);
      }
    }
  }
  return out;
}

function close(actual: Float32Array, expected: number[]) {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((v, n) => expect(actual[n], `value ${n}`).toBeCloseTo(v, 5));
}

// points, origin, step, cells -> i0, i1, w
// prettier-ignore
const axisCases: [string, number[], number, number, number, [number[], number[], number[]]][] = [
  ['a point on a cell centre takes that cell whole', [0, 2, 4], 0, 2, 3, [[0, 1, 2], [1, 2, 2], [0, 0, 0]]],
  ['a point between centres weighs the right cell by its distance from the left', [1, 2.5], 0, 2, 3,
    [[0, 1], [1, 2], [0.5, 0.25]]],
  ['points before the first centre or past the last clamp to the border cell', [-3, 7], 1, 2, 3,
    [[0, 2], [1, 2], [0, 0]]],
  ['a single cell takes every point', [-1, 0, 5], 0, 1, 1, [[0, 0, 0], [0, 0, 0], [0, 0, 0]]],
];

// prettier-ignore
const cases: [string, DenseMap, CellGrid, CellGrid, number[]][] = [
  ['halving the step blends neighbours and clamps past the ends', dense(1, 1, 2, [0, 10]), grid(1, 2, 0, 2),
    grid(1, 5, -1, 1), [0, 0, 5, 10, 10]],
  ['the same cells with a shifted origin are resampled, not returned as they are', dense(1, 1, 2, [0, 10]),
    grid(1, 2, 0, 2), grid(1, 2, 1, 2), [5, 10]],
  ['a shifted origin reads a quarter of the way between cells', dense(1, 1, 2, [0, 8]), grid(1, 2, 10, 4),
    grid(1, 2, 11, 2), [2, 6]],
  ['doubling the step keeps every other cell', dense(1, 1, 5, [1, 2, 3, 4, 5]), grid(1, 5, 0, 1), grid(1, 3, 0, 2),
    [1, 3, 5]],
  ['rows and columns are blended bilinearly', dense(1, 2, 2, [0, 1, 2, 3]), grid(2, 2, 0, 1, 0, 1),
    grid(3, 3, 0, 0.5, 0, 0.5), [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3]],
  ['the y axis uses its own origin and step', dense(1, 2, 1, [0, 4]), grid(2, 1, 0, 1, 0, 4),
    grid(3, 1, 0, 1, 1, 1), [1, 2, 3]],
  ['each class plane is resampled on its own', dense(2, 1, 2, [0, 2, 10, 30]), grid(1, 2, 0, 2), grid(1, 3, 0, 1),
    [0, 1, 2, 10, 20, 30]],
];

describe('axisWeights', () => {
  it.each(axisCases)('%s', (_name, points, origin, step, cells, expected) => {
    const out = axisWeights(points.length, (t) => points[t], origin, step, cells);
    expect([[...out.i0], [...out.i1], [...out.w]]).toEqual(expected);
  });
});

describe('resample', () => {
  it('returns the map itself when the grids are the same', () => {
    const map = dense(1, 1, 2, [1, 2]);
    expect(resample(map, grid(1, 2, 0, 2), grid(1, 2, 0, 2))).toBe(map);
  });

  it.each(cases)('%s', (_name, map, from, to, expected) => {
    const out = resample(map, from, to);
    expect([out.classes, out.rows, out.cols]).toEqual([map.classes, to.rows, to.cols]);
    close(out.data, expected);
  });

  it.each<[string, CellGrid, CellGrid]>([
    ['a coarse scale onto a finer grid', grid(3, 4, 1.5, 4, 2.5, 4), grid(7, 9, 0.25, 1.75, -0.5, 2)],
    ['a fine scale onto a coarser grid', grid(3, 4, 0, 1, 0, 1.5), grid(2, 2, 0.5, 2.5, 0.2, 2.7)],
  ])('matches a naive bilinear reference: %s', (_name, from, to) => {
    const values = Array.from({ length: 2 * from.rows * from.cols }, (_, n) => Math.sin(n * 1.7) * 5);
    const map = dense(2, from.rows, from.cols, values);
    close(resample(map, from, to).data, naiveResample(map, from, to));
  });
});
