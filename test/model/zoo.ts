// Test helpers: a models folder holding only the named bundled models (symlinked), so a suite's worker pool
// opens just what it needs. A missing bundled model fails the suite; nothing is skipped.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../model/index.ts';
import type { TagmapConfig } from '../../model/index.ts';

const ZOO = path.resolve(import.meta.dirname, '../../model/zoo');
export const PHOTOS = path.resolve(import.meta.dirname, '../../../shared/photos');
export const photo = (name: string) => readFileSync(path.join(PHOTOS, name));
/** a photo of a dog: MSRC-21 train image 16_23_s (labels/ say dog) */
export const SHARED_DOG_PHOTO = path.resolve(PHOTOS, '../data/msrc21/images/16_23_s.jpg');

export function zooModelDir(name: string): string {
  const dir = path.join(ZOO, name);
  if (!existsSync(path.join(dir, 'model.onnx')) || !existsSync(path.join(dir, 'card.json'))) {
    throw new Error(`bundled model ${name} is missing: expected ${dir}/model.onnx and card.json`);
  }
  return dir;
}

/** A temporary models folder with the named bundled models; `copy` copies instead of linking (to edit). */
export function modelsFolder(names: string[], copy = false): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-models-'));
  for (const name of names) {
    const source = zooModelDir(name);
    if (copy) cpSync(source, path.join(dir, name), { recursive: true, dereference: true });
    else symlinkSync(source, path.join(dir, name), 'dir');
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Lean settings for the 2-core test machine. */
export const testConfig = (modelsDir: string, overrides: Partial<TagmapConfig> = {}): TagmapConfig =>
  defaultConfig({
    modelsDir,
    device: 'cpu',
    workers: 1,
    threadsPerWorker: 1,
    maxQueue: 4,
    logger: { info: () => undefined, warn: () => undefined },
    ...overrides,
  });
