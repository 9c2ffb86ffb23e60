// npm run import-model -- FILE.onnx --name NAME --labels LABELS --out DIR [options]
// Rewrites a third-party ONNX classifier as a fully convolutional tagmap model and verifies it against the original;
// a TFLite segmenter (a graph ending in ARG_MAX, e.g. DeepLab) is found as such and imported for task parse.
import { Command, InvalidArgumentError, Option } from 'commander';
import { positiveInteger, positiveNumber } from './cli-numbers.ts';
import { formatChecks, ImportError, importModel } from '../model/import/index.ts';
import { COLOR_ORDERS, PAD_MODES, SCORE_POOLINGS } from '../model/index.ts';
import { parseOrExit } from './parse-or-exit.ts';

const numbers = (value: string) => {
  const list = value.split(',').map(Number);
  if (list.some((n) => !Number.isFinite(n)))
    throw new InvalidArgumentError('expected comma-separated numbers, e.g. 123.7,116.3,103.5');
  return list;
};
const fraction = (value: string) => {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
};

const program = new Command('import-model')
  .description(
    'Import a third-party ONNX classifier as a fully convolutional tagmap model (model.onnx, card.json, golden.json).',
  )
  .argument('<file>', 'the classifier: ONNX (float or int8) or TFLite (.tflite); or a TFLite segmenter (ARG_MAX tail)')
  .requiredOption('--name <name>', 'model name (lower-case letters, digits, _ and -)')
  .requiredOption(
    '--labels <file>',
    'class names: text (one per line), JSON array, or ImageNet index JSON {"0": [wnid, name]}',
  )
  .requiredOption('--out <dir>', 'output folder, e.g. model/zoo/NAME')
  .option('--window <px>', "window size (default: the model's fixed input size)", positiveInteger)
  .addOption(
    new Option('--color <order>', 'channel order the model expects (default rgb, or gray for 1 channel)').choices(
      COLOR_ORDERS,
    ),
  )
  .option('--scale <s>', 'tensor = (pixel * scale - mean) / std, pixel 0..255 (default 1)', positiveNumber)
  .option('--mean <a,b,c>', 'per-channel mean (default 0)', numbers)
  .option('--std <a,b,c>', 'per-channel std (default 1)', numbers)
  .option('--short-side <px>', 'shorter image side the model was trained at (default: the window)', positiveInteger)
  .addOption(new Option('--pad <mode>', 'how the runtime pads image borders (default edge)').choices(PAD_MODES))
  .option(
    '--wordnet <dir>',
    'WordNet dict folder with data.noun, for the parents of labels with WordNet ids',
    '/usr/share/wordnet',
  )
  .option('--wnids <file>', 'ImageNet index JSON {"0": [wnid, name]}: WordNet ids for the labels by position')
  .option('--vocabulary <file>', 'photo vocabulary JSON to copy into the folder and name in the card')
  .option('--description <text>', 'one line for the card')
  .option('--license <text>', 'licence of the weights')
  .option('--origin <text>', 'where the original file came from')
  .option('--no-activation', 'do not expose the map before a pooling head as a second output')
  .option('--dequantize', 'int8 models: convert the trunk to float too (default: keep the int8 trunk, faster on CPUs)')
  .addOption(new Option('--pool <pool>', 'card default: how tags pool the map').choices(SCORE_POOLINGS))
  .option('--scales <list>', 'card default: scales relative to the short side, e.g. 1,2', numbers)
  .option('--top-k <n>', 'card default: number of tags', positiveInteger)
  .option('--min-score <p>', 'card default: smallest tag score', fraction);

parseOrExit(program);

const [file] = program.args;
const o = program.opts();
const defaults = Object.fromEntries(
  Object.entries({ pool: o.pool, scales: o.scales, topK: o.topK, minScore: o.minScore }).filter(
    ([, v]) => v !== undefined,
  ),
);
try {
  const result = await importModel({
    file,
    name: o.name,
    labels: o.labels,
    out: o.out,
    window: o.window,
    color: o.color,
    scale: o.scale,
    mean: o.mean,
    std: o.std,
    shortSide: o.shortSide,
    pad: o.pad,
    wordnet: o.wordnet,
    wnids: o.wnids,
    vocabulary: o.vocabulary,
    description: o.description,
    license: o.license,
    origin: o.origin,
    activation: o.activation,
    dequantize: o.dequantize,
    defaults: Object.keys(defaults).length ? defaults : undefined,
  });
  const { card } = result;
  console.log(
    `imported ${file} as '${card.name}'` +
      // segmenters are found by their ARG_MAX tail, no flag needed
      `${card.tasks.includes('parse') ? ' (a segmenter: its ARG_MAX tail was cut, task parse)' : ''}: ` +
      `${card.labels.length} classes, window ${card.geometry.window} px, ` +
      `stride ${card.geometry.stride} px, exact ${card.geometry.exact}, output ${card.output.kind}`,
  );
  for (const line of card.source.kind === 'imported' ? card.source.rewrites : []) console.log(`  rewrite: ${line}`);
  console.log(formatChecks(result.checks));
  console.log(`wrote ${result.files.join(', ')}`);
} catch (error) {
  if (!(error instanceof ImportError)) throw error;
  console.error(`import-model: ${error.message}`);
  process.exit(1);
}
