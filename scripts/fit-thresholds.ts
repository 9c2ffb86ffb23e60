// npm run fit-thresholds -- REPORT.json [--out FILE]: writes scripts/vocabulary/thresholds/MODEL.json (MODEL:
// the report's), photo-label thresholds from a `npm run measure-tags --json` report made with vocabulary photo,
// every threshold at 0, on training splits (never test). Per data-set class, the threshold that maximises
// F(0.5) of "tagged" against "present" (precision weighs more than recall: a tag shown should be right); it goes
// to every label the mapping gives that class. The default is the one threshold that maximises F(0.5) over all
// classes together; a class keeps it unless it has MIN_POSITIVES images and its own threshold gains at least
// MIN_GAIN.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const MIN_POSITIVES = 15;
/** F-beta: beta < 1 favours precision */
const BETA = 0.5;
const MIN_GAIN = 0.05;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { out: { type: 'string' } },
});
if (positionals.length !== 1) {
  console.error('usage: npm run fit-thresholds -- REPORT.json [--out FILE]');
  process.exit(2);
}

interface Report {
  model: { name: string };
  data: { splits: string[] };
  mapping: { file: string };
  options: { requested: Record<string, unknown> };
  images: Array<{ present: string[]; scores: Record<string, number> }>;
}
const report: Report = JSON.parse(readFileSync(positionals[0], 'utf8'));
if (report.data.splits.includes('test')) throw new Error('thresholds are never fitted on the test split');
if (report.options.requested.vocabulary !== 'photo') throw new Error('the report must use vocabulary photo');
const mapping: { classes: Record<string, string[]> } = JSON.parse(readFileSync(report.mapping.file, 'utf8'));

type Sample = { score: number; present: boolean };
const fBeta = (hits: number, tagged: number, positives: number) =>
  ((1 + BETA ** 2) * hits) / (tagged + BETA ** 2 * positives || 1);
const fAt = (samples: Sample[], t: number) => {
  const tagged = samples.filter((s) => s.score >= t);
  const hits = tagged.filter((s) => s.present).length;
  return fBeta(hits, tagged.length, samples.filter((s) => s.present).length);
};

/** The threshold (one of the scores) with the best F-beta, and that F-beta. */
function bestThreshold(samples: Sample[]): { threshold: number; f1: number } {
  const sorted = [...samples].sort((a, b) => b.score - a.score);
  const positives = samples.filter((s) => s.present).length;
  let [hits, best] = [0, { threshold: 1, f1: 0 }];
  sorted.forEach((s, i) => {
    if (s.present) hits++;
    const f1 = fBeta(hits, i + 1, positives);
    if (f1 > best.f1 && (i + 1 === sorted.length || sorted[i + 1].score < s.score)) best = { threshold: s.score, f1 };
  });
  return best;
}

/** Rounded down to two significant digits. */
const round = (t: number) => {
  if (t <= 0) return 0;
  const step = 10 ** (Math.floor(Math.log10(t)) - 1);
  return Number((Math.floor(t / step) * step).toPrecision(2));
};
const samplesOf = (name: string) =>
  report.images.map((image) => ({ score: image.scores[name] ?? 0, present: image.present.includes(name) }));
const classes = Object.keys(mapping.classes);
const overall = bestThreshold(classes.flatMap(samplesOf));
const thresholds: Record<string, number> = { default: round(overall.threshold) };
const lines = [`default ${round(overall.threshold)} (F0.5 ${overall.f1.toFixed(3)} over all classes)`];
for (const name of classes) {
  const samples = samplesOf(name);
  const positives = samples.filter((s) => s.present).length;
  const fit = bestThreshold(samples);
  const atDefault = fAt(samples, thresholds.default);
  const own = positives >= MIN_POSITIVES && fit.f1 - atDefault >= MIN_GAIN;
  const threshold = own ? round(fit.threshold) : thresholds.default;
  for (const label of mapping.classes[name]) thresholds[label] = threshold;
  const fitted = `${fit.f1.toFixed(3)} at ${round(fit.threshold)}`;
  const facts = `${positives} images; F0.5 ${atDefault.toFixed(3)} at the default, ${fitted}`;
  lines.push(`${name}: ${threshold} (${facts})`);
}
const out = values.out ?? path.join(import.meta.dirname, 'vocabulary/thresholds', `${report.model.name}.json`);
writeFileSync(out, `${JSON.stringify(thresholds, null, 2)}\n`);
const about = `${report.model.name}, ${report.data.splits.join('+')}, ${report.images.length} images`;
console.log(`${about} -> ${out}\n${lines.join('\n')}`);
