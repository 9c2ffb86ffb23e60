// Label PNGs of --task parse: one file per input, named so that different inputs never collide and the same
// input always lands on the same file (a resumed run overwrites a mask whose row was never written).
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export function maskPath(masksDir: string, input: string): string {
  const base = path.basename(input.replace(/[?#].*$/, '')).replace(/\.[^.]*$/, '');
  const safe = base.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80) || 'image';
  const hash = createHash('sha1').update(input, 'utf8').digest('hex').slice(0, 10);
  return path.join(masksDir, `${safe}.${hash}.png`);
}

export async function writeMask(masksDir: string, input: string, png: Buffer): Promise<string> {
  const file = maskPath(masksDir, input);
  await writeFile(file, png);
  return file;
}
