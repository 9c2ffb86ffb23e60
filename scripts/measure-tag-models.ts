// npm run measure-tag-models -- --data DIR [--map FILE] [--classes A,B] [--parser voc] [--scales 1,0.625]
//   [--pools max,mean] [--choose train,val] [--report test] [--json FILE]
// The measurements behind a scene parser's `mask` settings (how its masks join the tagger's tags in the combined
// default tag request): for each parser scale and pooling, every image of the splits is tagged once through the
// real combination with the gates open (a temp copy of the models folder whose parser vocabulary says minShare 0,
// agreement 0), keeping each label's evidence. The gates (minShare, agreement) and the fusion are then replayed
// over those scores with model/'s own rule (maskVerdict), chosen by mAP on --choose and reported on --report.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import {
  BUNDLED_MODELS,
  MASK_FUSE_MODES,
  SCORE_POOLINGS,
  maskVerdict,
  type MaskTagsSettings,
  type ScorePooling,
  type TagResult,
  type Vocabulary,
} from '../model/index.ts';
import { averagePrecision, meanOf } from './measure-tags/average-precision.ts';
import { readEvaluation } from './measure-tags/evaluation.ts';
import { measure } from './measure-tags/run.ts';
import { localTagger } from './measure-tags/taggers.ts';
import { parseOrExit } from './parse-or-exit.ts';

const MIN_SHARES = [0, 0.002, 0.005, 0.01, 0.02, 0.05];
const AGREEMENTS = [0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2];

const list = (v: string) => v.split(',').map((s) => s.trim());
const program = new Command('measure-tag-models')
  .description("Choose a scene parser's mask settings for combined tags by mAP on labelled photos (in-process).")
  .requiredOption('--data <dir>', 'the data set folder, e.g. ../shared/data/msrc21')
  .option('--models <dir>', 'the models folder (tagger and parser)', BUNDLED_MODELS)
  .option('--parser <name>', 'the scene parser whose vocabulary.mask is measured', 'voc')
  .option('--map <file>', 'the mapping file', path.relative(process.cwd(), 'scripts/measure-tags/msrc21-combined.json'))
  .option('--classes <names>', 'evaluate only these classes of the mapping, comma-separated')
  .option('--scales <list>', "the parser's scales to try", (v) => list(v).map(Number), [1])
  .option('--pools <list>', "the parser's score poolings to try", list, ['max'])
  .option('--choose <splits>', 'choose on these splits', 'train,val')
  .option('--report <splits>', 'report the choice on these splits', 'test')
  .option('--min-share <share>', 'a class is present from this share of the non-void pixels', Number, 0.01)
  .option('--json <file>', 'also write every setting with its mAPs as JSON');
parseOrExit(program);
const options = program.opts<{
  data: string;
  models: string;
  parser: string;
  map: string;
  classes?: string;
  scales: number[];
  pools: string[];
  choose: string;
  report: string;
  minShare: number;
  json?: string;
}>();
for (const pool of options.pools)
  if (!SCORE_POOLINGS.includes(pool as ScorePooling)) program.error(`--pools: ${pool} is not one of ${SCORE_POOLINGS}`);

const chooseSplits = list(options.choose);
const reportSplits = list(options.report);
const evaluation = readEvaluation({ ...options, split: [...chooseSplits, ...reportSplits].join(',') });
const { mapping, dataset } = evaluation;
const classNames = [...mapping.classes.keys()];
const splitOf = new Map(
  [...chooseSplits, ...reportSplits].flatMap((split) => dataset.splits[split].map((name) => [name, split])),
);

/** One label's evidence in one image: the tagger's score, the parser's score, share and agreement. */
interface Evidence {
  tagger?: number;
  parser?: { score: number; share: number; agreement?: number };
}
interface Recorded {
  name: string;
  present: string[];
  labels: Map<string, Evidence>;
}

function evidenceOf(result: TagResult): Map<string, Evidence> {
  const tagger = result.model.name;
  return new Map(
    result.tags.map((tag) => {
      const own = tag.models ?? [{ name: tagger, score: tag.score }];
      const parser = own.find((m) => m.name === options.parser);
      return [
        tag.label,
        {
          tagger: own.find((m) => m.name === tagger)?.score,
          ...(parser && { parser: { score: parser.score, share: tag.coverage, agreement: parser.agreement } }),
        },
      ];
    }),
  );
}

