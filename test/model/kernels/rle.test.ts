// COCO uncompressed RLE: the cases test/model/rle.test.ts leaves out (whole-image runs, runs across columns,
// single rows and columns, label order, ids over 255) and decoding hand-written counts.
import { describe, expect, it } from 'vitest';
import { decodeMask, encodeMasks, type Rle } from '../../../model/tasks/rle.ts';

/** [id, size, counts] of each mask, in the order encodeMasks gives them */
function encoded(labels: ArrayLike<number>, width: number, height: number) {
  return [...encodeMasks(labels, width, height)].map(([id, rle]) => [id, rle.size, rle.counts]);
}

// prettier-ignore
const encodeCases: [string, number[], number, number, unknown[]][] = [
  ['one label over the whole image is an empty run of zeros, then every pixel', [3, 3, 3, 3], 2, 2,
    [[3, [2, 2], [0, 4]]]],
  ['a label only in the last pixel ends with a run of one', [0, 0, 0, 7], 2, 2,
    [[0, [2, 2], [0, 3, 1]], [7, [2, 2], [3, 1]]]],
  // 2x2:  0 1 / 1 0  ->  column-major 0 1 | 1 0
  ['a run from the bottom of one column to the top of the next is one run', [0, 1, 1, 0], 2, 2,
    [[0, [2, 2], [0, 1, 2, 1]], [1, [2, 2], [1, 2, 1]]]],
  ['a single row reads left to right', [1, 1, 2, 1], 4, 1, [[1, [1, 4], [0, 2, 1, 1]], [2, [1, 4], [2, 1, 1]]]],
  ['a single column reads top to bottom', [1, 2, 2, 1], 1, 4, [[1, [4, 1], [0, 1, 2, 1]], [2, [4, 1], [1, 2, 1]]]],
  // 2 wide, 3 high:  5 2 / 5 2 / 2 5  ->  column-major 5 5 2 | 2 2 5
  ['masks come in ascending label order whatever order the labels appear in', [5, 2, 5, 2, 2, 5], 2, 3,
    [[2, [3, 2], [2, 3, 1]], [5, [3, 2], [0, 2, 3, 1]]]],
  ['one pixel', [4], 1, 1, [[4, [1, 1], [0, 1]]]],
];

// prettier-ignore
const decodeCases: [string, Rle, number[]][] = [
  // column-major positions 1 and 2 are set: (x 0, y 1) and (x 1, y 0)
  ['counts fill column by column into a row-major mask', { size: [2, 3], counts: [1, 2, 3] }, [0, 1, 0, 1, 0, 0]],
  ['an empty first run of zeros sets the first pixel', { size: [2, 2], counts: [0, 1, 3] }, [1, 0, 0, 0]],
  ['one run of zeros is an empty mask', { size: [2, 3], counts: [6] }, [0, 0, 0, 0, 0, 0]],
  ['an empty zero run and one run of ones is a full mask', { size: [1, 3], counts: [0, 3] }, [1, 1, 1]],
  ['odd runs are ones, even runs zeros, to the end', { size: [3, 1], counts: [0, 1, 1, 1] }, [1, 0, 1]],
  ['a run of ones may wrap into the next column', { size: [3, 2], counts: [2, 2, 2] }, [0, 1, 0, 0, 1, 0]],
];

describe('encodeMasks', () => {
  it.each(encodeCases)('%s', (_name, labels, width, height, expected) => {
    expect(encoded(labels, width, height)).toEqual(expected);
  });

  it('labels over 255 from a Uint16Array keep their ids', () => {
    // 2x2:  300 300 / 1000 300  ->  column-major 300 1000 | 300 300
    expect(encoded(Uint16Array.from([300, 300, 1000, 300]), 2, 2)).toEqual([
      [300, [2, 2], [0, 1, 1, 2]],
      [1000, [2, 2], [1, 1, 2]],
    ]);
  });

  it.each<[string, number, number]>([
    ['every mask of a wide map sums to width x height', 8, 1],
    ['every mask of a tall map sums to width x height', 1, 8],
    ['every mask of a 2x4 map sums to width x height', 2, 4],
  ])('%s', (_name, width, height) => {
    const masks = encodeMasks([0, 1, 2, 3, 3, 5, 0, 1], width, height);
    for (const [, rle] of masks) expect(rle.counts.reduce((a, b) => a + b)).toBe(width * height);
  });
});

describe('decodeMask', () => {
  it.each(decodeCases)('%s', (_name, rle, mask) => {
    expect([...decodeMask(rle)]).toEqual(mask);
  });

  it('decoding what encodeMasks wrote gives each label back where it was', () => {
    const masks = encodeMasks([5, 2, 5, 2, 2, 5], 2, 3);
    expect([...decodeMask(masks.get(5)!)]).toEqual([1, 0, 1, 0, 0, 1]);
    expect([...decodeMask(masks.get(2)!)]).toEqual([0, 1, 0, 1, 1, 0]);
  });
});
