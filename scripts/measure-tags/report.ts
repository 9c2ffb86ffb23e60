// What `npm run measure-tags` reports: each image's class scores (the best score of the class's mapped labels),
// per-class average precision over the images, their mean (mAP), and the table printed on stdout.
import type { ModelRef, TagResult } from '../../model/index.ts';
import { averagePrecision, meanOf } from './average-precision.ts';
import type { Mapping } from './mapping.ts';

export interface ImageRow {
  name: string;
  /** evaluated classes present in the image */
  present: string[];
  /** evaluated class -> score */
  scores: Record<string, number>;
}

export interface ClassResult {
  name: string;
  /** null when no image of the split holds the class */
  ap: number | null;
  positives: number;
}

export interface Report {
  model: ModelRef;
  source: string;
  data: { dir: string; splits: string[]; images: number; minShare: number };
  mapping: { file: string; classes: number; labels: number };
  /** the options sent with every request, and what the model's card made of the rest */
  options: { requested: Record<string, unknown>; pool: string; scales: number[]; pad: string; shortSide: number };
  classes: ClassResult[];
  mAP: number | null;
  seconds: number;
  images: ImageRow[];
}

/** Each mapped class's score in one answer: the best score among its labels (0 for a label not returned). */
export function classScores(result: TagResult, mapping: Mapping): Record<string, number> {
  const byLabel = new Map(result.tags.map((t) => [t.label, t.score]));
  return Object.fromEntries(
    [...mapping.classes].map(([name, labels]) => [name, Math.max(...labels.map((l) => byLabel.get(l) ?? 0))]),
  );
}

export function scoreClasses(rows: ImageRow[], classNames: string[]): { classes: ClassResult[]; mAP: number | null } {
  const classes = classNames.map((name) => {
    const positive = rows.map((row) => row.present.includes(name));
    const ap = averagePrecision(
      rows.map((row) => row.scores[name]),
      positive,
    );
    return { name, ap, positives: positive.filter(Boolean).length };
  });
  return { classes, mAP: meanOf(classes.map((c) => c.ap)) };
}

const fixed = (v: number | null) => (v === null ? '-' : v.toFixed(3));

/** The report as a Markdown table, with the model and the options above it. */
export function formatTable(report: Report): string {
  const { model, options, data } = report;
  const lines = [
    `model ${model.name} ${model.version} sha256 ${model.sha256} (${report.source})`,
    `data ${data.dir} ${data.splits.join('+')}: ${data.images} images, a class present from ${data.minShare} ` +
      `of the pixels; mapping ${report.mapping.file}`,
    `options: pad ${options.pad}, short side ${options.shortSide}, pool ${options.pool}, ` +
      `scales ${options.scales.join(',')}`,
    '',
    '| class | AP | images with it |',
    '|---|---|---|',
    ...report.classes.map((c) => `| ${c.name} | ${fixed(c.ap)} | ${c.positives} |`),
    `| **mAP** | **${fixed(report.mAP)}** | ${report.classes.filter((c) => c.ap !== null).length} classes |`,
  ];
  return lines.join('\n');
}
