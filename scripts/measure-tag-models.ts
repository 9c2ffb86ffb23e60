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
  DEFAULTS,
  type Card,
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
  .option(
    '--tagger <name>',
    'the tagger (its vocabulary gives the thresholds of the precision/recall table)',
    'imagenet',
  )
  .option('--parser <name>', 'the scene parser whose vocabulary.mask is measured', 'voc')
  .option('--map <file>', 'the mapping file', path.relative(process.cwd(), 'scripts/measure-tags/msrc21-combined.json'))
  .option('--classes <names>', 'evaluate only these classes of the mapping, comma-separated')
  .option('--scales <list>', "the parser's scales to try", (v) => list(v).map(Number), [1])
  .option('--pools <list>', "the parser's score poolings to try", list, ['max'])
  .option('--choose <splits>', 'choose on these splits', 'train,val')
  .option('--report <splits>', 'report the choice on these splits', 'test')
  .option('--min-share <share>', 'a class is present from this share of the non-void pixels', Number, 0.01)
  .option('--json <file>', 'also write every setting with its mAPs as JSON')
  .option('--record <file>', "also write every image's recorded evidence as JSON (for --replay)")
  .option('--replay <file>', 'replay the gates over a --record file instead of running the models');
parseOrExit(program);
const options = program.opts<{
  data: string;
  models: string;
  tagger: string;
  parser: string;
  map: string;
  classes?: string;
  scales: number[];
  pools: string[];
  choose: string;
  report: string;
  minShare: number;
  json?: string;
  record?: string;
  replay?: string;
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

/**
 * A label is a tag from its threshold and the tagger card's default minScore: the tagger vocabulary's threshold,
 * or the parser vocabulary's once the mask has joined (model/tasks/combined-tags.ts).
 */
function thresholdsOf(model: string, floor: number): Map<string, number> {
  const dir = path.join(options.models, model);
  const card = JSON.parse(readFileSync(path.join(dir, 'card.json'), 'utf8')) as Card;
  const vocabulary = JSON.parse(readFileSync(path.join(dir, card.vocabulary!), 'utf8')) as Vocabulary;
  return new Map(vocabulary.labels.map((l) => [l.name, Math.max(floor, l.threshold ?? 0)]));
}
const taggerCard = JSON.parse(readFileSync(path.join(options.models, options.tagger, 'card.json'), 'utf8')) as Card;
const taggerMinScore = taggerCard.defaults?.minScore ?? DEFAULTS.minScore;
const taggerThresholds = thresholdsOf(options.tagger, taggerMinScore);
const parserThresholds = thresholdsOf(options.parser, taggerMinScore);

/**
 * mAP over the rows of some splits, each label scored as the combination would with these gates; and the
 * precision and recall of the tags a default request returns (each label at its threshold), over images x classes.
 */
function replay(rows: Recorded[], gates: Gates, splits: string[]) {
  const chosen = rows.filter((row) => splits.includes(splitOf.get(row.name)!));
  const joinedScore = (e: Evidence | undefined) =>
    e?.parser && maskVerdict(gates, { ...e.parser, taggerScore: e.tagger });
  const scoreOf = (e: Evidence | undefined) => joinedScore(e) ?? e?.tagger ?? 0;
  const isTag = (label: string, e: Evidence | undefined) => {
    const joined = joinedScore(e);
    const threshold = (joined === undefined ? taggerThresholds : parserThresholds).get(label) ?? DEFAULTS.minScore;
    return (joined ?? e?.tagger ?? 0) >= threshold;
  };
  let [hits, tagged, present] = [0, 0, 0];
  const aps = classNames.map((name) => {
    const labels = mapping.classes.get(name)!;
    const positive = chosen.map((row) => row.present.includes(name));
    chosen.forEach((row, n) => {
      const shown = labels.some((l) => isTag(l, row.labels.get(l)));
      hits += shown && positive[n] ? 1 : 0;
      tagged += shown ? 1 : 0;
      present += positive[n] ? 1 : 0;
    });
    return averagePrecision(
      chosen.map((row) => Math.max(...labels.map((l) => scoreOf(row.labels.get(l))))),
      positive,
    );
  });
  return { mAP: meanOf(aps), aps, precision: hits / Math.max(1, tagged), recall: hits / Math.max(1, present) };
}

const toJson = (row: Recorded) => ({ ...row, labels: [...row.labels] });
/** a --replay file's rows, by "scale pool" */
const recorded = new Map<string, Recorded[]>(
  options.replay
    ? (JSON.parse(readFileSync(options.replay, 'utf8')) as Array<[string, Array<ReturnType<typeof toJson>>]>).map(
        ([key, rows]) => [key, rows.map((row) => ({ ...row, labels: new Map(row.labels) }))],
      )
    : [],
);

const fixed = (v: number | null) => (v === null ? '-' : v.toFixed(3));
/** rows shown per parser setting: the best by mAP on --choose */
const SHOWN = 12;
const results = [];
for (const scale of options.scales) {
  for (const pool of options.pools) {
    const rows = recorded.has(`${scale} ${pool}`) ? recorded.get(`${scale} ${pool}`)! : await record(scale, pool);
    if (options.record) {
      recorded.set(`${scale} ${pool}`, rows);
      writeFileSync(options.record, JSON.stringify([...recorded].map(([key, r]) => [key, r.map(toJson)])));
    }
    const alone = replay(rows, { minShare: 2, agreement: 2, fuse: 'max' }, chooseSplits);
    const settings = MASK_FUSE_MODES.flatMap((fuse) =>
      MIN_SHARES.flatMap((minShare) => AGREEMENTS.map((agreement) => ({ minShare, agreement, fuse }))),
    ).map((gates) => ({
      scale,
      pool,
      ...gates,
      choose: replay(rows, gates, chooseSplits),
      report: replay(rows, gates, reportSplits),
      alone: replay(rows, { minShare: 2, agreement: 2, fuse: 'max' }, reportSplits),
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
const aloneRows = results.find((r) => r.scale === best.scale && r.pool === best.pool)!.alone;
console.log('\n| tags at the thresholds | precision | recall |\n|---|---|---|');
for (const [what, r] of [
  [`the tagger alone, ${reportSplits.join('+')}`, aloneRows],
  [`combined, ${reportSplits.join('+')}`, best.report],
] as const)
  console.log(`| ${what} | ${r.precision.toFixed(3)} | ${r.recall.toFixed(3)} |`);
console.log(`\n| splits | ${classNames.join(' | ')} |\n|---|${classNames.map(() => '---|').join('')}`);
console.log(`| ${chooseSplits.join('+')} | ${best.choose.aps.map(fixed).join(' | ')} |`);
console.log(`| ${reportSplits.join('+')} | ${best.report.aps.map(fixed).join(' | ')} |`);
console.log(`| ${reportSplits.join('+')}, the tagger alone | ${aloneRows.aps.map(fixed).join(' | ')} |`);
if (options.json) writeFileSync(options.json, `${JSON.stringify(results, null, 2)}\n`);
