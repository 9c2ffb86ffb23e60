// Helpers for the batch CLI suites: the real `scripts/tag.ts` run as a child process, and a temp folder of
// real photos with broken and non-image files. Models folders come from test/model/zoo.ts (a missing bundled
// model fails the suite).
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PHOTOS } from '../model/zoo.ts';

export { modelsFolder } from '../model/zoo.ts';
export { PHOTOS };
const REPO = path.resolve(import.meta.dirname, '../..');

export interface PhotoFolder {
  dir: string;
  /** decodable photos, as the CLI names them (folder walk) */
  good: string[];
  /** a JPEG cut in half */
  truncated: string;
  /** text in a file named .jpg */
  fake: string;
  /** a text file the folder walk must leave out */
  notes: string;
  remove: () => void;
}

/** Real photos in a temp folder (one in a subfolder), with a truncated JPEG, a fake JPEG and a text file. */
export function photoFolder(): PhotoFolder {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-batch-photos-'));
  mkdirSync(path.join(dir, 'sub'));
  const good = ['chelsea.png', 'coffee.png', 'rocket.jpg', 'sub/Landscape_3.JPG'].map((name) => path.join(dir, name));
  copyFileSync(path.join(PHOTOS, 'chelsea.png'), good[0]);
  copyFileSync(path.join(PHOTOS, 'coffee.png'), good[1]);
  copyFileSync(path.join(PHOTOS, 'rocket.jpg'), good[2]);
  copyFileSync(path.join(PHOTOS, 'exif-orientation/Landscape_3.jpg'), good[3]);
  const truncated = path.join(dir, 'truncated.jpg');
  const rocket = readFileSync(path.join(PHOTOS, 'rocket.jpg'));
  writeFileSync(truncated, rocket.subarray(0, rocket.length >> 1));
  const fake = path.join(dir, 'fake.jpg');
  writeFileSync(fake, 'this is text, not a JPEG\n');
  const notes = path.join(dir, 'notes.txt');
  writeFileSync(notes, 'a text file next to the photos\n');
  return { dir, good, truncated, fake, notes, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** n copies of one small photo, for runs long enough to interrupt. */
export function copies(dir: string, n: number, photo = 'rocket.jpg'): string[] {
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: n }, (_, i) => {
    const file = path.join(dir, `copy-${String(i).padStart(3, '0')}.jpg`);
    copyFileSync(path.join(PHOTOS, photo), file);
    return file;
  });
}

/** Lean in-process settings for the shared 2-core test machine. */
export const LEAN = ['--device', 'cpu', '--workers', '1', '--concurrency', '2'];

/** `env` is added to this process's environment. */
export function spawnTag(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts/tag.ts'), ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export interface TagRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function finished(child: ChildProcess): Promise<TagRun> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the CLI to the end, with `stdin` (or nothing) on its standard input. */
export function runTag(args: string[], stdin = '', env: Record<string, string> = {}): Promise<TagRun> {
  const child = spawnTag(args, env);
  const done = finished(child);
  child.stdin!.end(stdin);
  return done;
}

export interface JsonRow {
  input: string;
  ok: boolean;
  tags?: Array<{
    label: string;
    id: number;
    score: number;
    parents: string[];
    categories?: string[];
    classes?: Array<{ label: string; id: number; score: number }>;
    finer?: string;
  }>;
  width?: number;
  height?: number;
  ms?: number;
  error?: { code: string; message: string };
}

export const jsonRows = (text: string): JsonRow[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as JsonRow);

export const byInput = (rows: JsonRow[]) => new Map(rows.map((r) => [r.input, r]));
