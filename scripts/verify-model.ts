// npm run verify-model -- DIR [--original FILE.onnx]
// Checks a model folder: the card, the 1x1 map at the window size against the original's scores (given here or in
// golden.json), the grid on larger inputs, dense cells against crops (exact nets), and the golden cases.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { formatChecks, ImportError, originalReference, verifyModel } from '../model/import/index.ts';
import { cardSchema, goldenSchema, type Golden } from '../model/index.ts';
import { parseOrExit } from './parse-or-exit.ts';

const program = new Command('verify-model')
  .description('Verify a tagmap model folder (model.onnx, card.json, golden.json) and print the numbers.')
  .argument('<dir>', 'model folder, e.g. model/zoo/imagenet')
  .option('--original <file>', 'the third-party ONNX file it was imported from, to compare scores at the window size');

parseOrExit(program);

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ImportError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

const [dir] = program.args;
const { original } = program.opts<{ original?: string }>();
try {
  const parsedCard = cardSchema.safeParse(readJson(join(dir, 'card.json')));
  if (!parsedCard.success)
    throw new ImportError(
      `${join(dir, 'card.json')}: ` +
        `${parsedCard.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const card = parsedCard.data;
  const goldenFile = join(dir, 'golden.json');
  let golden: Golden | undefined;
  if (existsSync(goldenFile)) {
    const parsed = goldenSchema.safeParse(readJson(goldenFile));
    if (!parsed.success)
      throw new ImportError(
        `${goldenFile}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    golden = parsed.data;
  }
  const reference = original ? await originalReference(original, card) : undefined;
  const checks = await verifyModel(join(dir, 'model.onnx'), card, golden, reference);
  console.log(
    `${card.name} ${card.version}: ${card.labels.length} classes, window ${card.geometry.window} px, ` +
      `stride ${card.geometry.stride} px, exact ${card.geometry.exact}`,
  );
  console.log(formatChecks(checks));
  process.exit(checks.every((check) => check.ok) ? 0 : 1);
} catch (error) {
  if (!(error instanceof ImportError)) throw error;
  console.error(`verify-model: ${error.message}`);
  process.exit(1);
}
