// npm run measure-tags-grid -- --data DIR [--split train,val] [--model imagenet] [--map FILE] [--classes A,B]
//   [--pads edge,reflect,zero,none]
//   [--pools max,mean,topk,logit-mean] [--scales 1 --scales 1,2] [--json FILE]
// The measurements behind a tagging model's card: `npm run measure-tags` in-process for every border padding
// (a copy of the model folder in a temp dir with its card's input.pad edited; the zoo is left alone), score
// pooling and set of scales. Prints one Markdown row per setting: mAP and each class's AP.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { BUNDLED_MODELS, PAD_MODES, SCORE_POOLINGS, type Card } from '../model/index.ts';
import { readEvaluation } from './measure-tags/evaluation.ts';
import type { Report } from './measure-tags/report.ts';
import { measure } from './measure-tags/run.ts';
import { localTagger } from './measure-tags/taggers.ts';
import { parseOrExit } from './parse-or-exit.ts';

const choices =
  <T extends string>(allowed: readonly T[]) =>
  (v: string): T[] => {
    const values = v.split(',').map((s) => s.trim());
    const bad = values.filter((s) => !allowed.includes(s as T));
    if (bad.length > 0) throw new InvalidArgumentError(`expected some of ${allowed.join(', ')}`);
    return values as T[];
  };
const scales = (v: string, previous: number[][] | undefined) => {
  const values = v.split(',').map(Number);
  if (values.some((s) => !(s > 0))) throw new InvalidArgumentError('expected comma-separated positive numbers');
  return [...(previous ?? []), values];
};

const program = new Command('measure-tags-grid')
  .description("Measure a tagging model's mAP per border padding, score pooling and scales (in-process).")
  .requiredOption('--data <dir>', 'the data set folder, e.g. ../shared/data/msrc21')
  .option('--split <names>', 'the split(s), comma-separated', 'train,val')
  .option('--models <dir>', 'the folder holding the model', BUNDLED_MODELS)
  .option('--model <name>', 'the model to measure', 'imagenet')
  .option('--map <file>', 'the mapping file', path.relative(process.cwd(), 'scripts/measure-tags/msrc21-imagenet.json'))
  .option('--classes <names>', 'evaluate only these classes of the mapping, comma-separated')
  .option('--pads <list>', 'border paddings', choices(PAD_MODES), [...PAD_MODES])
  .option('--pools <list>', 'score poolings', choices(SCORE_POOLINGS), [...SCORE_POOLINGS])
  .option('--scales <list>', 'a set of scales; repeat for several (default: 1, and 1,2)', scales)
  .option('--min-share <share>', 'a class is present from this share of the non-void pixels', Number, 0.01)
  .option('--json <file>', 'also write every report as JSON');
parseOrExit(program);

const options = program.opts<{
  data: string;
  split: string;
  models: string;
  model: string;
  map: string;
  classes?: string;
  pads: Array<(typeof PAD_MODES)[number]>;
  pools: Array<(typeof SCORE_POOLINGS)[number]>;
  scales?: number[][];
  minShare: number;
  json?: string;
}>();

const evaluation = readEvaluation(options);
const { splits, images, mapping } = evaluation;
const card: Card = JSON.parse(readFileSync(path.join(options.models, options.model, 'card.json'), 'utf8'));
const classNames = [...mapping.classes.keys()];
const reports: Report[] = [];
const fixed = (v: number | null) => (v === null ? '-' : v.toFixed(3));

for (const pad of options.pads) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-measure-tags-'));
  cpSync(path.join(options.models, options.model), path.join(dir, options.model), {
    recursive: true,
    dereference: true,
  });
  writeFileSync(path.join(dir, options.model, 'card.json'), JSON.stringify({ ...card, input: { ...card.input, pad } }));
  const tagger = await localTagger({ modelsDir: dir, workers: 2 });
  try {
    for (const scaleSet of options.scales ?? [[1], [1, 2]]) {
      for (const pool of options.pools) {
        const report = await measure({
          ...evaluation,
          tagger,
          options: { model: options.model, pool, scales: scaleSet },
          minShare: options.minShare,
          concurrency: 2,
        });
        if (reports.length === 0) {
          const { name, version, sha256 } = report.model;
          console.log(`model ${name} ${version} sha256 ${sha256}; ${splits.join('+')}, ${images.length} images\n`);
          console.log(`| pad | scales | pool | mAP | ${classNames.join(' | ')} |`);
          console.log(`|---|---|---|---|${classNames.map(() => '---|').join('')}`);
        }
        reports.push(report);
        const aps = report.classes.map((c) => fixed(c.ap)).join(' | ');
        console.log(`| ${pad} | ${scaleSet.join(', ')} | ${pool} | **${fixed(report.mAP)}** | ${aps} |`);
        process.stderr.write(`${pad} ${scaleSet} ${pool}: ${report.seconds.toFixed(0)} s\n`);
      }
    }
  } finally {
    await tagger.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (options.json)
  writeFileSync(
    options.json,
    `${JSON.stringify(
      reports.map(({ images: _, ...r }) => r),
      null,
      2,
    )}\n`,
  );
