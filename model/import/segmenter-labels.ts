// Fits a segmenter's labels file to its outputs. Segmentation label files list a class per output, sometimes with
// a "background" (or void) entry first that the net does not output (Coral's Cityscapes file: 20 names, 19 classes):
// then that entry is dropped. A label named "background" that is an output becomes the card's background id.
import { basename } from 'node:path';
import { ImportError } from './import-error.ts';
import type { FittedLabels } from './label-fit.ts';
import { loadLabels } from './labels.ts';

const isBackground = (name: string) => name.toLowerCase() === 'background';

export function fitSegmenterLabels(file: string, classes: number): FittedLabels {
  let labels = loadLabels(file, [classes, classes + 1]);
  const notes: string[] = [];
  if (labels.length === classes + 1 && isBackground(labels[0].name)) {
    labels = labels.slice(1);
    notes.push(`${basename(file)} has ${classes + 1} labels for ${classes} outputs: its first, "background", dropped`);
  }
  if (labels.length !== classes)
    throw new ImportError(`${file} has ${labels.length} labels but the model has ${classes} classes`);
  const found = labels.findIndex((label) => isBackground(label.name));
  return { labels, background: found >= 0 ? found : undefined, notes };
}
