// Reproducible test inputs: seeded random pixels (0..255) put through the card's preprocessing, so golden cases and
// checks look like what the net sees in service.
import type { Card } from '../contract/card.ts';
import type { NamedTensor } from '../runtime/ort.ts';

/** mulberry32: a tiny, well-known seeded generator; enough for test pixels. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seededInput(input: Card['input'], height: number, width: number, seed: number): NamedTensor {
  const next = generator(seed);
  const plane = height * width;
  const data = new Float32Array(input.channels * plane);
  for (let c = 0; c < input.channels; c++) {
    for (let i = 0; i < plane; i++)
      data[c * plane + i] = (Math.floor(next() * 256) * input.scale - input.mean[c]) / input.std[c];
  }
  return { dims: [1, input.channels, height, width], data };
}

/** The [top, left] window of a [1, C, H, W] tensor. */
export function crop(tensor: NamedTensor, top: number, left: number, size: number): NamedTensor {
  const [, channels, height, width] = tensor.dims;
  const data = new Float32Array(channels * size * size);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < size; y++) {
      const from = (c * height + top + y) * width + left;
      data.set(tensor.data.subarray(from, from + size), (c * size + y) * size);
    }
  }
  return { dims: [1, channels, size, size], data };
}
