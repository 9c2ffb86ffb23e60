// Photo tags: a label's cells sum its member classes' probabilities, so several weak breeds make one sure "dog";
// per-label thresholds, minimum coverage, priorities, ignored classes and aliases in include and exclude.
import { describe, expect, it } from 'vitest';
import type { Card } from '../../../model/contract/index.ts';
import type { DenseMap } from '../../../model/runtime/densemap.ts';
import type { CellGrid } from '../../../model/runtime/layout.ts';
import { resolveTag } from '../../../model/runtime/options.ts';
import type { LoadedVocabulary, VocabularyLabel } from '../../../model/runtime/vocabulary.ts';
import { photoTagsFromMap, type PhotoRequest } from '../../../model/tasks/photo-tags.ts';

const NAMES = ['beagle', 'pug', 'collie', 'tabby', 'car', 'web site'];
const card = {
  name: 'toy',
  labels: NAMES.map((name, id) => ({ id, name, parents: id < 3 ? ['dog', 'canine'] : ['thing'] })),
  geometry: { window: 1, stride: 1, offset: 0, exact: true },
  defaults: undefined,
  background: undefined,
} as unknown as Card;

const label = (name: string, members: number[], rest: Partial<VocabularyLabel> = {}): VocabularyLabel => ({
  name,
  categories: ['animal'],
  members,
  threshold: 0,
  priority: 0,
  aliases: [],
  listed: true,
  ...rest,
});
const dog = label('dog', [0, 1, 2], { aliases: ['puppy'], finer: true });
const cat = label('cat', [3], { aliases: ['kitten'] });
const car = label('car', [4], { categories: ['vehicle'] });

/** one row of cells, each 1 px wide and wholly inside a `cols` x 1 image */
const rowGrid = (cols: number): CellGrid => ({
  rows: 1,
  cols,
  originX: 0.5,
  originY: 0.5,
  stepX: 1,
  stepY: 1,
  windowWidth: 1,
  windowHeight: 1,
});
const rowMap = (planes: number[][]): DenseMap => ({
  data: Float32Array.from(planes.flat()),
  classes: planes.length,
  rows: 1,
  cols: planes[0].length,
});

/** Tags for the given labels; every label of `vocabulary` competes for the cells. */
function tags(planes: number[][], labels: VocabularyLabel[], request: Partial<PhotoRequest> = {}, vocabulary = labels) {
  const map = rowMap(planes);
  const photo = { labels, vocabulary: { labels: vocabulary } };
  const full: PhotoRequest = { pool: 'max', topK: 10, minScore: 0, ...request, photo };
  return photoTagsFromMap(map, 'probabilities', rowGrid(map.cols), { width: map.cols, height: 1 }, card.labels, full);
}

// per class, one value per cell; every cell sums to 1
const threeBreeds = [
  [0.2, 0.2],
  [0.2, 0.2],
  [0.2, 0.2],
  [0.3, 0.1],
  [0.1, 0.3],
  [0, 0],
];

