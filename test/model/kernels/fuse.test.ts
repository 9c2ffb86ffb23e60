// fuse: scales already resampled onto one grid, combined cell by cell and class by class (mean or max).
import { describe, expect, it } from 'vitest';
import { fuse, type DenseMap } from '../../../model/runtime/densemap.ts';

function dense(values: number[], classes = 1, rows = 1, cols = values.length / classes): DenseMap {
  return { data: Float32Array.from(values), classes, rows, cols };
}

// prettier-ignore
const cases: [string, 'mean' | 'max', number[][], number[]][] = [
  ['mean fusing averages two scales per cell', 'mean', [[1, 2, 0, 8], [3, 6, 0, 0]], [2, 4, 0, 4]],
  ['mean fusing divides by the number of scales, three here', 'mean', [[3, 0], [0, 0], [0, 6]], [1, 2]],
  ['mean fusing averages negative logits too', 'mean', [[-1, -5], [-3, 1]], [-2, -2]],
  ['max fusing keeps the larger score per cell', 'max', [[1, 7, 0, 8], [3, 6, 0, 0]], [3, 7, 0, 8]],
  ['max fusing works on negative logits (no zero floor)', 'max', [[-1, -5], [-3, -2]], [-1, -2]],
  ['max fusing of three scales takes each cell from whichever is best', 'max', [[1, 0, 0], [0, 2, 0], [0, 0, 3]],
    [1, 2, 3]],
];

describe('fuse', () => {
  it.each(cases)('%s', (_name, mode, maps, expected) => {
    const scales = maps.map((values) => dense(values));
    const out = fuse(scales, mode);
    expect([...out.data]).toEqual(expected);
  });

  it.each<['mean' | 'max']>([['mean'], ['max']])('%s fusing of a single scale returns it unchanged', (mode) => {
    const only = dense([0.5, 0.25]);
    expect(fuse([only], mode)).toBe(only);
  });

  it.each<['mean' | 'max', number[]]>([
    ['mean', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['max', [2, 2, 4, 4, 6, 6, 8, 8]],
  ])('%s fusing keeps the classes and grid of the maps (2 classes, 2x2 cells)', (mode, expected) => {
    const a = dense([0, 2, 2, 4, 4, 6, 6, 8], 2, 2, 2);
    const b = dense([2, 2, 4, 4, 6, 6, 8, 8], 2, 2, 2);
    const out = fuse([a, b], mode);
    expect([out.classes, out.rows, out.cols]).toEqual([2, 2, 2]);
    expect([...out.data]).toEqual(expected);
  });

  it('leaves the input maps untouched', () => {
    const a = dense([1, 2]);
    const b = dense([3, 4]);
    fuse([a, b], 'mean');
    fuse([a, b], 'max');
    expect([[...a.data], [...b.data]]).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });
});
