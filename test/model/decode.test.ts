import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, readHeader } from '../../model/io/image.ts';
import type { TagmapError } from '../../model/contract/errors.ts';

const photos = new URL('../../../shared/photos/', import.meta.url);
const photo = (name: string) => readFileSync(new URL(name, photos));
const options = { channels: 3 as const, maxPixels: 40_000_000 };

async function failure(promise: Promise<unknown>): Promise<TagmapError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected the decode to fail').toBeDefined();
  return error as TagmapError;
}

describe('decodeImage', () => {
  it('turns all 8 EXIF orientations of one photo into the same upright pixels', async () => {
    const upright = await decodeImage(photo('exif-orientation/Landscape_1.jpg'), options);
    expect([upright.width, upright.height]).toEqual([600, 450]);
    for (let n = 2; n <= 8; n++) {
      const image = await decodeImage(photo(`exif-orientation/Landscape_${n}.jpg`), options);
      expect([image.width, image.height], `Landscape_${n}.jpg`).toEqual([600, 450]);
      let difference = 0;
      for (let p = 0; p < image.data.length; p++) difference += Math.abs(image.data[p] - upright.data[p]);
      // the rotated copies were re-encoded, which leaves about 5 levels of difference; a wrong turn or mirror gives 50+
      expect(difference / image.data.length, `Landscape_${n}.jpg mean difference`).toBeLessThan(8);
    }
  });

  it('decodes jpeg and png photos to interleaved RGB or grey', async () => {
    const rgb = await decodeImage(photo('rocket.jpg'), options);
    expect(rgb).toMatchObject({ format: 'jpeg', width: 640, height: 427, channels: 3 });
    expect(rgb.data.length).toBe(640 * 427 * 3);
    const grey = await decodeImage(photo('chelsea.png'), { ...options, channels: 1 });
    expect(grey).toMatchObject({ format: 'png', width: 451, height: 300, channels: 1 });
    expect(grey.data.length).toBe(451 * 300);
  });

  it('flattens transparent pixels onto white', async () => {
    const transparent = await sharp({
      create: { width: 4, height: 2, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const image = await decodeImage(transparent, options);
    expect([...image.data]).toEqual(new Array(4 * 2 * 3).fill(255));
  });

  it('refuses a truncated JPEG as undecodable_image', async () => {
    const bytes = photo('rocket.jpg');
    const truncated = bytes.subarray(0, Math.floor(bytes.length / 2));
    const error = await failure(decodeImage(truncated, options));
    expect(error.code).toBe('undecodable_image');
    expect(error.message).toMatch(/truncated or corrupt/);
    // also when the decoder shrinks while decoding
    const shrunk = await failure(decodeImage(truncated, { ...options, size: { width: 80, height: 53 } }));
    expect(shrunk.code).toBe('undecodable_image');
  });

  it('refuses SVG, PDF, text and empty input as unsupported_media, naming the accepted formats', async () => {
    const inputs = {
      svg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
      xmlSvg: '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
      pdf: '%PDF-1.4\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n',
      text: 'hello, this is not an image',
      empty: '',
    };
    for (const [kind, text] of Object.entries(inputs)) {
      const error = await failure(decodeImage(Buffer.from(text), options));
      expect(error.code, kind).toBe('unsupported_media');
      expect(error.message, kind).toContain('jpeg, png, webp, gif, tiff, avif');
    }
  });

  it('refuses an image over the pixel limit before decoding its pixels', async () => {
    const error = await failure(decodeImage(photo('rocket.jpg'), { ...options, maxPixels: 640 * 427 - 1 }));
    expect(error.code).toBe('too_many_pixels');
    expect(error.message).toContain('640x427');
  });

  it('names a header that claims more pixels than sharp itself accepts too_many_pixels, not undecodable', async () => {
    const bomb = Buffer.from(photo('rocket.jpg'));
    const sof = bomb.indexOf(Buffer.from([0xff, 0xc0]));
    expect(sof).toBeGreaterThan(0);
    bomb.writeUInt16BE(60_000, sof + 5); // height
    bomb.writeUInt16BE(60_000, sof + 7); // width: 3.6 gigapixels, over sharp's 268 MP
    const error = await failure(decodeImage(bomb, options));
    expect(error.code).toBe('too_many_pixels');
    expect(error.message).toContain('60000x60000');
  });

  it('reads only the first frame of a multi-page image', async () => {
    const red = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#ff0000' } })
      .png()
      .toBuffer();
    const blue = await sharp({ create: { width: 3, height: 2, channels: 3, background: '#0000ff' } })
      .png()
      .toBuffer();
    const gif = await sharp([red, blue], { join: { animated: true } })
      .gif()
      .toBuffer();
    const image = await decodeImage(gif, options);
    expect([image.width, image.height]).toEqual([3, 2]);
    expect([...image.data.subarray(0, 3)]).toEqual([255, 0, 0]);
  });

  it('decodes straight to a planned size, upright', async () => {
    const bytes = photo('exif-orientation/Landscape_6.jpg');
    expect(await readHeader(bytes, 40_000_000)).toEqual({ format: 'jpeg', width: 600, height: 450 });
    const small = await decodeImage(bytes, { ...options, size: { width: 60, height: 45 } });
    const reference = await decodeImage(photo('exif-orientation/Landscape_1.jpg'), {
      ...options,
      size: { width: 60, height: 45 },
    });
    expect([small.width, small.height, small.data.length]).toEqual([60, 45, 60 * 45 * 3]);
    let difference = 0;
    for (let p = 0; p < small.data.length; p++) difference += Math.abs(small.data[p] - reference.data[p]);
    expect(difference / small.data.length).toBeLessThan(8);
  });
});
