// Dense class maps [K, rows, cols]: stitching shifted passes, resampling between grids, fusing scales.
import type { FuseMode } from '../contract/options.ts';
import type { CellGrid } from './layout.ts';

export interface DenseMap {
  /** [K, rows, cols], row-major */
  data: Float32Array;
  classes: number;
  rows: number;
  cols: number;
}

/** Bilinear sampling positions along one axis: neighbours i0, i1 and the weight of i1. */
export interface AxisWeights {
  i0: Int32Array;
  i1: Int32Array;
  w: Float32Array;
}

/** For `count` sample points at image coordinates `at(t)`, the cells of a grid axis around them (clamped). */
export function axisWeights(
  count: number,
  at: (t: number) => number,
  origin: number,
  step: number,
  cells: number,
): AxisWeights {
  const i0 = new Int32Array(count);
  const i1 = new Int32Array(count);
  const w = new Float32Array(count);
  for (let t = 0; t < count; t++) {
    const u = Math.min(Math.max((at(t) - origin) / step, 0), cells - 1);
    const lo = Math.floor(u);
    i0[t] = lo;
    i1[t] = Math.min(lo + 1, cells - 1);
    w[t] = u - lo;
  }
  return { i0, i1, w };
}

/** Interleaves density x density shifted passes: pass (ky, kx) cell (i, j) becomes cell (i*d+ky, j*d+kx). */
export function stitch(passes: DenseMap[], density: number): DenseMap {
  if (density === 1) return passes[0];
  const classes = passes[0].classes;
  const rows = Math.min(...passes.map((p) => p.rows));
  const cols = Math.min(...passes.map((p) => p.cols));
  const out: DenseMap = {
    data: new Float32Array(classes * rows * density * cols * density),
    classes,
    rows: rows * density,
    cols: cols * density,
  };
  passes.forEach((pass, index) => {
    const ky = Math.floor(index / density);
    const kx = index % density;
    for (let k = 0; k < classes; k++) {
      for (let i = 0; i < rows; i++) {
        const from = (k * pass.rows + i) * pass.cols;
        const to = (k * out.rows + i * density + ky) * out.cols + kx;
        for (let j = 0; j < cols; j++) out.data[to + j * density] = pass.data[from + j];
      }
    }
  });
  return out;
}

/** Resamples a map on grid `from` at the cell centres of grid `to` (bilinear, clamped at the borders). */
export function resample(map: DenseMap, from: CellGrid, to: CellGrid): DenseMap {
  if (
    from.rows === to.rows &&
    from.cols === to.cols &&
    from.originX === to.originX &&
    from.originY === to.originY &&
    from.stepX === to.stepX &&
    from.stepY === to.stepY
  )
    return map;
  const xs = axisWeights(to.cols, (j) => to.originX + j * to.stepX, from.originX, from.stepX, from.cols);
  const ys = axisWeights(to.rows, (i) => to.originY + i * to.stepY, from.originY, from.stepY, from.rows);
  const out: DenseMap = {
    data: new Float32Array(map.classes * to.rows * to.cols),
    classes: map.classes,
    rows: to.rows,
    cols: to.cols,
  };
  for (let k = 0; k < map.classes; k++) {
    const plane = k * map.rows * map.cols;
    for (let i = 0; i < to.rows; i++) {
      const r0 = plane + ys.i0[i] * map.cols;
      const r1 = plane + ys.i1[i] * map.cols;
      const wy = ys.w[i];
      const target = (k * to.rows + i) * to.cols;
      for (let j = 0; j < to.cols; j++) {
        const a = xs.i0[j];
        const b = xs.i1[j];
        const wx = xs.w[j];
        const top = map.data[r0 + a] * (1 - wx) + map.data[r0 + b] * wx;
        const bottom = map.data[r1 + a] * (1 - wx) + map.data[r1 + b] * wx;
        out.data[target + j] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return out;
}

/** Element-wise mean or max of maps on the same grid. */
export function fuse(maps: DenseMap[], mode: FuseMode): DenseMap {
  if (maps.length === 1) return maps[0];
  const data = Float32Array.from(maps[0].data);
  for (const map of maps.slice(1)) {
    for (let n = 0; n < data.length; n++)
      data[n] = mode === 'max' ? Math.max(data[n], map.data[n]) : data[n] + map.data[n];
  }
  if (mode === 'mean') for (let n = 0; n < data.length; n++) data[n] /= maps.length;
  return { ...maps[0], data };
}
