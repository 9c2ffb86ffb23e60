// One label's heat map from a dense class map: its probability in every cell (softmax over the labels when
// the model gives logits), coloured on a canvas with one pixel per cell, ready to be stretched over the image.
import type { ClassMap } from './api.ts';

/** P(any of the ids) per cell, row-major over the grid: one label, or the raw classes behind a photo tag. */
function labelProbabilities(map: ClassMap, ids: number[]): Float32Array {
  const [labels, rows, cols] = map.shape;
  const cells = rows * cols;
  const scores = map.data;
  const out = new Float32Array(cells);
  for (let cell = 0; cell < cells; cell++) {
    if (map.kind === 'probabilities') {
      for (const id of ids) out[cell] += scores[id * cells + cell]!;
      continue;
    }
    let max = -Infinity;
    for (let k = 0; k < labels; k++) max = Math.max(max, scores[k * cells + cell]!);
    let sum = 0;
    for (let k = 0; k < labels; k++) sum += Math.exp(scores[k * cells + cell]! - max);
    for (const id of ids) out[cell] += Math.exp(scores[id * cells + cell]! - max) / sum;
  }
  return out;
}

/** Dark purple through red to pale yellow ("inferno"-like), so the brightest cells stand out on photos. */
const RAMP: Array<[number, number, number]> = [
  [40, 11, 84],
  [120, 28, 109],
  [188, 55, 84],
  [237, 105, 37],
  [251, 180, 26],
  [252, 255, 164],
];

function rampColour(value: number): [number, number, number] {
  const position = value * (RAMP.length - 1);
  const low = Math.min(Math.floor(position), RAMP.length - 2);
  const t = position - low;
  const [a, b] = [RAMP[low]!, RAMP[low + 1]!];
  return [0, 1, 2].map((c) => Math.round(a[c]! + (b[c]! - a[c]!) * t)) as [number, number, number];
}

/** The cells as a cols x rows canvas, scaled so the label's best cell is full strength; faint cells fade out. */
export function heatCanvas(map: ClassMap, ids: number[]): { canvas: HTMLCanvasElement; peak: number } {
  const [, rows, cols] = map.shape;
  const probabilities = labelProbabilities(map, ids);
  const peak = probabilities.reduce((a, b) => Math.max(a, b), 0);
  const canvas = document.createElement('canvas');
  canvas.width = cols;
  canvas.height = rows;
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(cols, rows);
  probabilities.forEach((p, cell) => {
    const value = peak > 0 ? p / peak : 0;
    pixels.data.set([...rampColour(value), Math.round(165 * Math.sqrt(value))], cell * 4);
  });
  context.putImageData(pixels, 0, 0);
  return { canvas, peak };
}
