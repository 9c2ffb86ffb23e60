// A scene-labelled data set as `npm run measure-tags` reads it (MSRC-21's layout in ../shared/data/msrc21):
// classes.json ({labels: [{id, name}], ignore}), splits.json ({split: [image names]}), images/NAME.jpg|png and
// labels/NAME.png (grey, value = class id, `ignore` = void). A class is present in an image when it covers at
// least `minShare` of the image's non-void pixels.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeLabelPng } from '../../model/index.ts';

export class DatasetError extends Error {
  override name = 'DatasetError';
}

export interface Dataset {
  dir: string;
  classes: Array<{ id: number; name: string }>;
  ignore: number;
  splits: Record<string, string[]>;
}

export interface DatasetImage {
  name: string;
  imagePath: string;
  labelPath: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new DatasetError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

export function readDataset(dir: string): Dataset {
  const classes = readJson(path.join(dir, 'classes.json')) as { labels?: Dataset['classes']; ignore?: number };
  const splits = readJson(path.join(dir, 'splits.json')) as Dataset['splits'];
  if (!Array.isArray(classes.labels)) throw new DatasetError(`${dir}/classes.json: no "labels" list`);
  return { dir, classes: classes.labels, ignore: classes.ignore ?? 255, splits };
}

/** The images of the named splits, in split order; an unknown split is a DatasetError naming the known ones. */
export function imagesOf(dataset: Dataset, splits: string[]): DatasetImage[] {
  return splits.flatMap((split) => {
    const names = dataset.splits[split];
    if (!Array.isArray(names)) {
      throw new DatasetError(
        `no split "${split}" in ${dataset.dir}/splits.json (it has ${Object.keys(dataset.splits)})`,
      );
    }
    return names.map((name) => {
      const imagePath = ['jpg', 'png']
        .map((ext) => path.join(dataset.dir, 'images', `${name}.${ext}`))
        .find((file) => existsSync(file));
      if (!imagePath) throw new DatasetError(`${dataset.dir}/images has no ${name}.jpg or .png`);
      return { name, imagePath, labelPath: path.join(dataset.dir, 'labels', `${name}.png`) };
    });
  });
}

/** Ids of the classes covering at least minShare of the label map's non-void pixels. */
export async function presentClasses(labelPng: Buffer, dataset: Dataset, minShare: number): Promise<Set<number>> {
  const { labels } = await decodeLabelPng(labelPng);
  const counts = new Map<number, number>();
  let total = 0;
  for (const id of labels) {
    if (id === dataset.ignore) continue;
    counts.set(id, (counts.get(id) ?? 0) + 1);
    total++;
  }
  return new Set([...counts].filter(([, n]) => total > 0 && n / total >= minShare).map(([id]) => id));
}
