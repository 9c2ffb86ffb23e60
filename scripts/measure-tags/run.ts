// One measurement: every image of the chosen splits tagged once (with every mapped label scored: include = the
// mapped labels, topK = their count, minScore 0), each class's presence read from the label PNG, and the
// per-class average precision over the images.
import { readFileSync } from 'node:fs';
import { DEFAULTS, type TagResult } from '../../model/index.ts';
import { presentClasses, type Dataset, type DatasetImage } from './dataset.ts';
import type { Mapping } from './mapping.ts';
import { classScores, scoreClasses, type ImageRow, type Report } from './report.ts';
import type { RequestOptions, Tagger } from './taggers.ts';

export interface Measurement {
  dataset: Dataset;
  splits: string[];
  images: DatasetImage[];
  mapping: Mapping;
  tagger: Tagger;
  /** model, pool, scales as asked for on the command line */
  options: RequestOptions;
  minShare: number;
  concurrency: number;
  progress?: (done: number, total: number) => void;
  /** sees every answer, for scripts that replay more than the scores (measure-tag-models) */
  keep?: (image: DatasetImage, result: TagResult) => void;
}

/** An image that could not be tagged (exit 1), unless the request itself was bad (see TagRequestError). */
export class ImageError extends Error {
  override name = 'ImageError';
  constructor(
    readonly image: string,
    override readonly cause: unknown,
  ) {
    super(`${image}: ${(cause as Error).message}`);
  }
}

async function inParallel<T>(count: number, concurrency: number, work: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await work(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

export async function measure(m: Measurement): Promise<Report> {
  const started = performance.now();
  const classNames = [...m.mapping.classes.keys()];
  const nameOf = new Map(m.dataset.classes.map((c) => [c.id, c.name]));
  const requested: RequestOptions = {
    ...m.mapping.options,
    ...m.options,
    include: m.mapping.labels,
    topK: m.mapping.labels.length,
    minScore: 0,
  };
  let done = 0;
  let first: TagResult | undefined;
  const rows = await inParallel(m.images.length, m.concurrency, async (index): Promise<ImageRow> => {
    const image = m.images[index];
    let result: TagResult;
    let present: Set<number>;
    try {
      present = await presentClasses(readFileSync(image.labelPath), m.dataset, m.minShare);
      result = await m.tagger.tag(readFileSync(image.imagePath), requested);
    } catch (error) {
      throw new ImageError(image.name, error);
    }
    first ??= result;
    m.keep?.(image, result);
    m.progress?.(++done, m.images.length);
    const names = [...present].map((id) => nameOf.get(id)).filter((n) => n !== undefined);
    return {
      name: image.name,
      present: classNames.filter((n) => names.includes(n)),
      scores: classScores(result, m.mapping),
    };
  });
  if (!first) throw new Error('no images to measure');
  const card = await m.tagger.card(first.model.name);
  const { classes, mAP } = scoreClasses(rows, classNames);
  const { include: _include, ...shown } = requested;
  return {
    model: first.model,
    source: m.tagger.source,
    data: { dir: m.dataset.dir, splits: m.splits, images: rows.length, minShare: m.minShare },
    mapping: { file: m.mapping.file, classes: classNames.length, labels: m.mapping.labels.length },
    options: {
      requested: shown,
      pool: m.options.pool ?? card.defaults?.pool ?? DEFAULTS.pool,
      scales: first.plan.scales,
      pad: card.input.pad ?? 'edge',
      shortSide: card.input.shortSide,
    },
    classes,
    mAP,
    seconds: (performance.now() - started) / 1000,
    images: rows,
  };
}
