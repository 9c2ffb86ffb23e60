// Vocabulary files: the schema, and the registry's start-up errors naming the file and the field; the bundled
// imagenet vocabulary resolves against its card.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRegistry, vocabularySchema } from '../../model/index.ts';
import { zooModelDir } from './zoo.ts';

const fashion = zooModelDir('fashion');
const fashionCard = JSON.parse(readFileSync(path.join(fashion, 'card.json'), 'utf8'));

let made: string | undefined;
afterEach(() => {
  if (made) rmSync(made, { recursive: true, force: true });
  made = undefined;
});

/** A models folder with one copy of the fashion model whose card names `vocabulary.json` (if given). */
function folderWith(vocabulary: unknown, card: Record<string, unknown> = { vocabulary: 'vocabulary.json' }) {
  made = mkdtempSync(path.join(tmpdir(), 'tagmap-vocabulary-'));
  const dir = path.join(made, 'fashion');
  mkdirSync(dir);
  const labels = fashionCard.labels.map((l: { id: number }) => (l.id === 1 ? { ...l, wnid: 'n04489008' } : l));
  writeFileSync(path.join(dir, 'card.json'), JSON.stringify({ ...fashionCard, labels, ...card }));
  writeFileSync(path.join(dir, 'model.onnx'), readFileSync(path.join(fashion, 'model.onnx')));
  if (vocabulary !== undefined) writeFileSync(path.join(dir, 'vocabulary.json'), JSON.stringify(vocabulary));
  return made;
}

const label = (members: string[], rest: object = {}) => ({ name: 'top', categories: ['clothing'], members, ...rest });
const vocabularyOf = (labels: object[], rest: object = {}) => ({ name: 'v', description: 'test', labels, ...rest });

describe('the vocabulary schema', () => {
  it('fills in threshold, priority, aliases, the ignore list and unlisted classes kept', () => {
    expect(vocabularySchema.parse(vocabularyOf([label(['Shirt'])]))).toEqual({
      ...vocabularyOf([{ ...label(['Shirt']), threshold: 0, priority: 0, aliases: [] }]),
      ignore: [],
      unlisted: 'keep',
    });
  });

  it('refuses an unknown category and a label without members', () => {
    const bad = vocabularySchema.safeParse(vocabularyOf([label(['Shirt'], { categories: ['gadget'] }), label([])]));
    const issues = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues[0]).toMatch(/^labels\.0\.categories\.0: Invalid option: expected one of "animal"\|"plant"/);
    expect(issues.slice(1)).toEqual(['labels.1.members: Too small: expected array to have >=1 items']);
  });

  it('refuses a name or alias used twice, in any case', () => {
    const bad = vocabularySchema.safeParse(
      vocabularyOf([label(['Shirt']), label(['Bag'], { name: 'x', aliases: ['TOP'] })]),
    );
    expect(bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'labels.1.aliases: "TOP" is also a name or alias of label 0 ("top")',
    ]);
  });
});

describe('the registry loads the vocabulary a card names', () => {
  it('resolves members by name or WordNet id, and keeps the other classes under their own names', async () => {
    const dir = folderWith(vocabularyOf([label(['T-shirt/top', 'n04489008'])], { ignore: ['Bag'] }));
    const [entry] = await loadRegistry(dir);
    const labels = entry.vocabulary!.labels;
    expect(labels[0]).toMatchObject({ name: 'top', members: [0, 1], listed: true });
    expect(labels.slice(1).map((l) => l.name)).toEqual([
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Ankle boot',
    ]);
    expect([...entry.vocabulary!.ignore]).toEqual([8]);
  });

  it('fails start-up naming the file and the field of a member that is no class', async () => {
    const dir = folderWith(vocabularyOf([label(['Shirt', 'Hat'])], { ignore: ['n00000001'] }));
    const file = path.join(dir, 'fashion', 'vocabulary.json');
    await expect(loadRegistry(dir)).rejects.toThrow(
      `${file}: ignore.0: "n00000001" is not a class of model fashion; ` +
        'labels.0.members.1: "Hat" is not a class of model fashion; ' +
        `named by ${path.join(dir, 'fashion', 'card.json')} (vocabulary: "vocabulary.json")`,
    );
  });

  it('fails start-up on a schema problem, a class both member and ignored, or a missing file', async () => {
    await expect(loadRegistry(folderWith(vocabularyOf([label(['Shirt'], { threshold: 2 })])))).rejects.toThrow(
      'invalid vocabulary: labels.0.threshold: Too big: expected number to be <=1',
    );
    await expect(loadRegistry(folderWith(vocabularyOf([label(['Shirt'])], { ignore: ['Shirt'] })))).rejects.toThrow(
      'labels.0.members: "Shirt" also in ignore',
    );
    const dir = folderWith(undefined);
    await expect(loadRegistry(dir)).rejects.toThrow(`${path.join(dir, 'fashion', 'vocabulary.json')}: ENOENT`);
  });

  it('checks the bundled imagenet vocabulary against its card: every member and ignored class is a class', async () => {
    made = mkdtempSync(path.join(tmpdir(), 'tagmap-vocabulary-'));
    symlinkSync(zooModelDir('imagenet'), path.join(made, 'imagenet'), 'dir');
    const [entry] = await loadRegistry(made);
    const { labels, ignore } = entry.vocabulary!;
    const listed = labels.filter((l) => l.listed);
    expect(listed.length).toBeGreaterThanOrEqual(100);
    expect(listed.find((l) => l.name === 'dog')!.members).toHaveLength(118);
    expect(ignore.size).toBeGreaterThan(0);
    // every class is in exactly one place: a label, the ignore list, or its own unlisted label
    const counted = labels.flatMap((l) => l.members).length + ignore.size;
    expect(counted).toBe(entry.card.labels.length - (entry.card.background === undefined ? 0 : 1));
  });
});
