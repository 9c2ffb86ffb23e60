// Class names from a text file (one per line), a JSON array of names, or an ImageNet-style index
// ({"0": ["n01440764", "tench"], ...}); names read with underscores as spaces; a text file may end its names at
// a blank line and go on with notes (when the names before it are as many as the model needs).
import { readFileSync } from 'node:fs';
import { ImportError } from './import-error.ts';

export interface ImportedLabel {
  name: string;
  wnid?: string;
  /** the scientific name, when a line reads "Genus species (Common Name)" (iNaturalist's label files) */
  scientific?: string;
}

const clean = (name: string) => name.replace(/_/g, ' ').trim();
const SPECIES_LINE = /^([A-Z][a-z]+(?: [a-z-]+){1,2}) \((.+)\)$/;

/**
 * One line of a text labels file as people write it: "tench, Tinca tinca" is "tench" (the first of its synonyms);
 * "Cyanocitta cristata (Blue Jay)" is "Blue Jay", scientific name kept.
 */
function fromLine(line: string): ImportedLabel {
  const text = clean(line);
  const species = SPECIES_LINE.exec(text);
  if (species) return { name: species[2].trim(), scientific: species[1] };
  return { name: text.split(', ')[0].trim() };
}

function fromIndex(index: Record<string, unknown>, file: string): ImportedLabel[] {
  const entries = Object.entries(index)
    .map(([key, value]) => [Number(key), value] as const)
    .sort((a, b) => a[0] - b[0]);
  return entries.map(([id, value], position) => {
    if (id !== position) throw new ImportError(`${file}: keys must be 0..${entries.length - 1}, found "${id}"`);
    if (typeof value === 'string') return { name: clean(value) };
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string'))
      return { wnid: value[0], name: clean(value[1]) };
    throw new ImportError(`${file}: entry "${id}" must be a name or [wordnet id, name]`);
  });
}

export function loadLabels(file: string, namesBeforeNotes?: number[]): ImportedLabel[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ImportError(`cannot read labels file ${file}: ${(error as Error).message}`);
  }
  let labels: ImportedLabel[];
  if (/^\s*[[{]/.test(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ImportError(`${file} is not valid JSON: ${(error as Error).message}`);
    }
    if (Array.isArray(parsed) && parsed.every((name) => typeof name === 'string'))
      labels = parsed.map((name) => ({ name: clean(name) }));
    else if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      labels = fromIndex(parsed as Record<string, unknown>, file);
    else throw new ImportError(`${file}: expected a JSON array of names or an index object {"0": ..., "1": ...}`);
  } else {
    const lines = text.replace(/\s+$/, '').split(/\r?\n/);
    // notes after a blank line (Coral's VOC labels explain the 255 label there), when the names before it are as
    // many as the model needs; else a blank line is an empty label, an error below
    const blank = lines.findIndex((line) => !line.trim());
    labels = (blank >= 0 && namesBeforeNotes?.includes(blank) ? lines.slice(0, blank) : lines).map(fromLine);
  }
  const empty = labels.findIndex((label) => !label.name);
  if (empty >= 0) throw new ImportError(`${file}: label ${empty} is empty`);
  return labels;
}
