// The size plan: how big each scale's image is, how its borders are padded, which tensors are fed to the
// net, and where each output cell lands in the original image. Pure arithmetic, no pixels.
import type { Card } from '../contract/card.ts';
import { TagmapError } from '../contract/errors.ts';
import { LIMITS } from '../contract/options.ts';

const { max: MAX_DENSITY } = LIMITS.density;

export interface ScaleLayout {
  scale: number;
  /** the resized image */
  width: number;
  height: number;
  /** resized px per original px, per axis (rounding makes them differ slightly) */
  factorX: number;
  factorY: number;
  /** padding before the image on the canvas; the canvas holds every shifted pass */
  padLeft: number;
  padTop: number;
  canvasWidth: number;
  canvasHeight: number;
  /** the tensor of one pass; pass (ky, kx) starts at canvas (kx*shiftStep, ky*shiftStep) */
  tensorWidth: number;
  tensorHeight: number;
  density: number;
  /** tensor px between shifted passes = stride / density */
  shiftStep: number;
}

/** An output grid in original image coordinates: centre of cell (0,0), spacing of cells, size of a window. */
export interface CellGrid {
  rows: number;
  cols: number;
  originX: number;
  originY: number;
  stepX: number;
  stepY: number;
  windowWidth: number;
  windowHeight: number;
}

export interface LayoutRequest {
  scales: number[];
  maxSide: number;
  density: number;
}

type Geometry = Card['geometry'];

/** Validates density against the card's stride: shifted passes must land on whole pixels. */
export function checkDensity(density: number, stride: number): void {
  const allowed = Array.from({ length: MAX_DENSITY }, (_, n) => n + 1).filter((d) => stride % d === 0);
  if (!Number.isInteger(density) || !allowed.includes(density)) {
    throw new TagmapError(
      'bad_options',
      `density must be one of ${allowed.join(', ')} for this model (stride ${stride} px, at most ${MAX_DENSITY})`,
      { allowed },
    );
  }
}

/** Scale factor from original to resized image for one requested scale. */
function resizeFactor(width: number, height: number, card: Card, scale: number, maxSide: number): number {
  const shortSide = Math.min(width, height);
  const longSide = Math.max(width, height);
  let factor = Math.min((card.input.shortSide * scale) / shortSide, maxSide / longSide);
  // Images smaller than the window are scaled up until the window fits; this wins over maxSide.
  const smallest = Math.max(card.geometry.window, card.input.minSide);
  if (shortSide * factor < smallest) factor = smallest / shortSide;
  return factor;
}

/** Pads one axis so that cell centres run from before the first image pixel to past the last one. */
function planAxis(size: number, geometry: Geometry, minSide: number, density: number) {
  const { window, stride, offset } = geometry;
  const step = stride / density;
  const centre0 = offset + window / 2;
  const pad = Math.max(0, Math.ceil(centre0));
  // fine cells J = 0..n*density-1 sit at centre0 + J*step on the canvas; the last must reach pad + size
  const fineCells = Math.ceil((pad + size - centre0) / step) + 1;
  const cellsPerPass = Math.max(1, Math.ceil(fineCells / density));
  // a net that pads internally (offset < 0) needs that much less input on each side
  const edge = offset < 0 ? 2 * offset : offset;
  const tensor = Math.max((cellsPerPass - 1) * stride + window + edge, minSide, window);
  return { pad, tensor, canvas: tensor + (density - 1) * step, step };
}

/**
 * pad 'none': no padding; only the windows that fit in the image, every shifted pass included, and the
 * few px left over (less than a stride) split between the two ends. An image smaller than the tensor the net
 * needs is still padded (with its edge pixels, see tensor.ts).
 */
function planAxisUnpadded(size: number, geometry: Geometry, minSide: number, density: number) {
  const { window, stride, offset } = geometry;
  const step = stride / density;
  const edge = offset < 0 ? 2 * offset : offset;
  const cellsPerPass = Math.max(1, Math.floor((size - window - edge - (density - 1) * step) / stride) + 1);
  const tensor = Math.max((cellsPerPass - 1) * stride + window + edge, minSide, window);
  const canvas = tensor + (density - 1) * step;
  // a negative pad crops: the canvas starts that far inside the image
  return { pad: -Math.max(0, Math.floor((size - canvas) / 2)), tensor, canvas, step };
}

export function layoutScales(
  image: { width: number; height: number },
  card: Card,
  request: LayoutRequest,
): ScaleLayout[] {
  checkDensity(request.density, card.geometry.stride);
  return request.scales.map((scale) => {
    const factor = resizeFactor(image.width, image.height, card, scale, request.maxSide);
    const width = Math.max(1, Math.round(image.width * factor));
    const height = Math.max(1, Math.round(image.height * factor));
    const axis = card.input.pad === 'none' ? planAxisUnpadded : planAxis;
    const x = axis(width, card.geometry, card.input.minSide, request.density);
    const y = axis(height, card.geometry, card.input.minSide, request.density);
    const limit = Math.max(request.maxSide, card.geometry.window) ** 2;
    if (x.canvas * y.canvas > 4 * limit) {
      throw new TagmapError(
        'too_many_pixels',
        `the image is too narrow for this model: fitting its short side to the ${card.geometry.window} px ` +
          `window needs a ${x.canvas}x${y.canvas} input at scale ${scale}`,
        { width: image.width, height: image.height },
      );
    }
    return {
      scale,
      width,
      height,
      factorX: width / image.width,
      factorY: height / image.height,
      padLeft: x.pad,
      padTop: y.pad,
      canvasWidth: x.canvas,
      canvasHeight: y.canvas,
      tensorWidth: x.tensor,
      tensorHeight: y.tensor,
      density: request.density,
      shiftStep: x.step,
    };
  });
}

/** Where the stitched cells of one scale sit in the original image. */
export function cellGridOf(plan: ScaleLayout, geometry: Geometry, rows: number, cols: number): CellGrid {
  const centre0 = geometry.offset + geometry.window / 2;
  return {
    rows,
    cols,
    originX: (centre0 - plan.padLeft) / plan.factorX,
    originY: (centre0 - plan.padTop) / plan.factorY,
    stepX: plan.shiftStep / plan.factorX,
    stepY: plan.shiftStep / plan.factorY,
    windowWidth: geometry.window / plan.factorX,
    windowHeight: geometry.window / plan.factorY,
  };
}
