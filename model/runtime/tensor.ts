// Builds the float32 input of one pass from resized 8-bit pixels: padding, colour order, normalisation.
import type { Card } from '../contract/card.ts';

type InputSpec = Pick<Card['input'], 'color' | 'scale' | 'mean' | 'std' | 'pad'>;

export interface PixelsIn {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
}

export interface Crop {
  /** canvas coordinate of the image's first column/row (the padding before it) */
  padLeft: number;
  padTop: number;
  /** canvas coordinate where this pass's tensor starts */
  left: number;
  top: number;
  width: number;
  height: number;
}

const ZERO = -1;

/** Maps canvas positions to image positions along one axis; ZERO marks padding that reads as tensor 0. */
function sourceIndex(start: number, length: number, size: number, pad: NonNullable<InputSpec['pad']>): Int32Array {
  const out = new Int32Array(length);
  for (let t = 0; t < length; t++) {
    const i = start + t;
    if (i >= 0 && i < size) out[t] = i;
    else if (pad === 'zero') out[t] = ZERO;
    // 'none' reads past the image only when it is smaller than the tensor the net needs
    else if (pad === 'edge' || pad === 'none' || size === 1) out[t] = i < 0 ? 0 : size - 1;
    else {
      // reflect without repeating the edge pixel, folding as often as needed
      const period = 2 * (size - 1);
      const m = ((i % period) + period) % period;
      out[t] = m < size ? m : period - m;
    }
  }
  return out;
}

/**
 * tensor[c][y][x] = (pixel * scale - mean[c]) / std[c], CHW, channels in the card's colour order.
 * 'zero' padding is tensor 0, i.e. the mean colour.
 */
export function buildTensor(pixels: PixelsIn, crop: Crop, input: InputSpec): Float32Array {
  const pad = input.pad ?? 'edge';
  const xs = sourceIndex(crop.left - crop.padLeft, crop.width, pixels.width, pad);
  const ys = sourceIndex(crop.top - crop.padTop, crop.height, pixels.height, pad);
  const channels = pixels.channels;
  const plane = crop.width * crop.height;
  const out = new Float32Array(channels * plane);
  for (let c = 0; c < channels; c++) {
    const source = input.color === 'bgr' ? 2 - c : c;
    const gain = input.scale / input.std[c];
    const bias = input.mean[c] / input.std[c];
    const base = c * plane;
    for (let y = 0; y < crop.height; y++) {
      const sy = ys[y];
      const row = base + y * crop.width;
      if (sy === ZERO) continue;
      const sourceRow = sy * pixels.width;
      for (let x = 0; x < crop.width; x++) {
        const sx = xs[x];
        if (sx !== ZERO) out[row + x] = pixels.data[(sourceRow + sx) * channels + source] * gain - bias;
      }
    }
  }
  return out;
}
