// The one module that imports sharp: decoding untrusted bytes, resizing, and PNG encoding.
import sharp, { type Metadata } from 'sharp';
import { TagmapError } from '../contract/errors.ts';

export const ACCEPTED_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;
export type ImageFormat = (typeof ACCEPTED_FORMATS)[number];

/** Transparent pixels are flattened onto this colour (white), as most viewers show them. */
const ALPHA_BACKGROUND = { r: 255, g: 255, b: 255 };

// libvips' operation cache keeps recent results for reuse; a server decodes each untrusted upload once, so the
// cache only holds memory (up to 50 MB and 20 files by default) and makes RSS climb under load.
sharp.cache(false);
// One libvips thread per image: requests already decode in parallel on libuv's pool, and on a machine whose
// cores the inference threads fill, more threads per image only preempt onnxruntime's (docs/benchmarks.md).
sharp.concurrency(1);

// Only these libvips loaders may run; SVG, PDF, raw camera, FITS, Matlab and every other loader stay blocked
// even if a file slipped past the sniffing below.
sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({
  operation: [
    'VipsForeignLoadJpegBuffer',
    'VipsForeignLoadPngBuffer',
    'VipsForeignLoadWebpBuffer',
    'VipsForeignLoadNsgifBuffer',
    'VipsForeignLoadTiffBuffer',
    'VipsForeignLoadHeifBuffer',
  ],
});

/** Decoded pixels, upright, 8 bits per channel, row-major and interleaved. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 3;
}

export interface DecodeOptions {
  channels: 1 | 3;
  maxPixels: number;
  /** decode straight to this upright size (JPEG and WebP then shrink while decoding) */
  size?: { width: number; height: number };
}

/** What the header says: the format, and the size once EXIF orientation is applied. */
export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

const ascii = (bytes: Buffer, start: number, end: number) => bytes.subarray(start, end).toString('latin1');

/** Names the format from its magic bytes; undefined for anything we do not decode. */
function sniffFormat(bytes: Buffer): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(bytes, 0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 4) === 'II*\0' || ascii(bytes, 0, 4) === 'MM\0*') return 'tiff';
  if (ascii(bytes, 4, 8) === 'ftyp') {
    const boxSize = Math.min(bytes.readUInt32BE(0), 64, bytes.length);
    const brands = ascii(bytes, 8, boxSize);
    if (/avi[fs]/.test(brands)) return 'avif';
  }
  return undefined;
}

function describeUnsupported(bytes: Buffer): string {
  const head = ascii(bytes, 0, 256).trimStart().toLowerCase();
  const accepted = `accepted formats: ${ACCEPTED_FORMATS.join(', ')}`;
  if (bytes.length === 0) return `the image is empty (${accepted})`;
  if (head.startsWith('%pdf')) return `PDF documents are not accepted (${accepted})`;
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg')))
    return `SVG images are not accepted (${accepted})`;
  if (ascii(bytes, 4, 8) === 'ftyp') return `HEIC and other ISO media files are not accepted (${accepted})`;
  return `not an image in a format tagmap decodes (${accepted})`;
}

const open = (bytes: Buffer, maxPixels: number) =>
  sharp(bytes, { failOn: 'warning', limitInputPixels: maxPixels, pages: 1, page: 0, autoOrient: true });

/** Sniffs the format and reads the header: unsupported formats and images over the pixel limit stop here. */
export async function readHeader(bytes: Buffer, maxPixels: number): Promise<ImageHeader> {
  const format = sniffFormat(bytes);
  if (!format)
    throw new TagmapError('unsupported_media', describeUnsupported(bytes), { accepted: [...ACCEPTED_FORMATS] });
  let header: Metadata;
  try {
    // the header only: no pixels are allocated, so sharp's own pixel limit must not turn a huge claimed size
    // into undecodable_image before ours names it
    header = await sharp(bytes, { pages: 1, page: 0, limitInputPixels: false }).metadata();
  } catch (error) {
    throw undecodable(format, error);
  }
  const { width, height } = header.autoOrient;
  if (width * height > maxPixels) {
    throw new TagmapError(
      'too_many_pixels',
      `the image has ${width}x${height} = ${width * height} pixels; at most ${maxPixels} are accepted`,
      { width, height, maxPixels },
    );
  }
  return { format, width, height };
}

/**
 * Decodes untrusted bytes: header checked first (format, pixel limit), EXIF orientation applied, first
 * page/frame only, optionally resized, alpha flattened onto white, converted to sRGB (or grey), and any
 * truncated or corrupt pixel data refused.
 */
export async function decodeImage(bytes: Buffer, options: DecodeOptions): Promise<RawImage & { format: ImageFormat }> {
  const { format } = await readHeader(bytes, options.maxPixels);
  let pipeline = open(bytes, options.maxPixels);
  // antialiased bilinear, as the trainer resizes (torch interpolate, antialias=True); no approximate JPEG shrink
  if (options.size)
    pipeline = pipeline.resize(options.size.width, options.size.height, {
      fit: 'fill',
      kernel: 'linear',
      fastShrinkOnLoad: false,
    });
  pipeline = pipeline.flatten({ background: ALPHA_BACKGROUND }).toColourspace(options.channels === 1 ? 'b-w' : 'srgb');
  try {
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== options.channels)
      throw new Error(`decoded to ${info.channels} channels, expected ${options.channels}`);
    return { data, width: info.width, height: info.height, channels: options.channels, format };
  } catch (error) {
    throw undecodable(format, error);
  }
}

function undecodable(format: ImageFormat, error: unknown): TagmapError {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new TagmapError('undecodable_image', `the ${format} image is truncated or corrupt: ${reason}`, { format });
}

/** A grey PNG whose pixel values are label ids: 8-bit, or 16-bit when ids go past 255. */
export async function encodeLabelPng(labels: Uint8Array | Uint16Array, width: number, height: number): Promise<Buffer> {
  // sharp takes the raw sample depth from the typed array's type.
  const image = sharp(labels, { raw: { width, height, channels: 1 } });
  return image
    .toColourspace(labels instanceof Uint16Array ? 'grey16' : 'b-w')
    .png()
    .toBuffer();
}

/** A label PNG (8-bit grey, value = label id) back to its ids, e.g. to score one against ground truth. */
export async function decodeLabelPng(bytes: Buffer): Promise<{ labels: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(bytes).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { labels: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** An RGB PNG of the upright image with an RGBA layer of the same size composited over it. */
export async function encodeOverlayPng(bytes: Buffer, layer: Uint8Array, maxPixels: number): Promise<Buffer> {
  const { format, width, height } = await readHeader(bytes, maxPixels);
  try {
    return await open(bytes, maxPixels)
      .flatten({ background: ALPHA_BACKGROUND })
      .toColourspace('srgb')
      .composite([
        { input: Buffer.from(layer.buffer, layer.byteOffset, layer.byteLength), raw: { width, height, channels: 4 } },
      ])
      .removeAlpha()
      .png()
      .toBuffer();
  } catch (error) {
    throw undecodable(format, error);
  }
}
