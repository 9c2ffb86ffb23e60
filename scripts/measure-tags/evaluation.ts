// What one measuring run evaluates: the data set, its chosen splits' images, and the mapping (narrowed to
// --classes when given). Shared by measure-tags and measure-tags-grid.
import { imagesOf, readDataset, type Dataset, type DatasetImage } from './dataset.ts';
import { readMapping, selectClasses, type Mapping } from './mapping.ts';

export interface Evaluation {
  dataset: Dataset;
  splits: string[];
  images: DatasetImage[];
  mapping: Mapping;
}

/** Throws DatasetError or MappingError with the file and field at fault. */
export function readEvaluation(options: { data: string; split: string; map: string; classes?: string }): Evaluation {
  const dataset = readDataset(options.data);
  const splits = options.split.split(',').map((s) => s.trim());
  const images = imagesOf(dataset, splits);
  const mapped = readMapping(
    options.map,
    dataset.classes.map((c) => c.name),
  );
  const names = options.classes?.split(',').map((s) => s.trim());
  return { dataset, splits, images, mapping: names ? selectClasses(mapped, names) : mapped };
}
