// The soak's images: good JPEGs of several sizes (from --photos, else resized from an image inside the
// repository, so the soak needs nothing outside it) and the bad inputs each with the answer it must get.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

/** A chart bundled with the camvid model card: a real PNG inside the repository. */
const BUNDLED_IMAGE = path.resolve(import.meta.dirname, '../../model/zoo/camvid/filters.png');
const WIDTHS = [160, 320, 640, 1024];

export interface BadInput {
  name: string;
  bytes: Buffer;
  filename: string;
  /** the status and problem code the server must answer */
  status: number;
  code: string;
}

export interface SoakImages {
  good: Buffer[];
  bad: BadInput[];
}

async function resized(source: Buffer): Promise<Buffer[]> {
  return Promise.all(WIDTHS.map((width) => sharp(source).resize({ width }).flatten().jpeg({ quality: 85 }).toBuffer()));
}

async function fromFolder(dir: string): Promise<Buffer[]> {
  const files = readdirSync(dir).filter((f) => /\.(jpe?g|png|webp)$/i.test(f));
  if (files.length === 0) throw new Error(`--photos ${dir} holds no .jpg, .png or .webp`);
  return Promise.all(
    files.map((f) =>
      sharp(readFileSync(path.join(dir, f)))
        .rotate()
        .flatten()
        .jpeg({ quality: 85 })
        .toBuffer(),
    ),
  );
}

/**
 * A baseline JPEG whose SOF0 header claims 60000x60000 pixels (3.6 gigapixels, also over sharp's own limit):
 * refused as too_many_pixels from the header, before anything is decoded.
 */
function hugeHeader(jpeg: Buffer): Buffer {
  const bomb = Buffer.from(jpeg);
  const sof = bomb.indexOf(Buffer.from([0xff, 0xc0]));
  if (sof < 0) throw new Error('no SOF0 marker in the JPEG');
  bomb.writeUInt16BE(60_000, sof + 5); // height
  bomb.writeUInt16BE(60_000, sof + 7); // width
  return bomb;
}

export async function soakImages(photosDir?: string): Promise<SoakImages> {
  const good = photosDir ? await fromFolder(photosDir) : await resized(readFileSync(BUNDLED_IMAGE));
  const jpeg = good.reduce((a, b) => (b.length > a.length ? b : a));
  const bad: BadInput[] = [
    {
      name: 'truncated',
      bytes: jpeg.subarray(0, jpeg.length >> 1),
      filename: 'cut.jpg',
      status: 422,
      code: 'undecodable_image',
    },
    {
      name: 'text',
      bytes: Buffer.from('this is a text file, not an image\n'),
      filename: 'notes.jpg',
      status: 415,
      code: 'unsupported_media',
    },
    { name: 'huge-header', bytes: hugeHeader(good[0]), filename: 'bomb.jpg', status: 422, code: 'too_many_pixels' },
  ];
  return { good, bad };
}
