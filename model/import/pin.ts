// A card that pins its model.onnx: the file's sha256 written into card.json right after the version, so that
// the registry refuses the folder when model.onnx changes (npm run pin-model, and every import).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The card with `sha256` set to the model's hash, placed after `version` (JSON keys keep their order). */
export function pinnedCard<C extends object>(card: C, model: Uint8Array): C & { sha256: string } {
  const sha256 = sha256Hex(model);
  const entries = Object.entries(card).filter(([key]) => key !== 'sha256');
  const at = entries.findIndex(([key]) => key === 'version') + 1;
  entries.splice(at, 0, ['sha256', sha256]);
  return Object.fromEntries(entries) as C & { sha256: string };
}

/** Pins dir/card.json to dir/model.onnx; returns the hash and what the card pinned before (if anything). */
export function pinModelFolder(dir: string): { card: string; sha256: string; previous?: string } {
  const cardFile = join(dir, 'card.json');
  const card = JSON.parse(readFileSync(cardFile, 'utf8')) as { sha256?: string };
  const pinned = pinnedCard(card, readFileSync(join(dir, 'model.onnx')));
  writeFileSync(cardFile, `${JSON.stringify(pinned, null, 2)}\n`);
  return { card: cardFile, sha256: pinned.sha256, previous: card.sha256 };
}
