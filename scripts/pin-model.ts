// npm run pin-model -- DIR...
// Pins each model folder's card.json to its model.onnx (the file's sha256 in the card's "sha256"), so that a
// server refuses to start when the file changes. Imports pin their cards already; run this after editing or
// exporting a model.onnx by other means.
import { Command } from 'commander';
import { pinModelFolder } from '../model/import/index.ts';
import { parseOrExit } from './parse-or-exit.ts';

const program = new Command('pin-model')
  .description("Write the sha256 of each folder's model.onnx into its card.json.")
  .argument('<dirs...>', 'model folders, e.g. model/zoo/imagenet');

parseOrExit(program);

let failed = false;
for (const dir of program.args) {
  try {
    const { card, sha256, previous } = pinModelFolder(dir);
    const change =
      previous === undefined ? 'pinned' : previous === sha256 ? 'unchanged' : `re-pinned (was ${previous})`;
    console.log(`${card}: ${change} ${sha256}`);
  } catch (error) {
    console.error(`pin-model: ${dir}: ${(error as Error).message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
