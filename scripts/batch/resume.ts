// --resume: the inputs that already have a row in the output file. A run killed in the middle of a write
// can leave a last line without its newline; it is cut off before appending, and its input is done again.
// A CSV output's header must be this task's, or an earlier tagmap's (then the run goes on in that layout).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { csvColumns, resumedColumns, type FormatName, type Task } from './formats.ts';

/** Cuts the file after its last newline; returns how many bytes were dropped. */
async function dropTornTail(file: string): Promise<number> {
  const handle = await open(file, 'r+');
  try {
    const { size } = await handle.stat();
    const chunk = Buffer.alloc(64 * 1024);
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, end - start, start);
      const newline = chunk.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (newline >= 0) {
        const keep = start + newline + 1;
        if (keep < size) await handle.truncate(keep);
        return size - keep;
      }
      end = start;
    }
    if (size > 0) await handle.truncate(0);
    return size;
  } finally {
    await handle.close();
  }
}

async function jsonlInputs(file: string, done: Set<string>): Promise<void> {
  let lineNo = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    lineNo++;
    if (!line.trim()) continue;
    let input: unknown;
    try {
      input = (JSON.parse(line) as { input?: unknown }).input;
    } catch {
      input = undefined;
    }
    if (typeof input !== 'string')
      throw new Error(`${file}:${lineNo} is not a tagmap JSONL row; --resume needs the output of an earlier run`);
    done.add(input);
  }
}

/** Adds the inputs of a CSV output to `done`; returns how many columns its header has (none: empty file). */
async function csvInputs(file: string, task: Task, done: Set<string>): Promise<number | undefined> {
  const records = createReadStream(file).pipe(parse({ relax_column_count: true }));
  let columns: number | undefined;
  for await (const record of records as AsyncIterable<string[]>) {
    if (columns === undefined) columns = resumedColumns(record, task);
    else done.add(record[0]);
  }
  return columns;
}

export interface ResumeState {
  done: Set<string>;
  tornBytes: number;
  /** CSV: the columns of the file's header, when it has the header of an earlier tagmap's (fewer columns) */
  columns?: number;
}

/** Reads the rows already in `file` (none when it does not exist yet). */
export async function readFinished(file: string, format: FormatName, task: Task): Promise<ResumeState> {
  const done = new Set<string>();
  const exists = await open(file, 'r').then(
    (h) => h.close().then(() => true),
    () => false,
  );
  if (!exists) return { done, tornBytes: 0 };
  const tornBytes = await dropTornTail(file);
  if (format === 'jsonl') {
    await jsonlInputs(file, done);
    return { done, tornBytes };
  }
  const columns = await csvInputs(file, task, done);
  return { done, tornBytes, ...(columns !== undefined && columns < csvColumns(task).length ? { columns } : {}) };
}
