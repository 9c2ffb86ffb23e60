// Label colours, pixel shares and the colour overlay of a label map.
import type { LegendEntry } from '../contract/results.ts';
import type { Card } from '../contract/card.ts';

type Rgb = [number, number, number];

/** Overlay colours are blended over the image at this opacity. */
const OVERLAY_OPACITY = 0.5;

/** The card's colour, else a stable colour spread around the hue circle by the golden angle. */
function labelColor(label: Card['labels'][number]): Rgb {
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

/** RGBA pixels of each pixel's label colour at OVERLAY_OPACITY, to lay over the image. */
export function colourLayer(labels: ArrayLike<number>, card: Card): Uint8Array {
  const palette = new Uint8Array(card.labels.length * 4);
  card.labels.forEach((label) => palette.set([...labelColor(label), Math.round(255 * OVERLAY_OPACITY)], label.id * 4));
  // one 32-bit copy per pixel; both views share the machine's byte order
  const colours = new Uint32Array(palette.buffer);
  const layer = new Uint32Array(labels.length);
  for (let p = 0; p < labels.length; p++) layer[p] = colours[labels[p]];
  return new Uint8Array(layer.buffer);
}
