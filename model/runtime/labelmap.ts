// Scene parsing: the class map bilinearly upsampled to every image pixel, then argmax per pixel.
import { axisWeights, type DenseMap } from './densemap.ts';
import type { CellGrid } from './layout.ts';

/** First index of the highest score in each cell. */
function cellWinners(map: DenseMap): Int32Array {
  const cells = map.rows * map.cols;
  const best = new Int32Array(cells);
  for (let c = 0; c < cells; c++) {
    for (let k = 1; k < map.classes; k++) if (map.data[k * cells + c] > map.data[best[c] * cells + c]) best[c] = k;
  }
  return best;
}

/**
 * Label id per pixel (row-major, width x height); pixel (x, y) is sampled at its centre (x+0.5, y+0.5).
 * Where the four cells around a pixel agree, their common winner also wins every blend of them, so only
 * pixels between disagreeing cells need the K scores interpolated.
 */
export function labelMap(map: DenseMap, grid: CellGrid, width: number, height: number): Uint8Array | Uint16Array {
  const K = map.classes;
  const cells = map.rows * map.cols;
  const winners = cellWinners(map);
  // channel-last copy so each pixel reads K contiguous scores
  const last = new Float32Array(cells * K);
  for (let k = 0; k < K; k++) for (let c = 0; c < cells; c++) last[c * K + k] = map.data[k * cells + c];

  const xs = axisWeights(width, (x) => x + 0.5, grid.originX, grid.stepX, map.cols);
  const ys = axisWeights(height, (y) => y + 0.5, grid.originY, grid.stepY, map.rows);
  const out = K > 256 ? new Uint16Array(width * height) : new Uint8Array(width * height);
  const row = new Float32Array(map.cols * K);
  for (let y = 0; y < height; y++) {
    const top = ys.i0[y] * map.cols;
    const bottom = ys.i1[y] * map.cols;
    // interpolate between the two cell rows once per pixel row, then along x where needed
    const wy = ys.w[y];
    for (let n = 0; n < row.length; n++) row[n] = last[top * K + n] * (1 - wy) + last[bottom * K + n] * wy;
    for (let x = 0; x < width; x++) {
      const a = xs.i0[x];
      const b = xs.i1[x];
      const winner = winners[top + a];
      if (winner === winners[top + b] && winner === winners[bottom + a] && winner === winners[bottom + b]) {
        out[y * width + x] = winner;
        continue;
      }
      const wx = xs.w[x];
      let best = 0;
      let bestScore = -Infinity;
      for (let k = 0; k < K; k++) {
        const score = row[a * K + k] * (1 - wx) + row[b * K + k] * wx;
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