describe('photo labels pool their classes', () => {
  it('three breeds at 0.2 make dog 0.6, ahead of a cat at 0.3', () => {
    const [first, second] = tags(threeBreeds, [dog, cat, car]);
    expect(first).toMatchObject({ label: 'dog', categories: ['animal'], parents: ['canine'] });
    expect(first.score).toBeCloseTo(0.6, 6);
    expect(first.classes!.map((c) => c.label)).toEqual(['beagle', 'pug', 'collie']);
    expect(first.classes![0].score).toBeCloseTo(0.2, 6);
    expect(first.finer).toBe('beagle');
    expect(second.label).toBe('cat');
    expect(second.finer).toBeUndefined();
  });

  it('coverage, peak and box come from the summed plane: dog wins both cells though no breed wins one', () => {
    const [first] = tags(threeBreeds, [dog, cat, car]);
    expect(first.coverage).toBe(1);
    expect(first.box).toEqual({ x: 0, y: 0, width: 2, height: 1 });
    const catTag = tags(threeBreeds, [cat], {}, [dog, cat, car])[0];
    expect(catTag.coverage).toBe(0);
    expect(catTag.box).toEqual({ x: 0, y: 0, width: 1, height: 1 });
    expect(tags(threeBreeds, [cat], {}, [cat, car])[0].coverage).toBe(0.5);
  });

  it("mean pooling averages the summed plane's cells", () => {
    const [first, second] = tags(threeBreeds, [dog, cat], { pool: 'mean' });
    expect(first.score).toBeCloseTo(0.6, 6);
    expect(second.score).toBeCloseTo(0.2, 6);
  });

  it("a label's threshold keeps it out below max(minScore, threshold)", () => {
    const strictDog = { ...dog, threshold: 0.7 };
    expect(tags(threeBreeds, [strictDog, cat]).map((t) => t.label)).toEqual(['cat']);
    expect(tags(threeBreeds, [{ ...dog, threshold: 0.5 }, cat], { minScore: 0.65 }).map((t) => t.label)).toEqual([]);
  });

  it('a minimum coverage keeps out a label that wins too few cells', () => {
    const picky = { ...cat, minCoverage: 0.5 };
    expect(tags(threeBreeds, [picky, car], {}, [dog, picky, car]).map((t) => t.label)).toEqual(['car']);
    expect(tags(threeBreeds, [picky, car], {}, [picky, car]).map((t) => t.label)).toEqual(['cat', 'car']);
  });

  it('priority breaks ties between equal scores', () => {
    const tie = [[0.5], [0], [0], [0.5], [0], [0]];
    expect(tags(tie, [label('dog', [0]), label('cat', [3], { priority: 1 })]).map((t) => t.label)).toEqual([
      'cat',
      'dog',
    ]);
  });
});

describe('which photo labels a request may get', () => {
  const vocabulary: LoadedVocabulary = {
    file: 'v.json',
    name: 'toy',
    ignore: new Set([5]),
    labels: [dog, cat, car],
  };
  const lists = { tagsAllow: [], tagsDeny: [] };
  const names = (options: object, more: object = {}) =>
    resolveTag(options, card, 100, { ...lists, vocabulary, ...more }).photo!.labels.map((l) => l.name);

  it('defaults to photo labels when the model has a vocabulary, else to raw classes', () => {
    expect(names({})).toEqual(['dog', 'cat', 'car']);
    expect(resolveTag({}, card, 100, lists)).toMatchObject({ candidates: [0, 1, 2, 3, 4, 5] });
  });

  it('vocabulary=raw gives the raw classes; the ignore list does not apply to them', () => {
    expect(resolveTag({ vocabulary: 'raw' }, card, 100, { ...lists, vocabulary })).toMatchObject({
      candidates: [0, 1, 2, 3, 4, 5],
    });
  });

  it('accepts aliases, in any case, in include and exclude', () => {
    expect(names({ include: ['Puppy', 'car'] })).toEqual(['dog', 'car']);
    expect(names({ exclude: ['kitten'] })).toEqual(['dog', 'car']);
  });

  it("uses each label's threshold unless the request gives minScore", () => {
    const strict: LoadedVocabulary = { ...vocabulary, labels: [{ ...dog, threshold: 0.7 }, cat] };
    const thresholds = (options: object) =>
      resolveTag(options, card, 100, { ...lists, vocabulary: strict }).photo!.labels.map((l) => l.threshold);
    expect(thresholds({})).toEqual([0.7, 0]);
    expect(thresholds({ minScore: 0.2 })).toEqual([0, 0]);
  });

  it('refuses an unknown label, naming some it has', () => {
    expect(() => names({ include: ['unicorn'] })).toThrow(
      'include: the vocabulary of model "toy" has no label "unicorn"; its labels include dog, cat, car',
    );
  });

  it('refuses vocabulary=photo for a model without one', () => {
    expect(() => resolveTag({ vocabulary: 'photo' }, card, 100, lists)).toThrow(
      'vocabulary must be raw for model "toy": its card names no photo vocabulary',
    );
  });

  it("applies the settings' allow and deny lists to photo labels and, through them, to raw classes", () => {
    expect(names({}, { tagsAllow: ['dog', 'car'] })).toEqual(['dog', 'car']);
    expect(names({}, { tagsDeny: ['puppy'] })).toEqual(['cat', 'car']);
    const raw = resolveTag({ vocabulary: 'raw' }, card, 100, { ...lists, vocabulary, tagsDeny: ['dog', 'tabby'] });
    expect(raw.candidates).toEqual([4, 5]);
  });
});
