// Scene parsing: the class map bilinearly upsampled to every image pixel, then argmax per pixel.
import { axisWeights, type DenseMap } from './densemap.ts';
import type { Grid } from './plan.ts';

/** Label id per pixel (row-major, width x height); pixel (x, y) is sampled at its centre (x+0.5, y+0.5). */
export function labelMap(map: DenseMap, grid: Grid, width: number, height: number): Uint8Array | Uint16Array {
  const K = map.classes;
  const cells = map.rows * map.cols;
  // channel-last copy so each pixel reads K contiguous scores
  const last = new Float32Array(cells * K);
  for (let k = 0; k < K; k++) for (let c = 0; c < cells; c++) last[c * K + k] = map.data[k * cells + c];

  const xs = axisWeights(width, (x) => x + 0.5, grid.originX, grid.stepX, map.cols);
  const ys = axisWeights(height, (y) => y + 0.5, grid.originY, grid.stepY, map.rows);
  const out = K > 256 ? new Uint16Array(width * height) : new Uint8Array(width * height);
  const row = new Float32Array(map.cols * K);
  for (let y = 0; y < height; y++) {
    // interpolate between the two cell rows once per pixel row, then along x per pixel
    const r0 = ys.i0[y] * map.cols * K;
    const r1 = ys.i1[y] * map.cols * K;
    const wy = ys.w[y];
    for (let n = 0; n < row.length; n++) row[n] = last[r0 + n] * (1 - wy) + last[r1 + n] * wy;
    for (let x = 0; x < width; x++) {
      const a = xs.i0[x] * K;
      const b = xs.i1[x] * K;
      const wx = xs.w[x];
      let best = 0;
      let bestScore = -Infinity;
      for (let k = 0; k < K; k++) {
        const score = row[a + k] * (1 - wx) + row[b + k] * wx;
        if (score > bestScore) {
          bestScore = score;
          best = k;
        }
      }
      out[y * width + x] = best;
    }
  }
  return out;
}
