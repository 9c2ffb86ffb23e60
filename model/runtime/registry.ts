// The model registry: every folder of the models directory holds model.onnx and card.json. A bad card or a
// missing model stops start-up with an error that names the file and the field, and so does a model.onnx whose
// sha256 is not the one its card pins.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { cardSchema, type Card } from '../contract/card.ts';
import { readCheckedJson } from './json-file.ts';
import { loadVocabulary, VocabularyError, type LoadedVocabulary } from './vocabulary.ts';

export interface ModelEntry {
  name: string;
  dir: string;
  modelPath: string;
  card: Card;
  sha256: string;
  /** the photo vocabulary the card names, checked against its classes */
  vocabulary?: LoadedVocabulary;
}

export class ModelLoadError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ModelLoadError';
  }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const readCard = (file: string): Promise<Card> =>
  readCheckedJson(file, cardSchema, 'card', (detail) => new ModelLoadError(file, detail));

async function loadModel(dir: string): Promise<ModelEntry> {
  const cardFile = path.join(dir, 'card.json');
  const modelPath = path.join(dir, 'model.onnx');
  const card = await readCard(cardFile);
  const info = await stat(modelPath).catch(() => undefined);
  if (!info?.isFile())
    throw new ModelLoadError(modelPath, 'missing: every model folder needs model.onnx next to card.json');
  const sha256 = await sha256Of(modelPath);
  if (card.sha256 !== undefined && card.sha256 !== sha256)
    throw new ModelLoadError(
      modelPath,
      `sha256 ${sha256} is not the ${card.sha256} that ${cardFile} pins: the file changed after its card was ` +
        'written (restore it, or pin the new hash with npm run pin-model)',
    );
  const vocabulary = card.vocabulary ? await readVocabulary(dir, card) : undefined;
  return { name: card.name, dir, modelPath, card, sha256, vocabulary };
}

async function readVocabulary(dir: string, card: Card): Promise<LoadedVocabulary> {
  const file = path.join(dir, card.vocabulary!);
  try {
    return await loadVocabulary(file, card);
  } catch (error) {
    if (!(error instanceof VocabularyError)) throw error;
    const named = `${path.join(dir, 'card.json')} (vocabulary: "${card.vocabulary}")`;
    throw new ModelLoadError(error.file, `${error.detail}; named by ${named}`);
  }
}

/** Loads every model folder of `modelsDir`, sorted by folder name. */
export async function loadRegistry(modelsDir: string): Promise<ModelEntry[]> {
  const dirents = await readdir(modelsDir, { withFileTypes: true }).catch((error: Error) => {
    throw new ModelLoadError(modelsDir, `cannot read the models folder: ${error.message}`);
  });
  // model folders may be symbolic links (a deployment linking models from elsewhere)
  const isFolder = async (name: string) =>
    (await stat(path.join(modelsDir, name)).catch(() => undefined))?.isDirectory() ?? false;
  const names = dirents
    .filter((d) => d.isDirectory() || d.isSymbolicLink())
    .map((d) => d.name)
    .sort();
  const dirs = (await Promise.all(names.map(async (n) => ((await isFolder(n)) ? n : undefined)))).filter(
    (n) => n !== undefined,
  );
  const entries = await Promise.all(dirs.map((d) => loadModel(path.join(modelsDir, d))));
  if (entries.length === 0)
    throw new ModelLoadError(modelsDir, 'no model folders (each needs card.json and model.onnx)');
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const other = seen.get(entry.name);
    if (other)
      throw new ModelLoadError(path.join(entry.dir, 'card.json'), `name: "${entry.name}" is also the name of ${other}`);
    seen.set(entry.name, entry.dir);
  }
  return entries;
}

/** The default model: the configured one, else imagenet when present, else the first. */
export function pickDefault(entries: ModelEntry[], wanted?: string): string {
  if (wanted) {
    if (!entries.some((e) => e.name === wanted)) {
      throw new ModelLoadError(
        'defaultModel',
        `"${wanted}" is not a loaded model (loaded: ${entries.map((e) => e.name).join(', ')})`,
      );
    }
    return wanted;
  }
  return entries.find((e) => e.name === 'imagenet')?.name ?? entries[0].name;
}
