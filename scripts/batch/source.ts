// The bytes of one input file. Read errors become error rows with a code that says what went wrong.
import { readFile, stat } from 'node:fs/promises';
import { TagmapError } from '../../model/index.ts';
import { BatchError } from './errors.ts';

/** Files larger than this are refused before reading (no image tagmap decodes is near it). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

export async function readImageFile(file: string): Promise<Buffer> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new BatchError('input_unreadable', `${file} is not a file`);
    if (info.size > MAX_FILE_BYTES) {
      throw new TagmapError('too_large', `${file} is ${info.size} bytes; files up to ${MAX_FILE_BYTES} bytes are read`);
    }
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BatchError('input_not_found', `no such file: ${file}`);
    if (code) throw new BatchError('input_unreadable', `cannot read ${file}: ${(error as Error).message}`);
    throw error;
  }
}
