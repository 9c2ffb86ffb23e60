// The scene map from /v1/parse?format=json: every label's COCO-style RLE mask (column-major runs that start
// with a run of 0s) painted in the label's colour on a canvas the size of the image.
import type { SceneResult } from './api.ts';

const OPACITY = 140;

export function sceneCanvas(scene: SceneResult): HTMLCanvasElement {
  const { width, height } = scene;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(width, height);
  const colours = new Map(scene.legend.map((entry) => [entry.id, entry.color]));
  for (const mask of scene.masks ?? []) {
    const colour = [...(colours.get(mask.id) ?? [255, 255, 255]), OPACITY];
    let index = 0;
    mask.rle.counts.forEach((run, i) => {
      if (i % 2 === 1) {
        for (let k = index; k < index + run; k++) {
          const x = Math.floor(k / height);
          pixels.data.set(colour, ((k - x * height) * width + x) * 4);
        }
      }
      index += run;
    });
  }
  context.putImageData(pixels, 0, 0);
  return canvas;
}
