// buildTensor: padding modes (where canvas positions read image pixels), normalisation, channel order, NCHW.
import { describe, expect, it } from 'vitest';
import { buildTensor, type Crop, type PixelsIn } from '../../../model/runtime/tensor.ts';

type Pad = 'edge' | 'reflect' | 'zero' | undefined;

/** tensor = raw pixel value: 1 channel, scale 1, mean 0, std 1 */
const raw = (pad: Pad) => ({ color: 'gray' as const, scale: 1, mean: [0], std: [1], pad });

const gray = (values: number[], width: number, height: number): PixelsIn => {
  return { data: Uint8Array.from(values), width, height, channels: 1 };
};

/** a crop of `width` x `height` starting `before` px before the image's first column, `left` px into the canvas */
const around = (before: number, width: number, left = 0): Crop => {
  return { padLeft: before, padTop: 0, left, top: 0, width, height: 1 };
};

const values = (pixels: PixelsIn, crop: Crop, pad: Pad) => [...buildTensor(pixels, crop, raw(pad))];

const three = gray([10, 20, 30], 3, 1);

// prettier-ignore
const rowCases: [string, Pad, PixelsIn, Crop, number[]][] = [
  ['edge padding repeats the edge pixel', 'edge', three, around(2, 7), [10, 10, 10, 20, 30, 30, 30]],
  ['no pad setting means edge padding', undefined, three, around(2, 7), [10, 10, 10, 20, 30, 30, 30]],
  ['reflect padding mirrors without repeating the edge pixel', 'reflect', three, around(2, 7),
    [30, 20, 10, 20, 30, 20, 10]],
  ['reflect padding folds again past a whole period', 'reflect', three, around(4, 11),
    [10, 20, 30, 20, 10, 20, 30, 20, 10, 20, 30]],
  ['reflect padding of a 2 px image alternates', 'reflect', gray([10, 20], 2, 1), around(2, 6),
    [10, 20, 10, 20, 10, 20]],
  ['reflect padding of a 1 px image repeats it', 'reflect', gray([10], 1, 1), around(2, 5), [10, 10, 10, 10, 10]],
  ['zero padding reads as tensor 0', 'zero', three, around(2, 7), [0, 0, 10, 20, 30, 0, 0]],
  ['no padding when the crop lies inside the image', 'zero', three, around(0, 3), [10, 20, 30]],
  ['a pass starting further right on the canvas reads further right', 'edge', three, around(2, 3, 3), [20, 30, 30]],
  ['a crop narrower than the image reads only its part', 'reflect', gray([1, 2, 3, 4, 5], 5, 1), around(1, 2, 3),
    [3, 4]],
];

// 2x2 image  1 2 / 3 4  on a 4x4 canvas with one pixel of padding before it; the rows of the tensor
// prettier-ignore
const squareCases: [string, Pad, number[][]][] = [
  ['edge padding repeats edge rows, columns and corners', 'edge',
    [[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]],
  ['reflect padding mirrors rows and columns, corners diagonally', 'reflect',
    [[4, 3, 4, 3], [2, 1, 2, 1], [4, 3, 4, 3], [2, 1, 2, 1]]],
  ['zero padding zeroes whole padded rows and columns', 'zero',
    [[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]]],
];

describe('buildTensor padding', () => {
  it.each(rowCases)('%s', (_name, pad, pixels, crop, expected) => {
    expect(values(pixels, crop, pad)).toEqual(expected);
  });

  const square = gray([1, 2, 3, 4], 2, 2);
  it.each(squareCases)('%s', (_name, pad, rows) => {
    expect(values(square, { padLeft: 1, padTop: 1, left: 0, top: 0, width: 4, height: 4 }, pad)).toEqual(rows.flat());
  });

  it('a pass shifted down and right starts at its own canvas position', () => {
    const shifted: Crop = { padLeft: 1, padTop: 1, left: 1, top: 2, width: 2, height: 2 };
    expect(values(square, shifted, 'edge')).toEqual([3, 4, 3, 4]);
  });
});

describe('buildTensor normalisation and channel order', () => {
  // one pixel R=255 G=0 B=51; the mean and std are listed in the tensor's channel order
  const pixel: PixelsIn = { data: Uint8Array.from([255, 0, 51]), width: 1, height: 1, channels: 3 };
  const one: Crop = { padLeft: 0, padTop: 0, left: 0, top: 0, width: 1, height: 1 };
  const norm = { scale: 1 / 255, mean: [0.5, 0.25, 0], std: [0.5, 0.25, 0.2] };

  it.each<[string, 'rgb' | 'bgr', number[]]>([
    ['rgb keeps R, G, B, each with its own mean and std', 'rgb', [(1 - 0.5) / 0.5, (0 - 0.25) / 0.25, (0.2 - 0) / 0.2]],
    ['bgr feeds B first, normalised with the first mean and std', 'bgr', [(0.2 - 0.5) / 0.5, -1, (1 - 0) / 0.2]],
  ])('%s', (_name, color, expected) => {
    const out = buildTensor(pixel, one, { ...norm, color, pad: 'edge' });
    expect(out).toHaveLength(3);
    expected.forEach((v, c) => expect(out[c], `channel ${c}`).toBeCloseTo(v, 5));
  });

  it.each<[string, number, number, number, number, number]>([
    ['gray subtracts the mean after scaling', 200, 2, 100, 1, 300],
    ['gray divides by the std after subtracting the mean', 200, 1 / 255, 0.5, 0.25, (200 / 255 - 0.5) / 0.25],
  ])('%s', (_name, value, scale, mean, std, expected) => {
    const out = buildTensor(gray([value], 1, 1), one, { color: 'gray', scale, mean: [mean], std: [std] });
    expect(out[0]).toBeCloseTo(expected, 5);
  });

  it('zero padding is the mean colour: tensor 0 in every channel, where a black pixel is not', () => {
    const black: PixelsIn = { data: new Uint8Array(3), width: 1, height: 1, channels: 3 };
    const out = buildTensor(black, { ...one, padLeft: 1, width: 2 }, { ...norm, color: 'rgb', pad: 'zero' });
    expect([...out].map((v) => Math.round(v * 100) / 100)).toEqual([0, -1, 0, -1, 0, 0]);
  });

  it.each<[string, 'rgb' | 'bgr', number[]]>([
    ['rgb planes are channel-major (NCHW)', 'rgb', [1, 4, 2, 5, 3, 6]],
    ['bgr planes are channel-major with B first', 'bgr', [3, 6, 2, 5, 1, 4]],
  ])('%s', (_name, color, expected) => {
    // two pixels side by side, interleaved RGB: (1,2,3) (4,5,6)
    const pixels: PixelsIn = { data: Uint8Array.from([1, 2, 3, 4, 5, 6]), width: 2, height: 1, channels: 3 };
    const out = buildTensor(pixels, { ...one, width: 2 }, { color, scale: 1, mean: [0, 0, 0], std: [1, 1, 1] });
    expect([...out]).toEqual(expected);
  });
});
