import { describe, expect, it } from 'vitest';
import { cardSchema, type Card } from '../../model/contract/card.ts';
import { cellGridOf, layoutScales, type ScaleLayout } from '../../model/runtime/layout.ts';

function card(geometry: Card['geometry'], shortSide: number, minSide = geometry.window): Card {
  return cardSchema.parse({
    name: 'geometry',
    version: '1',
    description: 'geometry only',
    license: 'MIT',
    source: { kind: 'trained', recipe: 'none', dataset: 'none', command: 'none', date: '2025-01-01' },
    input: {
      name: 'input',
      channels: 3,
      color: 'rgb',
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      minSide,
      shortSide,
    },
    output: { name: 'scores', kind: 'logits' },
    geometry,
    labels: [
      { id: 0, name: 'a' },
      { id: 1, name: 'b' },
    ],
    tasks: ['tag', 'parse'],
    metrics: {},
  });
}

/** Cells an unpadded net (offset 0) or a net padding -offset on each side gives for an input side. */
const cellsFor = (side: number, g: Card['geometry']) =>
  Math.floor((side - g.window - 2 * Math.min(g.offset, 0)) / g.stride) + 1;

function cellCentres(plan: ScaleLayout, g: Card['geometry']) {
  const grid = cellGridOf(
    plan,
    g,
    cellsFor(plan.tensorHeight, g) * plan.density,
    cellsFor(plan.tensorWidth, g) * plan.density,
  );
  return {
    grid,
    first: [grid.originX, grid.originY],
    last: [grid.originX + (grid.cols - 1) * grid.stepX, grid.originY + (grid.rows - 1) * grid.stepY],
  };
}

const unpadded = { window: 28, stride: 4, offset: 0, exact: true };
const padded = { window: 32, stride: 8, offset: -8, exact: false };

/** a layout request: the scales, the long-side cap and the density */
const asked = (scales: number[], maxSide: number, density: number) => ({ scales, maxSide, density });

describe('layoutScales', () => {
  it('scales the short side to the card shortSide times each scale', () => {
    const [half, one] = layoutScales({ width: 1200, height: 900 }, card(unpadded, 180), asked([0.5, 1], 4096, 1));
    expect([half.width, half.height]).toEqual([120, 90]);
    expect([one.width, one.height]).toEqual([240, 180]);
  });

  it('caps the long side at maxSide', () => {
    const [plan] = layoutScales({ width: 4000, height: 1000 }, card(unpadded, 500), asked([1], 800, 1));
    expect([plan.width, plan.height]).toEqual([800, 200]);
  });

  it('scales images smaller than the window up until the window fits', () => {
    const [plan] = layoutScales({ width: 20, height: 10 }, card(unpadded, 20), asked([1], 4096, 1));
    expect([plan.width, plan.height]).toEqual([56, 28]);
  });

  it('puts a cell centre at or before the first pixel and at or after the last, on both kinds of net', () => {
    for (const g of [unpadded, padded]) {
      for (const size of [
        [57, 43],
        [300, 451],
        [28, 28],
        [1000, 37],
      ]) {
        for (const density of [1, 2, 4]) {
          const [plan] = layoutScales({ width: size[0], height: size[1] }, card(g, 64), {
            scales: [1],
            maxSide: 2048,
            density,
          });
          const { first, last } = cellCentres(plan, g);
          const where = `${JSON.stringify(g)} ${size} density ${density}`;
          expect(first[0], where).toBeLessThanOrEqual(0.5);
          expect(first[1], where).toBeLessThanOrEqual(0.5);
          expect(last[0], where).toBeGreaterThanOrEqual(size[0] - 0.5);
          expect(last[1], where).toBeGreaterThanOrEqual(size[1] - 0.5);
        }
      }
    }
  });

  it('pad none: every pass reads only image px, and under a stride of them is left over, split at both ends', () => {
    for (const g of [unpadded, padded]) {
      for (const [width, height] of [
        [57, 43],
        [300, 451],
        [64, 64],
        [1000, 97],
      ]) {
        for (const density of [1, 2, 4]) {
          const base = card(g, 64);
          const none = { ...base, input: { ...base.input, pad: 'none' as const } };
          const [plan] = layoutScales({ width, height }, none, { scales: [1], maxSide: 2048, density });
          const where = `${JSON.stringify(g)} ${width}x${height} density ${density}`;
          for (const [size, pad, canvas] of [
            [plan.width, plan.padLeft, plan.canvasWidth],
            [plan.height, plan.padTop, plan.canvasHeight],
          ]) {
            expect(pad, where).toBeLessThanOrEqual(0);
            expect(canvas - pad, where).toBeLessThanOrEqual(size);
            const left = size - canvas;
            if (size >= g.window + (density - 1) * plan.shiftStep) {
              expect(left, where).toBeLessThan(g.stride);
              expect(-pad, where).toBe(Math.floor(left / 2));
            }
          }
        }
      }
    }
  });

  it('spaces stitched cells stride/density apart in image px', () => {
    const [plan] = layoutScales({ width: 400, height: 300 }, card(unpadded, 150), asked([1], 2048, 4));
    const { grid } = cellCentres(plan, unpadded);
    expect(plan.shiftStep).toBe(1);
    expect(grid.stepX).toBeCloseTo(1 / (200 / 400), 6);
    expect(plan.canvasWidth - plan.tensorWidth).toBe(3);
  });

  it('never plans a tensor under the window or the card minSide', () => {
    const [plan] = layoutScales({ width: 5, height: 5 }, card(unpadded, 28, 40), asked([1], 2048, 1));
    expect(plan.tensorWidth).toBeGreaterThanOrEqual(40);
    expect(plan.tensorHeight).toBeGreaterThanOrEqual(40);
  });

  it('refuses a density that does not divide the stride or is over 4, naming the allowed values', () => {
    for (const density of [3, 5, 8, 0, 1.5]) {
      expect(() =>
        layoutScales({ width: 100, height: 100 }, card(unpadded, 64), { scales: [1], maxSide: 2048, density }),
      ).toThrow(expect.objectContaining({ code: 'bad_options', message: expect.stringContaining('1, 2, 4') }));
    }
  });

  it('refuses an image too narrow to fit the window without a huge input', () => {
    expect(() =>
      layoutScales({ width: 20_000, height: 2 }, card(unpadded, 64), { scales: [1], maxSide: 1024, density: 1 }),
    ).toThrow(expect.objectContaining({ code: 'too_many_pixels' }));
  });
});
