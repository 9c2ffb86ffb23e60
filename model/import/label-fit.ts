// Fits a labels file to the model's outputs: for TFLite files (TF-Slim classifiers have a background output), a
// labels file one short of the outputs gets a "background" label at 0; a label named "background" becomes the
// card's background id, and --wnids gives ImageNet labels their WordNet ids by position (background skipped).
import { basename } from 'node:path';
import { ImportError } from './import-error.ts';
import { loadLabels, type ImportedLabel } from './labels.ts';

export interface FittedLabels {
  labels: ImportedLabel[];
  background?: number;
  /** what was done, for the card's rewrites */
  notes: string[];
}

const isBackground = (label: ImportedLabel) => label.name.toLowerCase() === 'background';

export function fitLabels(file: string, classes: number, wnidsFile?: string, backgroundFirst = false): FittedLabels {
  let labels = loadLabels(file);
  const notes: string[] = [];
  if (backgroundFirst && labels.length === classes - 1 && !labels.some(isBackground)) {
    labels = [{ name: 'background' }, ...labels];
    notes.push(`${basename(file)} has ${classes - 1} labels for ${classes} outputs: output 0 labelled "background"`);
  }
  if (labels.length !== classes)
    throw new ImportError(`${file} has ${labels.length} labels but the model has ${classes} classes`);
  const found = labels.findIndex(isBackground);
  const background = found >= 0 ? found : undefined;
  if (wnidsFile) {
    const wnids = loadLabels(wnidsFile);
    const named = labels.filter((label) => !isBackground(label));
    if (wnids.length !== named.length || wnids.some((entry) => !entry.wnid))
      throw new ImportError(
        `--wnids ${wnidsFile}: needs ${named.length} entries with WordNet ids (one per non-background label), ` +
          `has ${wnids.length}${wnids.some((entry) => !entry.wnid) ? ' without ids' : ''}`,
      );
    named.forEach((label, i) => (label.wnid = wnids[i].wnid));
    notes.push(`WordNet ids from ${basename(wnidsFile)} by position`);
  }
  return { labels, background, notes };
}