async function record(scale: number, pool: string): Promise<Recorded[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-measure-tag-models-'));
  try {
    cpSync(options.models, dir, { recursive: true, dereference: true });
    const vocabularyFile = path.join(dir, options.parser, 'vocabulary.json');
    const vocabulary = JSON.parse(readFileSync(vocabularyFile, 'utf8')) as Vocabulary;
    const open: MaskTagsSettings = { scale, pool: pool as ScorePooling, minShare: 0, agreement: 0, fuse: 'max' };
    writeFileSync(vocabularyFile, JSON.stringify({ ...vocabulary, mask: open }));
    const tagger = await localTagger({ modelsDir: dir, workers: 2 });
    const rows: Recorded[] = [];
    try {
      const started = performance.now();
      const report = await measure({
        ...evaluation,
        tagger,
        options: {},
        minShare: options.minShare,
        concurrency: 2,
        keep: (image, result) => rows.push({ name: image.name, present: [], labels: evidenceOf(result) }),
        progress: (done, total) => {
          if (done % 100 === 0 || done === total)
            process.stderr.write(
              `scale ${scale} ${pool}: ${done}/${total}, ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
            );
        },
      });
      const present = new Map(report.images.map((row) => [row.name, row.present]));
      for (const row of rows) row.present = present.get(row.name)!;
      return rows;
    } finally {
      await tagger.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type Gates = Pick<MaskTagsSettings, 'minShare' | 'agreement' | 'fuse'>;

/** mAP over the rows of some splits, each label scored as the combination would with these gates. */
function replay(rows: Recorded[], gates: Gates, splits: string[]) {
  const chosen = rows.filter((row) => splits.includes(splitOf.get(row.name)!));
  const scoreOf = (e: Evidence | undefined) =>
    (e?.parser && maskVerdict(gates, { ...e.parser, taggerScore: e.tagger })) ?? e?.tagger ?? 0;
  const aps = classNames.map((name) => {
    const labels = mapping.classes.get(name)!;
    return averagePrecision(
      chosen.map((row) => Math.max(...labels.map((l) => scoreOf(row.labels.get(l))))),
      chosen.map((row) => row.present.includes(name)),
    );
  });
  return { mAP: meanOf(aps), aps };
}

const fixed = (v: number | null) => (v === null ? '-' : v.toFixed(3));
/** rows shown per parser setting: the best by mAP on --choose */
const SHOWN = 12;
const results = [];
for (const scale of options.scales) {
  for (const pool of options.pools) {
    const rows = await record(scale, pool);
    const alone = replay(rows, { minShare: 2, agreement: 2, fuse: 'max' }, chooseSplits);
    const settings = MASK_FUSE_MODES.flatMap((fuse) =>
      MIN_SHARES.flatMap((minShare) => AGREEMENTS.map((agreement) => ({ minShare, agreement, fuse }))),
    ).map((gates) => ({
      scale,
      pool,
      ...gates,
      choose: replay(rows, gates, chooseSplits),
      report: replay(rows, gates, reportSplits),
    }));
    results.push(...settings);
    console.log(`\nparser ${options.parser} at scale ${scale}, pool ${pool}; the tagger alone: ${fixed(alone.mAP)}`);
    console.log(`| minShare | agreement | fuse | mAP ${chooseSplits.join('+')} | mAP ${reportSplits.join('+')} |`);
    console.log('|---|---|---|---|---|');
    for (const r of [...settings].sort((a, b) => (b.choose.mAP ?? 0) - (a.choose.mAP ?? 0)).slice(0, SHOWN))
      console.log(`| ${r.minShare} | ${r.agreement} | ${r.fuse} | ${fixed(r.choose.mAP)} | ${fixed(r.report.mAP)} |`);
  }
}
// both gates on (the rule: no mask tag without a share, no known class without the tagger); on a tie the
// stricter setting, which comes later in the loops
const gated = results.filter((r) => r.minShare > 0 && r.agreement > 0);
const best = gated.reduce((a, b) => ((b.choose.mAP ?? 0) >= (a.choose.mAP ?? 0) ? b : a));
console.log(
  `\nchosen on ${chooseSplits.join('+')} (both gates on): scale ${best.scale}, pool ${best.pool}, minShare ` +
    `${best.minShare}, agreement ${best.agreement}, fuse ${best.fuse}: ${fixed(best.choose.mAP)}; ` +
    `${reportSplits.join('+')} ${fixed(best.report.mAP)}`,
);
console.log(`| splits | ${classNames.join(' | ')} |\n|---|${classNames.map(() => '---|').join('')}`);
console.log(`| ${chooseSplits.join('+')} | ${best.choose.aps.map(fixed).join(' | ')} |`);
console.log(`| ${reportSplits.join('+')} | ${best.report.aps.map(fixed).join(' | ')} |`);
if (options.json) writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
