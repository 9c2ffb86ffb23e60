// Where rows go: a file (created, truncated, or appended to on --resume) or stdout. Every call to write()
// is one write(2), which the kernel completes whole for a regular file.
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';

export interface RowSink {
  write(text: string): void;
  close(): void;
}

export function openSink(file: string | undefined, append: boolean, header: string | undefined): RowSink {
  if (file === undefined) {
    if (header) process.stdout.write(header);
    return { write: (text) => void process.stdout.write(text), close: () => undefined };
  }
  const fd = openSync(file, append ? 'a' : 'w');
  if (header && fstatSync(fd).size === 0) writeSync(fd, header);
  return { write: (text) => void writeSync(fd, text), close: () => closeSync(fd) };
}
