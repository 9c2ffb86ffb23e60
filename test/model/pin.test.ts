// Pinning a card to its model.onnx: every import writes the pin (writeModelFolder), npm run pin-model writes it
// for folders made otherwise, and the registry then accepts the folder as it is and refuses it once the file changes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegistry } from '../../model/index.ts';
import { writeModelFolder } from '../../model/import/model-folder.ts';
import { modelsFolder, zooModelDir } from './zoo.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** fashion's card without its pin */
function unpinnedCard() {
  const { sha256: _pin, ...card } = readJson(path.join(zooModelDir('fashion'), 'card.json'));
  return card;
}

describe('pins', () => {
  it('an imported folder pins its model.onnx right after the version, and the registry accepts it', async () => {
    const folder = modelsFolder([]);
    try {
      const out = path.join(folder.dir, 'fashion');
      const model = readFileSync(path.join(zooModelDir('fashion'), 'model.onnx'));
      const golden = readJson(path.join(zooModelDir('fashion'), 'golden.json'));
      writeModelFolder(out, { model, card: unpinnedCard(), golden, checks: [] });
      const written = readJson(path.join(out, 'card.json'));
      expect(Object.keys(written).slice(0, 3)).toEqual(['name', 'version', 'sha256']);
      expect(written.sha256).toBe(sha256Of(path.join(out, 'model.onnx')));
      const [entry] = await loadRegistry(folder.dir);
      expect(entry.sha256).toBe(written.sha256);
    } finally {
      folder.remove();
    }
  });

  it('npm run pin-model pins a folder, and says so', () => {
    const folder = modelsFolder(['fashion'], true);
    try {
      const dir = path.join(folder.dir, 'fashion');
      writeFileSync(path.join(dir, 'card.json'), JSON.stringify(unpinnedCard(), null, 2));
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/pin-model.ts', dir], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const sha256 = sha256Of(path.join(dir, 'model.onnx'));
      expect(run.stdout.trim()).toBe(`${path.join(dir, 'card.json')}: pinned ${sha256}`);
      expect(readJson(path.join(dir, 'card.json')).sha256).toBe(sha256);
    } finally {
      folder.remove();
    }
  });
});
