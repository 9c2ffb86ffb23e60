// COCO-style uncompressed run-length masks: pixels read column by column (x outer, y inner), counts
// alternate between runs of 0 and runs of 1, starting with 0 (which may be an empty run).
import type { Rle } from '../contract/results.ts';

export type { Rle };

/** One RLE mask per label present in the row-major label map, keyed by label id. */
export function encodeMasks(labels: ArrayLike<number>, width: number, height: number): Map<number, Rle> {
  // positions (column-major) where each label's mask switches on or off
  const switches = new Map<number, number[]>();
  const at = (id: number) => {
    let list = switches.get(id);
    if (!list) switches.set(id, (list = []));
    return list;
  };
  let previous = -1;
  let position = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++, position++) {
      const id = labels[y * width + x];
      if (id !== previous) {
        if (previous >= 0) at(previous).push(position);
        at(id).push(position);
        previous = id;
      }
    }
  }
  const total = width * height;
  const masks = new Map<number, Rle>();
  for (const [id, list] of [...switches].sort((a, b) => a[0] - b[0])) {
    const counts: number[] = [];
    let last = 0;
    for (const p of [...list, total]) {
      counts.push(p - last);
      last = p;
    }
    masks.set(id, { size: [height, width], counts });
  }
  return masks;
}

/** The row-major 0/1 mask of an RLE. */
export function decodeMask(rle: Rle): Uint8Array {
  const [height, width] = rle.size;
  const mask = new Uint8Array(width * height);
  let position = 0;
  rle.counts.forEach((count, index) => {
    if (index % 2 === 1) {
      for (let p = position; p < position + count; p++) mask[(p % height) * width + Math.floor(p / height)] = 1;
    }
    position += count;
  });
  return mask;
}
