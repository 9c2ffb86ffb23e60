import { describe, expect, it } from 'vitest';
import { decodeMask, encodeMasks } from '../../model/tasks/rle.ts';

describe('COCO RLE masks', () => {
  it('counts runs column by column, starting with a run of zeros', () => {
    // 3 wide, 2 high, row-major:  0 1 1
    //                             0 0 1
    // column-major order: 0 0 | 1 0 | 1 1
    const masks = encodeMasks([0, 1, 1, 0, 0, 1], 3, 2);
    expect(masks.get(1)).toEqual({ size: [2, 3], counts: [2, 1, 1, 2] });
    expect(masks.get(0)).toEqual({ size: [2, 3], counts: [0, 2, 1, 1, 2] });
  });

  it('round-trips random label maps, one mask per present label, covering every pixel once', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const [width, height] of [
      [1, 1],
      [17, 5],
      [64, 48],
    ]) {
      const labels = Uint8Array.from({ length: width * height }, () => Math.floor(random() * random() * 6));
      const masks = encodeMasks(labels, width, height);
      expect([...masks.keys()].sort()).toEqual([...new Set(labels)].sort());
      const covered = new Uint8Array(width * height);
      for (const [id, rle] of masks) {
        expect(rle.counts.reduce((a, b) => a + b, 0)).toBe(width * height);
        const mask = decodeMask(rle);
        mask.forEach((on, p) => {
          expect(on).toBe(labels[p] === id ? 1 : 0);
          covered[p] += on;
        });
      }
      expect(covered.every((c) => c === 1)).toBe(true);
    }
  });
});
