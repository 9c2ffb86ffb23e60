// labelMap: cell scores bilinearly upsampled to every pixel centre, then the first best class per pixel.
import { describe, expect, it } from 'vitest';
import type { DenseMap } from '../../../model/runtime/densemap.ts';
import { labelMap } from '../../../model/runtime/labelmap.ts';
import type { CellGrid } from '../../../model/runtime/layout.ts';

/** a rows x cols map from its class planes */
function dense(rows: number, cols: number, planes: number[][]): DenseMap {
  return { data: Float32Array.from(planes.flat()), classes: planes.length, rows, cols };
}

function grid(rows: number, cols: number, originX: number, stepX: number, originY = 0.5, stepY = 1): CellGrid {
  return { rows, cols, originX, originY, stepX, stepY, windowWidth: 4, windowHeight: 4 };
}

/** independent reference: every pixel blends its four cells' scores (clamped), the first highest class wins */
function naiveLabels(map: DenseMap, at: CellGrid, width: number, height: number): number[] {
  const score = (k: number, i: number, j: number) => map.data[(k * map.rows + i) * map.cols + j];
  const clamp = (v: number, cells: number) => Math.min(Math.max(v, 0), cells - 1);
  const out: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = clamp((x + 0.5 - at.originX) / at.stepX, map.cols);
      const v = clamp((y + 0.5 - at.originY) / at.stepY, map.rows);
      const [j0, i0] = [Math.floor(u), Math.floor(v)];
      const [j1, i1] = [Math.min(j0 + 1, map.cols - 1), Math.min(i0 + 1, map.rows - 1)];
      const [wx, wy] = [u - j0, v - i0];
      let [best, bestScore] = [0, -Infinity];
      for (let k = 0; k < map.classes; k++) {
        const top = (1 - wx) * score(k, i0, j0) + wx * score(k, i0, j1);
        const bottom = (1 - wx) * score(k, i1, j0) + wx * score(k, i1, j1);
        const s = (1 - wy) * top + wy * bottom;
        if (s > bestScore) [best, bestScore] = [k, s];
      }
      out.push(best);
    }
  }
  return out;
}

// two cells at x = 1 and x = 3: pixel centres 0.5, 1.5, 2.5, 3.5 sit at u = 0 (clamped), 0.25, 0.75, 1 (clamped)
const pair = grid(1, 2, 1, 2);

// map, grid, width, height -> labels, row-major
// prettier-ignore
const cases: [string, DenseMap, CellGrid, number, number, number[]][] = [
  ['each pixel takes the class that wins the blend at its centre', dense(1, 2, [[1, 0], [0, 1]]), pair, 4, 1,
    [0, 0, 1, 1]],
  ['the blend is bilinear, not nearest cell: class 0 scoring 3 then 0 holds to u = 0.75',
    dense(1, 2, [[3, 0], [0, 1]]), pair, 4, 1, [0, 0, 0, 1]],
  ['a tie in the blend goes to the lower class id', dense(1, 2, [[0, 3], [1, 0]]), pair, 4, 1, [1, 0, 0, 0]],
  ['a class winning no cell can win between cells', dense(1, 2, [[1, 0], [0.8, 0.8], [0, 1]]), grid(1, 2, 0.5, 4),
    5, 1, [0, 1, 1, 1, 2]],
  ['a tie within a cell goes to the lower class id', dense(1, 1, [[0.5], [0.5]]), grid(1, 1, 1, 1), 2, 1, [0, 0]],
  ['pixels past the border cells take the border cell', dense(1, 2, [[1, 0], [0, 1]]), grid(1, 2, 3.2, 1), 6, 1,
    [0, 0, 0, 0, 1, 1]],
  ['the y axis blends rows with its own origin and step', dense(2, 1, [[1, 0], [0, 1]]), grid(2, 1, 0.5, 1, 1, 2),
    1, 4, [0, 0, 1, 1]],
  ['four agreeing cells give their winner to every pixel between them', dense(2, 2, [[5, 5, 5, 5], [1, 4, 2, 0]]),
    grid(2, 2, 1, 2, 1, 2), 4, 4, Array(16).fill(0)],
];

// rows, cols, classes, width, height
// prettier-ignore
const referenceCases: [string, number, number, number, number, number][] = [
  ['a coarse 3x4 map of 4 classes onto 9x7 pixels', 3, 4, 4, 9, 7],
  ['a 2x2 map of 3 classes onto 5x6 pixels', 2, 2, 3, 5, 6],
  ['a 4x3 map of 6 classes onto 11x13 pixels', 4, 3, 6, 11, 13],
];

describe('labelMap', () => {
  it.each(cases)('%s', (_name, map, at, width, height, expected) => {
    expect([...labelMap(map, at, width, height)]).toEqual(expected);
  });

  it.each(referenceCases)('matches a naive per-pixel bilinear argmax: %s', (_name, rows, cols, classes, ...size) => {
    const [width, height] = size;
    // scores in eighths between -8 and 8, spread over classes and cells
    const value = (k: number, c: number) => Math.round(Math.sin(7.1 * k + 3.3 * c + 1) * 64) / 8;
    const plane = (k: number) => Array.from({ length: rows * cols }, (_, c) => value(k, c));
    const planes = Array.from({ length: classes }, (_, k) => plane(k));
    const at = grid(rows, cols, 0.75, width / cols, 0.4, height / rows);
    const map = dense(rows, cols, planes);
    expect([...labelMap(map, at, width, height)]).toEqual(naiveLabels(map, at, width, height));
  });

  it.each<[string, number, string, number]>([
    ['256 classes fit in bytes', 256, 'Uint8Array', 255],
    ['more than 256 classes need 16 bits', 300, 'Uint16Array', 299],
  ])('%s', (_name, classes, type, winner) => {
    const planes = Array.from({ length: classes }, (_, k) => [k === winner ? 1 : 0]);
    const out = labelMap(dense(1, 1, planes), grid(1, 1, 0.5, 1), 2, 1);
    expect([out.constructor.name, ...out]).toEqual([type, winner, winner]);
  });
});
