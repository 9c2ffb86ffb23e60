// Label PNGs of --task parse: one file per input, named so that different inputs never collide and the same
// input always lands on the same file (a resumed run overwrites a mask whose row was never written).
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeMask, encodeLabelPng, type Mask } from '../../model/index.ts';

function maskPath(masksDir: string, input: string): string {
  const base = path.basename(input.replace(/[?#].*$/, '')).replace(/\.[^.]*$/, '');
  const safe = base.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'image';
  const hash = createHash('sha1').update(input, 'utf8').digest('hex').slice(0, 10);
  return path.join(masksDir, `${safe}.${hash}.png`);
}

export async function writeMask(masksDir: string, input: string, png: Uint8Array): Promise<string> {
  const file = maskPath(masksDir, input);
  await writeFile(file, png);
  return file;
}

/** The label PNG of a server's JSON parse answer (per-label RLE masks), as the in-process run writes it. */
export function labelPngFromMasks(masks: Pick<Mask, 'id' | 'rle'>[], width: number, height: number): Promise<Buffer> {
  const wide = masks.some((m) => m.id > 255);
  const labels = wide ? new Uint16Array(width * height) : new Uint8Array(width * height);
  for (const { id, rle } of masks) {
    const mask = decodeMask(rle);
    for (let p = 0; p < mask.length; p++) if (mask[p]) labels[p] = id;
  }
  return encodeLabelPng(labels, width, height);
}
