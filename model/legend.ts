// Label colours, pixel shares and the colour overlay of a label map.
import type { LegendEntry } from './api.ts';
import type { Card } from './card.ts';

export type Rgb = [number, number, number];

/** Overlay colours are blended over the image at this opacity. */
export const OVERLAY_OPACITY = 0.5;

/** The card's colour, else a stable colour spread around the hue circle by the golden angle. */
export function labelColor(label: Card['labels'][number]): Rgb {
  if (label.color) return label.color;
  const hue = (label.id * 137.508) % 360;
  const f = (n: number) => {
    const k = (n + hue / 30) % 12;
    return Math.round(255 * (0.55 - 0.45 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

/** Legend of the labels present, largest share first. */
export function legendOf(labels: ArrayLike<number>, card: Card): LegendEntry[] {
  const counts = new Float64Array(card.labels.length);
  for (let p = 0; p < labels.length; p++) counts[labels[p]]++;
  return card.labels
    .filter((l) => counts[l.id] > 0)
    .map((l) => ({ id: l.id, name: l.name, color: labelColor(l), share: counts[l.id] / labels.length }))
    .sort((a, b) => b.share - a.share);
}

/** RGB pixels of the image with each pixel's label colour blended over it. */
export function overlay(image: { data: Uint8Array; channels: 1 | 3 }, labels: ArrayLike<number>, card: Card): Uint8Array {
  const colors = card.labels.map(labelColor);
  const out = new Uint8Array(labels.length * 3);
  for (let p = 0; p < labels.length; p++) {
    const color = colors[labels[p]];
    for (let c = 0; c < 3; c++) {
      const pixel = image.data[p * image.channels + (image.channels === 3 ? c : 0)];
      out[p * 3 + c] = Math.round(pixel * (1 - OVERLAY_OPACITY) + color[c] * OVERLAY_OPACITY);
    }
  }
  return out;
}
