// stitch: density x density shifted passes interleaved into one map; the cells land on cellGridOf's grid.
import { describe, expect, it } from 'vitest';
import { stitch, type DenseMap } from '../../../model/runtime/densemap.ts';
import { cellGridOf, type ScaleLayout } from '../../../model/runtime/layout.ts';
import { buildTensor } from '../../../model/runtime/tensor.ts';

function dense(classes: number, rows: number, cols: number, values: number[]): DenseMap {
  return { data: Float32Array.from(values), classes, rows, cols };
}

/** the map as [class][row][col] nested arrays */
function planes(map: DenseMap): number[][][] {
  const row = (k: number, i: number) => (k * map.rows + i) * map.cols;
  return Array.from({ length: map.classes }, (_, k) =>
    Array.from({ length: map.rows }, (_, i) => [...map.data.subarray(row(k, i), row(k, i) + map.cols)]),
  );
}

/** independent reference: out[k][r][c] = pass (r % d, c % d) at cell (r / d, c / d) */
function naiveStitch(passes: DenseMap[], d: number): number[][][] {
  const rows = Math.min(...passes.map((p) => p.rows));
  const cols = Math.min(...passes.map((p) => p.cols));
  const cell = (k: number, r: number, c: number) =>
    planes(passes[(r % d) * d + (c % d)])[k][Math.floor(r / d)][Math.floor(c / d)];
  return Array.from({ length: passes[0].classes }, (_, k) =>
    Array.from({ length: rows * d }, (_, r) => Array.from({ length: cols * d }, (_, c) => cell(k, r, c))),
  );
}

/** pass p: class k cell (i, j) holds 1000 k + 100 p + 10 i + j */
function coded(p: number, rows: number, cols: number, classes = 1): DenseMap {
  const value = (k: number, i: number, j: number) => 1000 * k + 100 * p + 10 * i + j;
  const cells = rows * cols;
  const values = Array.from({ length: classes * cells }, (_, n) =>
    value(Math.floor(n / cells), Math.floor((n % cells) / cols), n % cols),
  );
  return dense(classes, rows, cols, values);
}

const passes = (count: number, rows: number, cols: number, classes = 1) =>
  Array.from({ length: count }, (_, p) => coded(p, rows, cols, classes));

// prettier-ignore
const cases: [string, DenseMap[], number, number[][][]][] = [
  ['density 2 puts pass (ky, kx) cell (i, j) at (2i + ky, 2j + kx)', passes(4, 2, 2), 2, [[
    [0, 100, 1, 101],
    [200, 300, 201, 301],
    [10, 110, 11, 111],
    [210, 310, 211, 311],
  ]]],
  ['density 3 of 1x1 passes lays them out row by row', passes(9, 1, 1), 3,
    [[[0, 100, 200], [300, 400, 500], [600, 700, 800]]]],
  ['passes of unequal size are cut to the smallest', [coded(0, 2, 3), coded(1, 1, 2), coded(2, 2, 2), coded(3, 2, 3)],
    2, [[[0, 100, 1, 101], [200, 300, 201, 301]]]],
  ['each class plane is stitched on its own', passes(4, 1, 1, 2), 2,
    [[[0, 100], [200, 300]], [[1000, 1100], [1200, 1300]]]],
];

describe('stitch', () => {
  it('density 1 returns the only pass unchanged', () => {
    const pass = coded(0, 2, 2);
    expect(stitch([pass], 1)).toBe(pass);
  });

  it.each(cases)('%s', (_name, passes, density, expected) => {
    const out = stitch(passes, density);
    expect([out.classes, out.rows, out.cols]).toEqual([expected.length, expected[0].length, expected[0][0].length]);
    expect(planes(out)).toEqual(expected);
  });

  it.each([
    [2, 2, 3, 2],
    [3, 2, 2, 3],
    [4, 1, 3, 2],
  ])('matches a naive reference at density %i (%i x %i cells, %i classes)', (d, rows, cols, classes) => {
    const all = passes(d * d, rows, cols, classes);
    expect(planes(stitch(all, d))).toEqual(naiveStitch(all, d));
  });
});

describe('shifted passes land on the grid cellGridOf names', () => {
  // a 1-row image whose pixel x holds x; a fake net (window 4, stride 4, offset 0) outputs the centre of the
  // pixels it sees: mean pixel index + 0.5. Density 2: passes start 2 px apart on the canvas.
  const geometry = { window: 4, stride: 4, offset: 0, exact: true };
  const plan = { padLeft: 2, padTop: 0, factorX: 1, factorY: 1, shiftStep: 2, density: 2 } as ScaleLayout;
  const image = { data: Uint8Array.from({ length: 20 }, (_, x) => x), width: 20, height: 1, channels: 1 as const };
  const input = { color: 'gray' as const, scale: 1, mean: [0], std: [1], pad: 'edge' as const };
  const net = (tensor: Float32Array): DenseMap => {
    const cells = (tensor.length - geometry.window) / geometry.stride + 1;
    const centre = (j: number) => tensor.subarray(j * 4, j * 4 + 4).reduce((a, b) => a + b) / 4 + 0.5;
    const out = Array.from({ length: cells }, (_, j) => centre(j));
    return dense(1, 1, cells, out);
  };
  // ky = 0 only: the image is one row, so pass (1, kx) repeats pass (0, kx)
  const pass = (kx: number) => {
    const crop = { padLeft: plan.padLeft, padTop: 0, left: kx * plan.shiftStep, top: 0, width: 20, height: 1 };
    return net(buildTensor(image, crop, input));
  };
  const map = stitch([pass(0), pass(1), pass(0), pass(1)], plan.density);
  const grid = cellGridOf(plan, geometry, map.rows, map.cols);

  it('cell J sits at originX + J * stepX for every cell whose window lies inside the image', () => {
    expect([grid.originX, grid.stepX, map.cols]).toEqual([0, 2, 10]);
    for (let J = 1; J < map.cols; J++) expect(map.data[J], `cell ${J}`).toBeCloseTo(grid.originX + J * grid.stepX, 5);
  });
});
