// Turns the command line's INPUTS into a lazy stream of input strings (file paths and URLs): folders are
// walked and globs matched as the run goes, lists are read line by line, so memory stays flat however many
// files there are.
import { createReadStream } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import fg from 'fast-glob';

const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'tif', 'tiff', 'avif'];
const imageName = new RegExp(`\\.(${IMAGE_EXTENSIONS.join('|')})$`, 'i');

export const isUrl = (text: string): boolean => /^https?:\/\//i.test(text);

/** Image files under a folder, recursively (symlinked files yes, symlinked folders no: they may loop). */
async function* walkFolder(dir: string): AsyncGenerator<string> {
  let folder;
  try {
    folder = await opendir(dir);
  } catch {
    yield dir; // its row will say why it could not be read
    return;
  }
  for await (const entry of folder) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walkFolder(full);
    else if ((entry.isFile() || entry.isSymbolicLink()) && imageName.test(entry.name)) yield full;
  }
}

async function* matchGlob(pattern: string): AsyncGenerator<string> {
  for await (const match of fg.stream(pattern, { onlyFiles: true })) {
    if (imageName.test(String(match))) yield String(match);
  }
}

/**
 * One argument or list line: a URL as is; an existing folder walked; an existing file as is, whatever its
 * name; else a glob when it has glob syntax (arguments only); else a file path whose row will say it is missing.
 */
async function* expandItem(item: string, globs: boolean): AsyncGenerator<string> {
  if (isUrl(item)) {
    yield item;
    return;
  }
  const info = await stat(item).catch(() => undefined);
  if (info?.isDirectory()) yield* walkFolder(item);
  else if (!info && globs && fg.isDynamicPattern(item)) yield* matchGlob(item);
  else yield item;
}

/** Non-empty lines of a list, trimmed; paths in it are relative to the working folder. */
async function* listLines(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    const item = line.trim();
    if (item) yield* expandItem(item, false);
  }
}

/** Every input named by the arguments: files, folders, globs, URLs, `-` (a list on stdin), `@list.txt`. */
export async function* expandInputs(args: string[], stdin: NodeJS.ReadableStream): AsyncGenerator<string> {
  for (const arg of args) {
    if (arg === '-') yield* listLines(stdin);
    else if (arg.startsWith('@')) yield* listLines(createReadStream(arg.slice(1)));
    else yield* expandItem(arg, true);
  }
}
