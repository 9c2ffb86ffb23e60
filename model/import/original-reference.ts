// The original third-party model's scores on a seeded window-size input: what the imported 1x1 map must equal.
// The scores are the tensor the card's output is named after (before any Softmax the importer removed).
import { readFileSync } from 'node:fs';
import type { Card } from '../contract/card.ts';
import { convertFloat16 } from './float16.ts';
import { ImportError } from './import-error.ts';
import { decodeModel } from './onnx-file.ts';
import { runModel } from './probe.ts';
import { seededInput } from './seeded-input.ts';
import type { Reference } from './verify.ts';

export async function originalReference(file: string, card: Card): Promise<Reference> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new ImportError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const model = decodeModel(bytes, file);
  convertFloat16(model);
  const input = seededInput(card.input, card.geometry.window, card.geometry.window, 3);
  const outputs = await runModel(model, card.input.name, input, [card.output.name]);
  return { input, output: outputs.get(card.output.name)!.data, source: `the original ${file}` };
}
