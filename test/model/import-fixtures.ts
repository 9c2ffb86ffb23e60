// Shared by the importer suites: the third-party files in ../shared/models, torchvision-style exports made here with
// PyTorch, label files, and a plain onnxruntime run of an original file (no importer code involved).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSession, runSession, type NamedTensor } from '../../model/runtime/ort.ts';

const SHARED_MODELS = path.resolve(import.meta.dirname, '../../../shared/models');
export const sharedModel = (name: string) => path.join(SHARED_MODELS, name);
const REPO = path.resolve(import.meta.dirname, '../..');

export function scratchDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-import-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The torchvision-style classifiers of make_torch_classifiers.py, exported once per version of that script into a
 * shared temporary folder (both importer suites use them; PyTorch takes seconds to start).
 */
export function torchClassifiers(): string {
  const script = path.join(REPO, 'test/model/make_torch_classifiers.py');
  const version = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 12);
  const dir = path.join(tmpdir(), `tagmap-torch-classifiers-${version}`);
  if (existsSync(dir)) return dir;
  const building = mkdtempSync(`${dir}-`);
  const result = spawnSync('node', ['scripts/python.mjs', script, building], { cwd: REPO, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`making the torch classifiers failed:\n${result.stderr}`);
  try {
    renameSync(building, dir);
  } catch {
    rmSync(building, { recursive: true, force: true }); // another suite finished first
  }
  return dir;
}

export function labelsFile(dir: string, names: string[]): string {
  const file = path.join(dir, `labels-${names.length}.txt`);
  writeFileSync(file, `${names.join('\n')}\n`);
  return file;
}

/** Runs an original float32 ONNX file as it is, returning its first output. */
export async function runOriginal(file: string, inputName: string, input: NamedTensor): Promise<NamedTensor> {
  const { session } = await openSession(file, { device: 'cpu', intraOpThreads: 1 });
  try {
    const [output] = session.outputNames;
    return (await runSession(session, inputName, input, [output]))[output];
  } finally {
    await session.release();
  }
}

export const softmax = (scores: ArrayLike<number>): number[] => {
  const max = Math.max(...Array.from(scores));
  const exps = Array.from(scores, (s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
};

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((max, value, i) => Math.max(max, Math.abs(value - b[i])), 0);

/** Largest magnitude, at least 1: differences are judged relative to it. */
export const magnitude = (values: ArrayLike<number>) => Math.max(1, ...Array.from(values, Math.abs));
