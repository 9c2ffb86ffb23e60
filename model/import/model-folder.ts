// What every import's card begins with, and the end of every import: the checks must all pass (else nothing is
// written), their differences become the card's import-check metrics, and the folder gets model.onnx, card.json,
// golden.json and any vocabulary, the card pinning the model's sha256.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Card, Golden } from '../contract/card.ts';
import { ImportError } from './import-error.ts';
import { pinnedCard } from './pin.ts';
import type { ImportOptions, ImportResult } from './importer.ts';
import { formatChecks, type Check } from './verify.ts';

/** name, version, description, licence and source of an imported card; `what` describes it when no flag does. */
export function importedCardHead(options: ImportOptions, bytes: Uint8Array, rewrites: string[], what: string) {
  return {
    name: options.name,
    version: '1.0.0',
    description: options.description ?? `${basename(options.file)} imported as ${what}`,
    license: options.license ?? 'unknown: see the original model',
    source: {
      kind: 'imported' as const,
      file: basename(options.file),
      sha256: createHash('sha256').update(bytes).digest('hex'),
      rewrites,
      date: new Date().toISOString(),
      origin: options.origin,
    },
  };
}

export function writeModelFolder(
  out: string,
  parts: { model: Uint8Array; card: Card; golden: Golden; vocabulary?: Buffer; checks: Check[] },
): ImportResult {
  const { checks } = parts;
  if (checks.some((check) => !check.ok)) throw new ImportError(`verification failed:\n${formatChecks(checks)}`);
  const card = pinnedCard(parts.card, parts.model);
  card.metrics = {
    'import-check': Object.fromEntries(
      checks.filter((c) => c.maxAbsDiff !== undefined).map((c) => [c.name, c.maxAbsDiff!]),
    ),
  };
  mkdirSync(out, { recursive: true });
  const files = {
    'model.onnx': parts.model,
    'card.json': `${JSON.stringify(card, null, 2)}\n`,
    'golden.json': JSON.stringify(parts.golden),
    ...(parts.vocabulary && { 'vocabulary.json': parts.vocabulary }),
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(out, name), content);
  return { card, checks, files: Object.keys(files).map((name) => join(out, name)) };
}
